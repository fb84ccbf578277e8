"""Render typed rows as CSV, JSON Lines or Parquet, byte-for-byte deterministically.

Text rendering is vectorized with Arrow compute: every field becomes text, fields are
joined into lines, lines into one buffer. Malformed records (rare) arrive as ready-made
lines or Python rows and are spliced in at fixed positions.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion.generator.events import OFFSET_MINUTES, OFFSET_SUFFIXES

_SUFFIXES = np.asarray(OFFSET_SUFFIXES, dtype=object)


def timestamp_text(col: pa.Array, offset: np.ndarray) -> pa.Array:
    """ISO 8601 in each row's own offset, e.g. 2025-03-04T12:00:00+02:00 or ...Z."""
    secs = pc.cast(col, pa.int64())
    local = pc.add(secs, pa.array(OFFSET_MINUTES[offset] * 60, pa.int64()))
    text = pc.strftime(pc.cast(local, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(text, pa.array(_SUFFIXES[offset], pa.string()), "")


def _plain_text(col: pa.Array, offset: np.ndarray) -> pa.Array:
    if pa.types.is_timestamp(col.type):
        return timestamp_text(col, offset)
    return pc.cast(col, pa.string())


def csv_lines(table: pa.Table, offset: np.ndarray) -> pa.Array:
    fields = []
    for col in table.columns:
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        text = _plain_text(col, offset)
        if pa.types.is_string(col.type):
            needs = pc.match_substring_regex(text, r'[",\r\n]|^\s|\s$')
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
            text = pc.if_else(needs, quoted, text)
        fields.append(pc.fill_null(text, ""))
    return pc.binary_join_element_wise(*fields, ",")


def json_lines(table: pa.Table, offset: np.ndarray, keep_null: tuple[str, ...] = ()) -> pa.Array:
    """One JSON object per row. Null contract fields are left out, as exporters do; fields in
    `keep_null` (the extra fields) print an explicit null, so that a row reads the same as in
    CSV or Parquet, where the column is always there."""
    pieces = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        text = _plain_text(col, offset)
        if pa.types.is_string(col.type) or pa.types.is_timestamp(col.type):
            escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
            text = pc.binary_join_element_wise('"', escaped, '"', "")
        if name in keep_null:
            text = pc.fill_null(text, "null")
        pieces.append(pc.binary_join_element_wise(json.dumps(name) + ":", text, ""))
    body = pc.binary_join_element_wise(*pieces, ",", null_handling="skip")
    return pc.binary_join_element_wise("{", body, "}", "")


def lines_to_bytes(lines: pa.Array) -> bytes:
    with_nl = pc.binary_join_element_wise(lines, "\n", "")
    with_nl = pa.concat_arrays([with_nl])  # own, offset-0 buffers
    offsets = np.frombuffer(with_nl.buffers()[1], dtype=np.int32)[: len(with_nl) + 1]
    data = with_nl.buffers()[2]
    return data.to_pybytes()[offsets[0] : offsets[-1]] if len(with_nl) else b""


def export_value(value: object, offset: int) -> object:
    """A Python value as an exporter prints it (for the rare hand-built malformed rows)."""
    if isinstance(value, datetime):
        secs = int(value.timestamp()) + int(OFFSET_MINUTES[offset]) * 60
        text = np.datetime64(secs, "s").astype(str)
        return f"{text}{OFFSET_SUFFIXES[offset]}"
    if isinstance(value, Decimal):
        return str(value)
    return value


def csv_line(values: list[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def json_line(row: dict[str, object], keep_null: tuple[str, ...] = ()) -> str:
    kept = {k: v for k, v in row.items() if v is not None or k in keep_null}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def splice(main: pa.Array, extra: pa.Array, positions: np.ndarray) -> pa.Array:
    """Insert extra[i] before main[positions[i]] (positions sorted, in 0..len(main))."""
    order = np.insert(np.arange(len(main)), positions, len(main) + np.arange(len(extra)))
    return pa.concat_arrays([main, extra.cast(main.type)]).take(pa.array(order))


def write_text(path: Path, header: str | None, lines: pa.Array) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        if header is not None:
            f.write(header.encode() + b"\n")
        f.write(lines_to_bytes(lines))


def write_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed options and a fixed row-group size keep the bytes stable from run to run.
    pq.write_table(
        table,
        path,
        compression="zstd",
        row_group_size=256 * 1024,
        coerce_timestamps="us",
        allow_truncated_timestamps=False,
    )
