"""Reading vendor CSVs whose columns each vendor names its own way, and dating exports.

A field has a list of header names it is recognized by, and a format option may name its
column outright; only the resolved columns are ever read (``read_csv_strict``). A snapshot
export (a roster, a report) says when it was taken in an option or in its file name, never
in its modification time: a copied or re-delivered file would change that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb

from eventlog.sql import quote_ident
from ingestion.adapters.base import Options, SourceShapeError, read_csv_strict

# A date in a file name (roster-2026-03-01.csv, BambooHR_20260301.csv): one separator or none.
_NAME_DATE = re.compile(r"(?<![0-9])(20[0-9]{2})([-_.]?)([01][0-9])\2([0-3][0-9])(?![0-9])")


def header_key(name: str) -> str:
    """A header name as matched: trimmed, lower-cased, runs of whitespace as one space."""
    return " ".join(name.split()).lower()


def resolve_columns(
    path: Path,
    header: list[str],
    aliases: dict[str, tuple[str, ...]],
    options: Options,
    *,
    required: Iterable[str],
    fmt: str,
) -> dict[str, str]:
    """Field → the header name (as in the file) that holds it, for the fields the file has.

    A field named by the format's option (``employee_id=Employee Number``: the option is the
    field's name, spaces as underscores) must be that column; otherwise the field's aliases
    are looked up. A required field that is absent, a named column that is absent, and a
    field that several columns could be, fail the file with a message saying which and how
    to name the column. Shared by the formats whose vendors name columns each their own way.
    """
    by_key: dict[str, list[str]] = {}
    for column in header:
        by_key.setdefault(header_key(column), []).append(column)
    found: dict[str, str] = {}
    missing: list[str] = []
    for field, names in aliases.items():
        option = field.replace(" ", "_")  # the option that names the field's column
        chosen = options.get(option)
        if chosen is not None:
            columns = by_key.get(header_key(chosen), [])
            if not columns:
                missing.append(f"{chosen} ({option}={chosen})")
                continue
        else:
            columns = [c for c in header if header_key(c) in names]  # in the file's order
        if len(columns) > 1:
            raise SourceShapeError(
                f"{path.name}: {field} could be any of the columns {', '.join(columns)}:"
                f" name the one to read with {fmt}:{option}=<column>"
            )
        if columns:
            found[field] = columns[0]
        elif field in required:
            missing.append(f"{field} (one of: {', '.join(names)})")
    if missing:
        unused = [c for c in header if c not in found.values()]
        hint = f"; columns in the file: {', '.join(unused[:15])}" + (", …" if len(unused) > 15 else "")
        raise SourceShapeError(f"{path.name}: missing columns: {'; '.join(missing)}{hint}")
    return found


def read_fields(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, columns: dict[str, str], fields: Iterable[str]
) -> None:
    """Temp ``table``: ``source_line`` and one text column per field, named after the field:
    the resolved column's values, NULL for a field the file lacks. No other column of the
    file is read (read_csv_strict)."""
    raw = f"{table}_raw"
    keys = list(dict.fromkeys(c.strip().lower() for c in columns.values()))
    read_csv_strict(con, path, raw, required=keys)
    read = {f: quote_ident(c.strip().lower()) for f, c in columns.items()}
    selected = ", ".join(f"{read.get(f, 'null::varchar')} as {quote_ident(f)}" for f in fields)
    con.execute(f"create or replace temp table {table} as select source_line, {selected} from {raw}")


def date_in_name(path: Path) -> str | None:
    """The date a file's name carries (``YYYY-MM-DD``, ``YYYY_MM_DD`` or ``YYYYMMDD``); with
    several, the latest (a report's period ends, an export's own date comes last)."""
    dates = []
    for year, _, month, day in _NAME_DATE.findall(path.name):
        try:
            dates.append(date(int(year), int(month), int(day)))
        except ValueError:  # 20261399 is a number, not a date
            continue
    return max(dates).isoformat() if dates else None


def snapshot_time(con: duckdb.DuckDBPyConnection, text: str, tz: str, what: str) -> str:
    """``rl_time`` of an observation time given as an option or a file name, checked here: a
    time that does not parse would quarantine every row of the file."""
    value = con.execute("select try_cast(rl_time(?, ?) as timestamptz)::varchar", [text, tz]).fetchone()[0]
    if value is None:
        raise SourceShapeError(
            f"{what} ({text!r}) is no date or time (e.g. 2026-03-01 or 2026-03-01T06:00:00Z)"
        )
    return value
