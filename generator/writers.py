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
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator.events import OFFSET_MINUTES, OFFSET_SUFFIXES

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


ROW_GROUP_ROWS = 256 * 1024


class FileSink:
    """One landing file, written a chunk of rows at a time. Parquet row groups have a fixed
    size, so chunks of a multiple of it give the same bytes as one write of the whole file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._parquet: pq.ParquetWriter | None = None
        self._text: BinaryIO | None = None

    def __enter__(self) -> FileSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write_table(self, table: pa.Table) -> None:
        if self._parquet is None:
            # Fixed options keep the bytes stable from run to run.
            self._parquet = pq.ParquetWriter(
                self.path,
                table.schema,
                compression="zstd",
                coerce_timestamps="us",
                allow_truncated_timestamps=False,
            )
        self._parquet.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def write_lines(self, header: str | None, lines: pa.Array) -> None:
        if self._text is None:
            self._text = self.path.open("wb")
            if header is not None:
                self._text.write(header.encode() + b"\n")
        self._text.write(lines_to_bytes(lines))

    def __exit__(self, *exc: object) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.close()
