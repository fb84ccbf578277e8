"""Writing vendor files: every row rendered once as a text line (Arrow or DuckDB, never a
Python loop over rows), lines cut into files, exact duplicates placed where exports repeat
rows, times printed as vendors print them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def seconds(col: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds of a timestamp column."""
    return pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False)


def strftime(secs: np.ndarray, fmt: str) -> pa.Array:
    """Epoch seconds printed in UTC with ``fmt`` (e.g. ``%Y-%m-%dT%H:%M:%SZ``)."""
    stamps = pa.array(np.asarray(secs, dtype=np.int64), pa.int64()).cast(pa.timestamp("s"))
    return pc.strftime(stamps, format=fmt)


def iso_z(secs: np.ndarray) -> pa.Array:
    return strftime(secs, "%Y-%m-%dT%H:%M:%SZ")


def month_key(secs: np.ndarray) -> pa.Array:
    return strftime(secs, "%Y-%m")


def with_duplicates(lines: pa.Table, rng: np.random.Generator, count: int) -> pa.Table:
    """``lines`` (``file``, ``order``, ``line``) plus ``count`` exact copies of random lines:
    half repeated within their file, half in the next file (an overlapping export repeats what
    the one before had), each at a random place among that file's lines."""
    n = lines.num_rows
    if n == 0 or count == 0:
        return lines
    pick = rng.choice(n, min(count, n), replace=False)
    files = lines["file"].to_numpy(zero_copy_only=False).astype(object)
    names = np.unique(files)
    here = np.searchsorted(names, files[pick])
    across = (np.arange(len(pick)) % 2 == 1) & (len(names) > 1)
    there = np.where(across, np.where(here + 1 < len(names), here + 1, here - 1), here)
    order = lines["order"].to_numpy()
    copies = pa.table(
        {
            "file": pa.array(names[there], pa.string()),
            "order": pa.array(rng.uniform(order.min(), order.max() + 1, len(pick))),
            "line": lines["line"].take(pa.array(pick)),
        }
    )
    return pa.concat_tables([lines.select(["file", "order", "line"]).cast(copies.schema), copies])


def csv_text(table: pa.Table) -> pa.Array:
    """One CSV line per row of a table (values as text), quoted where a value needs it."""
    fields = []
    for col in table.columns:
        text = pc.fill_null(col.combine_chunks().cast(pa.string()), "")
        needs = pc.match_substring_regex(text, r'[",\r\n]|^\s|\s$')
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        fields.append(pc.if_else(needs, quoted, text))
    return pc.binary_join_element_wise(*fields, ",")


def write_files(
    root: Path,
    lines: pa.Table,
    *,
    header: str | None = None,
    frame: Callable[[str, bytes], bytes] | None = None,
) -> dict[str, int]:
    """Write ``lines`` (``file``: a path under root, ``order``, ``line``) as one file per
    ``file``, its lines in ``order`` (ties as given), its text passed through
    ``frame(relpath, text)`` (a preamble, a byte-order mark, CRLF line ends). Returns the
    lines written per file."""
    if lines.num_rows == 0:
        return {}
    codes = pc.dictionary_encode(lines["file"].combine_chunks()).indices.to_numpy()
    order = np.lexsort((lines["order"].to_numpy(), codes))
    lines, codes = lines.take(pa.array(order)), codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    names = lines["file"].combine_chunks().take(pa.array(starts)).to_pylist()
    # Every line with its newline in one buffer: a file's text is a slice of it.
    text = pa.concat_arrays(
        [pc.binary_join_element_wise(lines["line"].combine_chunks(), "\n", "").cast(pa.large_string())]
    )
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[: len(text) + 1]
    data = memoryview(text.buffers()[2])
    head = b"" if header is None else header.encode() + b"\n"
    written, made = {}, set()
    for rel, a, b in zip(names, starts, ends, strict=True):  # per file, not per row
        body = head + bytes(data[offsets[a] : offsets[b]])
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(frame(rel, body) if frame else body)
        written[rel] = int(b - a)
    return written
