"""Read one landing file into a uniform temporary table, set-based in DuckDB.

Every reader creates the temp table ``_in`` with:
  source_line  BIGINT   line (CSV, JSON Lines) or row number (Parquet), 1-based
  raw          VARCHAR  the record as read, for quarantine (PII is masked later); or a STRUCT
                        of the record's columns, made JSON text only for the records that
                        are quarantined (read_into_temp returns True then)
  parse_error  VARCHAR  why the record could not be read at all, else NULL
  <field>      VARCHAR  one column per contract field, NULL when absent
  extra        VARCHAR  unknown fields as a JSON object, NULL when there are none

Values stay text here, except a Parquet column already of its field's contract type (a
timestamp, an integer): it keeps that type, and ``validation`` skips the text round trip for it
(to text and parsed back, it gives the same value). Checks happen once, in ``validation``,
whatever the format.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.contract import EventType
from eventlog.sql import quote_ident, quote_str

# Text formats are also read compressed with gzip or zstd (DuckDB decompresses them as it
# reads, told by the suffix).
COMPRESSIONS = ("", ".gz", ".zst")
CSV_SUFFIXES = tuple(s + c for s in (".csv", ".tsv") for c in COMPRESSIONS)
JSON_SUFFIXES = tuple(s + c for s in (".jsonl", ".ndjson", ".json") for c in COMPRESSIONS)
PARQUET_SUFFIXES = (".parquet",)
# Files only a vendor format reads: the contract has no spreadsheet form.
VENDOR_ONLY_SUFFIXES = (".xlsx",)
# Files that look like data but are not read, and what to do instead.
UNREAD_SUFFIXES = {
    ".zip": "a .zip archive is not read: unpack its file into the landing folder (or gzip it)",
    ".bz2": "bzip2 is not read: recompress the file with gzip or zstd (.gz, .zst)",
    ".xz": "xz is not read: recompress the file with gzip or zstd (.gz, .zst)",
    ".xls": "the old Excel format is not read: save the sheet as .xlsx or .csv",
    ".txt": "a .txt file is not read: name a CSV .csv (or .tsv) and JSON Lines .jsonl",
}


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for fmt, suffixes in (
        ("csv", CSV_SUFFIXES),
        ("jsonl", JSON_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return fmt
    return None


def read_into_temp(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, et: EventType, name: str = "_in",
    *, typed: bool = True,
) -> bool:
    """Create the view ``name`` (``_in``) from the file; True if its ``raw`` is a STRUCT rather
    than text. Helper tables of the view are named after it (``_csv`` for ``_in``, ``_csv_3``
    for ``_in_3``), so that several files can be read side by side. ``typed=False``: every
    field as text (files of several formats read into one union)."""
    con.execute(f"drop view if exists {name}")
    if fmt == "parquet":
        return _read_parquet(con, path, et, name, typed_ok=typed)
    readers = {"csv": _read_csv, "jsonl": _read_jsonl}
    return readers[fmt](con, path, et, name)


def _field_columns(present: dict[str, str], et: EventType, typed: frozenset[str] = frozenset()) -> str:
    """Select list mapping the file's columns (by case-insensitive name) onto the contract;
    the fields in ``typed`` keep their column's type (already the contract's)."""
    cols = []
    for name in et.names:
        source = present.get(name)
        if source and name in typed:
            expr = quote_ident(source)
        else:
            expr = f"cast({quote_ident(source)} as varchar)" if source else "null::varchar"
        cols.append(f"{expr} as {quote_ident(name)}")
    return ", ".join(cols)


def _extra_column(present: dict[str, str], et: EventType) -> str:
    """Unknown columns packed into one JSON object, so they are kept, not dropped."""
    unknown = [src for key, src in present.items() if key not in et.names]
    if not unknown:
        return "null::varchar as extra"
    pairs = ", ".join(f"{quote_str(c)}, {quote_ident(c)}" for c in unknown)
    return f"{_without_nulls(f'json_object({pairs})')} as extra"


def _without_nulls(json_object: str) -> str:
    """A null field and an absent one are the same fact, whatever the format wrote: drop
    null members (merging into an empty object does) and keep no empty object."""
    return f"nullif(json_merge_patch('{{}}', {json_object})::varchar, '{{}}')"


def _raw_column(present: dict[str, str], *, text: bool = False) -> str:
    # Keys are the normalized names, so that validation can mask PII fields in it by name.
    # A struct costs nothing per record; validation makes JSON text of it (the same text as
    # json_object) only for a quarantined record.
    pairs = ", ".join(f"{quote_ident(key)} := {quote_ident(src)}" for key, src in present.items())
    return f"to_json(struct_pack({pairs}))::varchar as raw" if text else f"struct_pack({pairs}) as raw"


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, et: EventType, name: str) -> bool:
    delim = "\t" if path.name.lower().removesuffix(".gz").removesuffix(".zst").endswith(".tsv") else ","
    csv, rej, rej_scan = (f"{t}{name.removeprefix('_in')}" for t in ("_csv", "_rej", "_rej_scan"))
    source = (
        f"read_csv({quote_str(str(path))}, all_varchar=true, header=true, delim={quote_str(delim)},"
        f" quote='\"', escape='\"', store_rejects=true, rejects_table='{rej}',"
        f" rejects_scan='{rej_scan}')"
    )
    con.execute(f"drop table if exists {rej}; drop table if exists {rej_scan}")
    con.execute(f"create or replace temp table {csv} as select * from {source}")
    columns = [row[0] for row in con.execute(f"select name from pragma_table_info('{csv}')").fetchall()]
    present = {c.strip().lower(): c for c in columns}
    rejected = _rejected_lines(con, rej)
    if not rejected:
        con.execute(
            f"""
            create temp view {name} as
            select row_number() over () + 1 as source_line, {_raw_column(present)},
                   null::varchar as parse_error, {_field_columns(present, et)}, {_extra_column(present, et)}
            from {csv}
            """
        )
        return True
    # The CSV reader reports exact lines only for rejected records; good records are numbered
    # over the remaining lines (exact unless a record spans lines or the file has blank lines).
    con.execute(
        f"""
        create temp view {name} as
        with good as (
            select row_number() over () as k, * from {csv}
        ),
        lines as (
            select range as line from range(2, 2 + (select count(*) from {csv}) + {len(rejected)})
            where range not in (select line from {rej}_lines)
        ),
        numbered as (select line, row_number() over (order by line) as k from lines)
        select numbered.line as source_line, {_raw_column(present, text=True)}, null::varchar as parse_error,
               {_field_columns(present, et)}, {_extra_column(present, et)}
        from good join numbered using (k)
        union all
        select line, {_masked_csv_line(columns, et, delim)}, error,
               {", ".join(f"null::varchar as {quote_ident(n)}" for n in et.names)},
               null::varchar
        from {rej}_lines
        """
    )
    return False


def _pii_names(et: EventType) -> list[str]:
    return [f.name for f in et.fields if f.pii]


def _masked_csv_line(columns: list[str], et: EventType, delim: str) -> str:
    """A broken CSV line has no reliable fields, but PII columns are masked by their position
    in the header (quoting aside), so that no clear-text PII reaches the quarantine."""
    pii = [i + 1 for i, c in enumerate(columns) if c.strip().lower() in _pii_names(et)]
    if not pii:
        return "csv_line"
    positions = ", ".join(map(str, pii))
    return (
        f"array_to_string(list_transform(string_split(csv_line, {quote_str(delim)}),"
        f" lambda x, i: case when i in ({positions}) then '<pii>' else x end), {quote_str(delim)})"
    )


def _masked_json_text(et: EventType) -> str:
    """A line that is not valid JSON: mask the values of PII keys where they can be seen."""
    pii = _pii_names(et)
    if not pii:
        return "raw"
    # the value may be cut short by the break itself: mask up to its closing quote or the end
    pattern = '(?i)"(' + "|".join(pii) + ')"\\s*:\\s*"[^"]*"?'
    return f"regexp_replace(raw, {quote_str(pattern)}, '\"\\1\": \"<pii>\"', 'g')"


def _rejected_lines(con: duckdb.DuckDBPyConnection, rej: str) -> list[int]:
    con.execute(
        f"""
        create or replace temp table {rej}_lines as
        select line, any_value(csv_line) as csv_line,
               -- the CSV reader can report one broken line once per column: keep the first
               arg_min(error_type || ': ' || error_message, column_idx) as error
        from {rej} group by line
        """
    )
    return [r[0] for r in con.execute(f"select line from {rej}_lines").fetchall()]


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, et: EventType, name: str) -> bool:
    # Read lines as text so that one broken line is quarantined, not the whole file, and
    # every record keeps its exact line number.
    # The lines are stored first, in file order, then numbered: numbered as they are read,
    # everything that follows ran on one thread.
    lines = f"_lines{name.removeprefix('_in')}"
    con.execute(
        f"create or replace temp table {lines} as select raw from"
        f" read_csv({quote_str(str(path))}, columns={{'raw': 'VARCHAR'}}, header=false,"
        " delim=E'\\x01', quote='', escape='', auto_detect=false)"
    )
    known = "{" + ", ".join(f'"{n}": null' for n in et.names) + "}"
    names = "[" + ", ".join(quote_str(n) for n in et.names) + "]"
    # Every field in one parse of the object (a path per field would parse it once each).
    paths = "[" + ", ".join(quote_str("$." + quote_ident(n)) for n in et.names) + "]"
    fields = ", ".join(f"v[{i}] as {quote_ident(n)}" for i, n in enumerate(et.names, 1))
    con.execute(
        f"""
        create temp view {name} as
        with lines as (
            select row_number() over () as source_line, raw from {lines}
        ),
        -- (CASE evaluates its branches only for the rows that need them: a line starting with
        -- '{{' is neither blank nor needs its left side trimmed.)
        checked as (
            select *, coalesce(json_valid(raw) and case when starts_with(raw, '{{') then true
                                                        else ltrim(raw) like '{{%' end, false) as ok
            from lines where case when starts_with(raw, '{{') then true else trim(raw) <> '' end
        ),
        -- Extract only from valid objects: JSON functions raise on malformed text.
        keyed as (select *, case when ok then json_keys(raw) end as keys from checked),
        -- Field names match whatever their case and spacing, as in the CSV and Parquet
        -- readers: else "Email" would slip past pseudonymization into extra, in clear text.
        -- A record whose names are all contract fields as written (most) needs neither that
        -- nor an extra.
        objects as (
            select *, ok and not list_has_all({names}, keys) as other_names, case
                when not ok or list_has_all({names}, keys) then case when ok then raw end
                when len(list_filter(keys, lambda k: k <> lower(trim(k)))) > 0
                then to_json(map_from_entries(list_transform(
                         map_entries(cast(raw::json as map(varchar, json))),
                         lambda e: {{'key': lower(trim(e.key)), 'value': e.value}})))::varchar
                else raw end as obj
            from keyed
        ),
        extracted as (select *, json_extract_string(obj, {paths}) as v from objects)
        select source_line, case when ok then obj else {_masked_json_text(et)} end as raw,
               case when not ok then 'not a JSON object' end as parse_error,
               {fields},
               case when other_names
                    then {_without_nulls(f"json_merge_patch(obj, {quote_str(known)})")} end as extra
        from extracted
        """
    )
    return False


def _read_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, et: EventType, name: str, typed_ok: bool = True
) -> bool:
    source = f"read_parquet({quote_str(str(path))}, file_row_number=true)"
    described = dict(
        con.execute(f"select column_name, column_type from (describe select * from {source})").fetchall()
    )
    described.pop("file_row_number")
    present = {c.strip().lower(): c for c in described}
    types = {name: described[column] for name, column in present.items()}
    typed = et.fields_of_own_type(types) if typed_ok else frozenset()
    con.execute(
        f"""
        create temp view {name} as
        select file_row_number + 1 as source_line, {_raw_column(present)},
               null::varchar as parse_error,
               {_field_columns(present, et, typed)}, {_extra_column(present, et)}
        from {source}
        """
    )
    return True
