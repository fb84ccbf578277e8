"""Reading the table on one sheet of a vendor's XLSX workbook into DuckDB, strictly.

Spreadsheet exports (LinkedIn's creator analytics, …) put several tables in one workbook, one
per sheet, often under a title row or two, and name the sheets differently between versions.
A sheet is therefore found by its header row, not by its position, and only the documented
columns of it are read (the rest may hold PII that no rule here pseudonymizes), as
``read_csv_strict`` does for CSV.

openpyxl reads the workbook row by row into an Arrow table of text (a binary format has no
set-based reader in DuckDB here); every mapping happens afterwards, in SQL.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from eventlog.sql import quote_ident
from ingestion.adapters.base import SourceShapeError

XLSX_SUFFIXES = (".xlsx",)
# A header row sits at most this far down (below a title, a date range, a blank line).
HEADER_SCAN_ROWS = 10


@dataclass(frozen=True)
class Sheet:
    """A sheet and its header row, as found."""

    name: str
    header_row: int | None  # 1-based row number; None: no row has the anchor column
    header: tuple[str | None, ...]  # trimmed, lower-cased header cells (None for empty ones)

    def has(self, columns: Iterable[str]) -> bool:
        return set(columns) <= set(self.header)


def is_xlsx(path: Path) -> bool:
    return path.name.lower().endswith(XLSX_SUFFIXES)


def sheets(path: Path, anchor: str) -> list[Sheet]:
    """Every sheet of the workbook with its header row: the first row, within the first
    HEADER_SCAN_ROWS, that has a cell reading ``anchor`` (trimmed, case-insensitive)."""
    workbook = _open(path)
    try:
        found = []
        for ws in workbook.worksheets:
            header_row, header = None, ()
            rows = ws.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)
            for number, row in enumerate(rows, start=1):
                cells = tuple(_header_name(c) for c in row)
                if anchor in cells:
                    header_row, header = number, cells
                    break
            found.append(Sheet(ws.title, header_row, header))
        return found
    finally:
        workbook.close()


def has_table(path: Path, anchor: str, columns: Iterable[str]) -> bool:
    """Has this workbook a sheet whose header has all these columns? For detection."""
    if not is_xlsx(path):
        return False
    try:
        return any(s.has(columns) for s in sheets(path, anchor))
    except SourceShapeError:
        return False


def choose_sheet(
    path: Path,
    *,
    anchor: str,
    marker: Iterable[str],
    required: Iterable[str],
    name: str | None = None,
) -> Sheet:
    """The sheet holding the table. With ``name``: that sheet (trimmed, case-insensitive).
    Else the first sheet whose header has every required column, else the first whose header
    has the ``marker`` columns (so that reading it fails naming what it lacks). A workbook
    without one fails naming the sheets it has and what was looked for."""
    marker, required = tuple(marker), tuple(required)
    found = sheets(path, anchor)
    listed = ", ".join(repr(s.name) for s in found)
    if name is not None:
        named = [s for s in found if s.name.strip().lower() == name.strip().lower()]
        if not named:
            raise SourceShapeError(f"{path.name}: no sheet named {name!r} (sheets: {listed})")
        if named[0].header_row is None:
            raise SourceShapeError(
                f"{path.name}: sheet {named[0].name!r} has no header row with a {anchor!r} column"
                f" in its first {HEADER_SCAN_ROWS} rows"
            )
        return named[0]
    complete = [s for s in found if s.has(required)]
    partial = [s for s in found if s.has(marker)]
    if complete or partial:
        return (complete or partial)[0]
    raise SourceShapeError(
        f"{path.name}: no sheet with a header row (in its first {HEADER_SCAN_ROWS} rows) holding the"
        f" columns {', '.join(marker)}; sheets: {listed}"
    )


def read_sheet_strict(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sheet: Sheet,
    table: str,
    *,
    required: Iterable[str],
    optional: Iterable[str] = (),
) -> set[str]:
    """Read the rows below ``sheet``'s header into temp ``table``: ``source_line`` (the sheet's
    row number) and the required and optional columns as text under their lower-cased, trimmed
    header names (an optional column the sheet lacks is NULL). Rows empty in every column read
    are no records and are left out.

    Fails naming the missing columns (and the unexpected ones, a hint at a renamed column), or
    a column that the header names twice. Returns the optional columns the sheet has.
    """
    required, optional = list(required), list(optional)
    position = _positions(path, sheet, required, optional)
    names = required + optional
    columns: dict[str, list] = {"source_line": [], **{c: [] for c in names}}
    workbook = _open(path)
    try:
        rows = workbook[sheet.name].iter_rows(min_row=sheet.header_row + 1, values_only=True)
        for number, row in enumerate(rows, start=sheet.header_row + 1):
            values = [_cell(row, position.get(c)) for c in names]
            if any(v is not None for v in values):
                columns["source_line"].append(number)
                for c, v in zip(names, values, strict=True):
                    columns[c].append(v)
    finally:
        workbook.close()
    import pyarrow as pa

    arrow = pa.table(
        {"source_line": pa.array(columns["source_line"], pa.int64()),
         **{c: pa.array(columns[c], pa.string()) for c in names}}
    )
    view = f"{table}_arrow"
    # register() refuses to run while a result of execute() is partly read (fetchone); a
    # statement read to its end closes any such result first.
    con.execute("select 1").fetchall()
    con.register(view, arrow)
    try:
        con.execute(f"create or replace temp table {table} as select * from {quote_ident(view)}")
    finally:
        con.unregister(view)
    return {c for c in optional if c in position}


def _positions(path: Path, sheet: Sheet, required: list[str], optional: list[str]) -> dict[str, int]:
    """Column index of every required and present optional column in the sheet's header."""
    header = sheet.header
    missing = [c for c in required if c not in header]
    if missing:
        unexpected = [c for c in header if c is not None and c not in required and c not in optional]
        hint = f"; unexpected: {', '.join(dict.fromkeys(unexpected))}" if unexpected else ""
        raise SourceShapeError(
            f"{path.name}: sheet {sheet.name!r} is missing columns: {', '.join(missing)}{hint}"
        )
    twice = [c for c in required + optional if header.count(c) > 1]
    if twice:
        from openpyxl.utils import get_column_letter

        where = "; ".join(
            f"{c} in columns {', '.join(get_column_letter(i + 1) for i, h in enumerate(header) if h == c)}"
            for c in twice
        )
        raise SourceShapeError(f"{path.name}: sheet {sheet.name!r} names a column twice: {where}")
    return {c: header.index(c) for c in required + optional if c in header}


def _open(path: Path):
    # openpyxl and pyarrow are imported where a workbook is read: every reachloop command
    # imports the adapters (land's --help lists them), and the two cost most of a second.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceShapeError(f"{path.name}: not a readable XLSX workbook ({exc})") from None


def _cell(row: tuple, index: int | None) -> str | None:
    """The text of a row's cell at index (None for a column the sheet lacks, or a row that
    ends before it: read-only sheets give each row only as far as its last cell)."""
    return _text(row[index]) if index is not None and index < len(row) else None


def _header_name(cell: object) -> str | None:
    text = _text(cell)
    return " ".join(text.lower().split()) if text is not None else None


def _text(cell: object) -> str | None:
    """A cell as the text a CSV export would hold: whole numbers without a decimal part (Excel
    stores every number as a float), dates in ISO 8601, empty text as NULL."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    text = str(cell).strip()
    return text or None
