"""Land files into the event log: read, check, pseudonymize, append — one transaction per file
(consecutive small files of one event type share one: each lands whole or not at all, in order).

A file is identified by its checksum: landing it again is a no-op. Within a file and against
the log, a record whose content (hence event key) was already landed is an exact duplicate,
counted and skipped. A record that breaks the contract goes to ``meta.quarantine`` with its
line, masked raw text and reason, while the good records beside it land. Each file's ledger
row reconciles: rows_read = rows_landed + rows_duplicate + rows_quarantined + rows_erased
(records naming a person erased before, dropped before they land: ingestion/erasure.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from eventlog.batches import LATEST_DECISION_SQL
from eventlog.contract import BOOKKEEPING_COLUMNS, EVENT_TYPES, VARCHAR, EventType, did_you_mean, raw_table
from eventlog.errors import ReachloopError
from eventlog.faults import (
    WAREHOUSE_RECOVERY,
    DamagedFile,
    DiskFull,
    damaged,
    disk_full,
    is_damage,
    is_disk_full,
)
from eventlog.sql import quote_ident, quote_idents, quote_str
from ingestion.erasure import drop_erased, install_erasure_keys
from ingestion.pseudonymize import install_macro, install_unparsed_mask, scrub_text
from ingestion.readers import UNREAD_SUFFIXES, VENDOR_ONLY_SUFFIXES, file_format, read_into_temp
from ingestion.validation import check_into_temp


@dataclass
class FileResult:
    path: str
    event_type: str | None
    # landed | skipped (already landed, or not read: a symlink, an empty or unsupported file;
    # message says which) | unknown_type, rejected (shape), failed (could not be read): not landed
    status: str
    batch_id: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    message: str = ""
    rows_erased: int = 0  # records naming an erased person: dropped, never landed

    def as_dict(self) -> dict:
        return asdict(self)


def event_type_for(path: Path, root: Path) -> str:
    """``click.csv``, ``share_metrics-2026-03.jsonl`` → the name up to its first - or .;
    a file whose own name is no event type takes the name of the folder holding it."""
    from_name = re.split(r"[-.]", path.name, maxsplit=1)[0].lower()
    if from_name in EVENT_TYPES:
        return from_name
    if path.parent != root or path.parent.name.lower() in EVENT_TYPES:
        return path.parent.name.lower()
    return from_name


def landing_files(root: Path, skipped: list[FileResult] | None = None) -> Iterator[Path]:
    """Landable files under root, in a stable order. Names starting with ``_`` or ``.``
    (``_SUCCESS``, ``.part`` files, ``_ground_truth/``) are not data, as in Hive and Spark.

    Landing reads only what it was given: a symlink under root (to a file or a folder) is not
    followed, wherever it points. Every other file that does not land (names starting with
    ``_`` or ``.`` aside) is named, with why, in ``skipped`` (when given): a symlink, an empty
    file, an unsupported type (a ``.txt``, a ``.zip``)."""
    if root.is_file():  # named by the operator: read even if it is a symlink
        yield root
        return
    found: list[Path] = []
    said: list[FileResult] = []

    def skip(path: Path, why: str) -> None:
        said.append(FileResult(str(path), None, "skipped", message=why))

    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                skip(here / name, "a symlink to a folder: not followed")
                dirs.remove(name)
            elif name.startswith(("_", ".")):
                dirs.remove(name)
        for name in files:
            path = here / name
            if name.startswith(("_", ".")):
                continue  # markers and partial files (_SUCCESS, .part): not data, as in Spark
            if path.is_symlink():
                skip(path, "a symlink: not followed")
            elif not (file_format(path) or name.lower().endswith(VENDOR_ONLY_SUFFIXES)):
                skip(path, UNREAD_SUFFIXES.get(path.suffix.lower(), NOT_A_LANDING_FILE))
            elif path.stat().st_size == 0:
                skip(path, "an empty file")
            else:
                found.append(path)
    if skipped is not None:
        skipped.extend(sorted(said, key=lambda r: r.path))
    yield from sorted(found)


NOT_A_LANDING_FILE = (
    "not a landing file type (.csv, .tsv, .jsonl, .ndjson, .json, .parquet, .xlsx; text ones"
    " also as .gz or .zst)"
)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def land_path(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    key: bytes,
    *,
    on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Land every file under root (or root itself, if it is a file)."""
    if not root.exists():
        raise ReachloopError(f"nothing to land: {root} does not exist")
    prepare(con, key)
    base = root if root.is_dir() else root.parent
    results: list[FileResult] = []
    skipped: list[FileResult] = []
    contract_files = [p for p in landing_files(root, skipped) if file_format(p)]
    landed = land_files(con, [(path, event_type_for(path, base)) for path in contract_files])
    for result in [*skipped, *landed]:
        results.append(shown(con, result))
        if on_file:
            on_file(result)
    return results


def shown(con: duckdb.DuckDBPyConnection, result: FileResult) -> FileResult:
    """A result as it is printed and logged: PII-shaped parts of its path and message (a file
    named after a person, a line quoted by an error) scanned like landed text."""
    result.path = scrub_text(con, result.path)
    result.message = scrub_text(con, result.message) if result.message else result.message
    return result


def failed(path: Path, et_name: str | None, exc: Exception) -> FileResult:
    """A file that could not be read or landed: said, and the next one tried."""
    message = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return FileResult(str(path), et_name, "failed", message=message)


# What can go wrong landing one file that leaves the others landable: its bytes (unreadable,
# not the format its name says), the file system (permissions, gone meanwhile).
FILE_ERRORS = (ReachloopError, OSError, duckdb.Error)
# What stops the whole run instead: the machine's faults, which every next file would meet too.
MACHINE_FAULTS = (DiskFull, DamagedFile)


def _land_one(con: duckdb.DuckDBPyConnection, path: Path, et: EventType) -> FileResult:
    try:
        return land_file(con, path, et)
    except MACHINE_FAULTS:
        raise
    except FILE_ERRORS as exc:
        return failed(path, et.name, exc)


# Small files land several to a transaction: consecutive files of one event type, read side by
# side and checked, deduplicated and appended by one statement each. Their cost is mostly per
# statement, not per row (planning the check of a small file takes longer than running it).
SMALL_FILE_BYTES = 8 << 20
GROUP_BYTES = 32 << 20
GROUP_FILES = 64


def land_files(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str]]) -> Iterator[FileResult]:
    """Land (path, event type name) in order; a result per file, in the same order."""
    group: list[tuple[Path, int]] = []
    group_type = ""
    for path, et_name in files:
        if et_name not in EVENT_TYPES:
            yield from _land_group(con, group, group_type)
            group = []
            yield FileResult(
                str(path), et_name, "unknown_type",
                message=f"unknown event type {et_name!r}{did_you_mean(et_name)}: "
                "name the file or its folder after one",
            )
            continue
        try:
            size = path.stat().st_size
        except OSError as exc:
            yield failed(path, et_name, exc)
            continue
        if group and (
            et_name != group_type
            or size > SMALL_FILE_BYTES
            or len(group) >= GROUP_FILES
            or sum(s for _, s in group) + size > GROUP_BYTES
        ):
            yield from _land_group(con, group, group_type)
            group = []
        if size > SMALL_FILE_BYTES:
            yield _land_one(con, path, EVENT_TYPES[et_name])
        else:
            group.append((path, size))
            group_type = et_name
    yield from _land_group(con, group, group_type)


def prepare(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Before landing on this connection: the pseudonym macro, and the log brought to the
    current layout."""
    install_macro(con, key)
    install_unparsed_mask(con, unparsed_vocabulary())
    migrate_log(con)
    install_erasure_keys(con, key)


def unparsed_vocabulary() -> list[str]:
    """Words a record that could not be parsed keeps in quarantine: the contract's field names
    and enumeration values (they name no one), and JSON's literals."""
    words = {"true", "false", "null"}
    for et in EVENT_TYPES.values():
        words.add(et.name)
        for f in et.fields:
            words.add(f.name)
            words.update(f.allowed)
    return sorted(words)


def migrate_log(con: duckdb.DuckDBPyConnection) -> None:
    """Raw tables of a warehouse created before content_hash was an integer: convert the MD5
    hex text to the same digest as md5_number() gives it (its bytes, little-endian), so that
    the log's hashes and new ones compare."""
    old = con.execute(
        "select table_name from duckdb_columns()"
        " where schema_name = 'raw' and column_name = 'content_hash' and data_type = 'VARCHAR'"
    ).fetchall()
    for (name,) in old:
        con.execute(
            f"alter table {raw_table(name)} alter content_hash set data type uhugeint"
            f" using {md5_hex_to_number('content_hash')}"
        )


def md5_hex_to_number(hex_text: str) -> str:
    """SQL: md5()'s hex text of a digest → md5_number()'s integer of it (bytes little-endian)."""
    return f"('0x' || array_to_string(list_reverse(regexp_extract_all({hex_text}, '..')), ''))::uhugeint"


def land_file(con: duckdb.DuckDBPyConnection, path: Path, et: EventType) -> FileResult:
    """Land one file in one transaction; the pseudonym macro must be installed."""
    sha = file_sha256(path)
    previous = already_landed(con, sha, (et.name,))
    if previous:
        return FileResult(
            str(path), et.name, "skipped", previous, message="already landed (same checksum)"
        )
    fmt = file_format(path)
    with landing_transaction(con, path, _temp_objects(fmt, "_in")) as started_at:
        raw_struct = read_into_temp(con, path, fmt, et)
        result = check_and_append(
            con, path, et, batch_id=f"{et.name}-{sha[:16]}", sha=sha, size=path.stat().st_size,
            fmt=fmt, started_at=started_at, raw_struct=raw_struct,
        )
    return result


def _land_group(
    con: duckdb.DuckDBPyConnection, group: list[tuple[Path, int]], et_name: str
) -> list[FileResult]:
    """Land small files of one event type together: same results, ledger rows and log as
    landing them one after another."""
    if len(group) <= 1:
        return [_land_one(con, path, EVENT_TYPES[et_name]) for path, _ in group]
    et = EVENT_TYPES[et_name]
    try:
        shas = [file_sha256(path) for path, _ in group]
    except OSError:
        return [_land_one(con, path, et) for path, _ in group]
    before = dict(
        con.execute(
            "select file_sha256, min(batch_id) from meta.batches"
            " where list_contains(?, file_sha256) and event_type = ? group by all",
            [shas, et.name],
        ).fetchall()
    )
    results: list[FileResult | None] = [None] * len(group)
    todo: list[int] = []
    for i, ((path, _), sha) in enumerate(zip(group, shas, strict=True)):
        if sha not in before:  # a file landed before, or twice in this group, is skipped
            before[sha] = f"{et.name}-{sha[:16]}"
            todo.append(i)
        else:
            message = "already landed (same checksum)"
            results[i] = FileResult(str(path), et.name, "skipped", before[sha], message=message)
    if len(todo) == 1:
        results[todo[0]] = _land_one(con, group[todo[0]][0], et)
    elif todo:
        files = [(group[i][0], shas[i], group[i][1]) for i in todo]
        try:
            landed = _land_together(con, files, et)
        except MACHINE_FAULTS:
            raise
        except FILE_ERRORS:
            # One at a time, as without groups: the culprit fails with its reason, the others land.
            landed = [_land_one(con, path, et) for path, _, _ in files]
        for i, result in zip(todo, landed, strict=True):
            results[i] = result
    return [r for r in results if r is not None]


def _land_together(
    con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str, int]], et: EventType
) -> list[FileResult]:
    """Several new files of one event type in one transaction: each its own batch and ledger
    row. Each file's rows get ingested_at = transaction start + its position in microseconds,
    so that files keep their order in the log (the latest version of an event wins)."""
    fields = quote_idents(et.names)
    batch_ids = [f"{et.name}-{sha[:16]}" for _, sha, _ in files]
    batches, paths = _sql_list(batch_ids), _sql_list([str(path) for path, _, _ in files])
    temp = tuple(o for i, (p, _, _) in enumerate(files) for o in _temp_objects(file_format(p), f"_in_{i}"))
    with landing_transaction(con, files[0][0], (*temp, "table _landing")) as started_at:
        parts = []
        for i, (path, _, _) in enumerate(files):
            raw_struct = read_into_temp(con, path, file_format(path), et, name=f"_in_{i}", typed=False)
            raw = "to_json(raw)::varchar" if raw_struct else "raw"
            parts.append(
                f"select {i} as _file, source_line, {raw} as raw, parse_error, {fields}, extra from _in_{i}"
            )
        con.execute("create temp view _in as " + " union all ".join(parts))
        check_into_temp(con, et, file_column=True)
        erased = _drop_erased(con, et, file_column=True)
        landed = _append_together(con, et, batches)
        con.execute(
            f"""
            insert into meta.quarantine
            select {batches}[_file + 1], ?, pii_scrub({paths}[_file + 1]), source_line, masked_raw,
                   reason, detail, now()
            from _checked where reason is not null
            """,
            [et.name],
        )
        counts = {
            i: (read, quarantined)
            for i, read, quarantined in con.execute(
                "select _file, count(*), count(*) filter (where reason is not null)"
                " from _checked group by all"
            ).fetchall()
        }
        results, rows = [], []
        for i, (path, sha, size) in enumerate(files):
            read, quarantined = counts.get(i, (0, 0))
            new, dropped = landed.get(i, 0), erased.get(i, 0)
            duplicate = read - new - quarantined
            rows.append([batch_ids[i], et.name, str(path), sha, size, file_format(path), read + dropped, new,
                         duplicate, quarantined, started_at, i, dropped])
            results.append(
                FileResult(str(path), et.name, "landed", batch_ids[i], read + dropped, new, duplicate,
                           quarantined, rows_erased=dropped)
            )
        con.executemany(
            f"insert into meta.batches ({LEDGER_COLUMNS}) values"
            " (?, ?, pii_scrub(?), ?, ?, ?, ?, ?, ?, ?, ?, now() + to_microseconds(?),"
            f" {NEXT_LOG_POSITION}, null, ?)",
            rows,
        )
    return results


# A batch's log position, assigned by its ledger insert inside the landing transaction: the
# commit sequence builds, incremental models and as-of use instead of a clock (ingested_at is
# the transaction's start, so a long landing can commit after a batch that started later).
# max + 1 is safe: DuckDB admits one writer process per file and landing holds its write lock
# until commit, so no other landing can read the same max; within one process, a second
# connection that did would fail on the ledger's unique index instead of committing it twice.
# Several ledger rows of one transaction (a vendor file, small files landed together) each see
# the previous ones, so they number in insert order.
NEXT_LOG_POSITION = "(select coalesce(max(log_position), 0) + 1 from meta.batches)"
# The ledger's columns by name: a warehouse's columns were added over time, in its own order.
LEDGER_COLUMNS = (
    "batch_id, event_type, file_path, file_sha256, file_bytes, format, rows_read, rows_landed,"
    " rows_duplicate, rows_quarantined, started_at, ingested_at, log_position, committed_at, rows_erased"
)


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(quote_str(v) for v in values) + "]"


def _append_together(con: duckdb.DuckDBPyConnection, et: EventType, batches: str) -> dict[int, int]:
    """_append for the files of ``_checked`` (column _file): the first occurrence is the first
    by file, then line. Returns the rows landed per file."""
    table = raw_table(et.name)
    columns, selected = _log_columns(et)
    new_records = _new_records(con, table, position="(_file::bigint << 40 | source_line)")
    con.execute(
        f"""
        create or replace temp table _landing as
        select _file, source_line, event_key, content_hash, {selected}
        {new_records}
        """
    )
    con.execute(
        f"""
        insert into {table} ({columns})
        select {batches}[_file + 1], source_line, now() + to_microseconds(_file), event_key, content_hash,
               {selected}
        from _landing
        """
    )
    return dict(con.execute("select _file, count(*) from _landing group by all").fetchall())


def _log_columns(et: EventType) -> tuple[str, str]:
    """The raw table's columns (for an insert), and those a record of _checked supplies."""
    columns = [n for n, _ in BOOKKEEPING_COLUMNS] + list(et.names) + ["extra"]
    supplied = columns[len(BOOKKEEPING_COLUMNS):]
    return quote_idents(columns), quote_idents(supplied)


def _new_records(con: duckdb.DuckDBPyConnection, table: str, position: str) -> str:
    """SQL (from … where …): the good records of _checked that land.

    Exact duplicates (same content hash, hence same key): only the first occurrence (by
    ``position``) can land, and only if the log holds it in a batch that counts: a row of a
    rejected batch is excluded from every build, so its corrected re-delivery must land. The
    probe into the log reads its 16-byte hashes only (and batch ids, once a batch was
    rejected). Written so that no hash table is built over the whole file but the within-file
    count: the log's matches (few) are the build side of the NOT IN, and the good records are
    read from _checked where they are used (a CTE used three times would be copied)."""
    return f"""
        from _checked
        left join (
            select content_hash, min({position}) as first_position
            from _checked where reason is null group by content_hash having count(*) > 1
        ) repeated using (content_hash)
        where reason is null
          and (repeated.first_position is null or {position} = repeated.first_position)
          and content_hash not in (
              select content_hash from {table}
              where content_hash in (select content_hash from _checked where reason is null) {_counted(con)}
          )"""


def _counted(con: duckdb.DuckDBPyConnection) -> str:
    """A condition on the log's batch_id: the batch counts (it is not rejected). Empty while no
    batch was ever rejected, so that the dedup probe need not read batch ids."""
    if con.execute("select exists(select 1 from meta.batch_events where action = 'reject')").fetchone()[0]:
        rejected = f"select batch_id from ({LATEST_DECISION_SQL}) where action = 'reject'"
        return f"and batch_id not in ({rejected})"
    return ""


def already_landed(con: duckdb.DuckDBPyConnection, sha: str, event_types: tuple[str, ...]) -> str | None:
    """The batch that already landed this checksum as one of these event types, if any."""
    row = con.execute(
        "select min(batch_id) from meta.batches where file_sha256 = ? and list_contains(?, event_type)",
        [sha, list(event_types)],
    ).fetchone()
    return row[0]


@contextmanager
def landing_transaction(
    con: duckdb.DuckDBPyConnection, path: Path, temp: tuple[str, ...] = ()
) -> Iterator[datetime]:
    """One transaction for everything one file produces: all of it lands, or none of it.

    Yields the transaction's start time (the ledger's started_at). Source adapters use it to
    land the several event types one vendor file produces as a unit. ``temp``: more temporary
    tables and views to drop afterwards (what readers made, see _temp_objects).
    """
    database = _database_path(con)
    con.execute("begin transaction")
    try:
        yield con.execute("select now()").fetchone()[0]
        # The clock at the transaction's last statement, the closest to its commit we can see
        # (DuckDB's now() and get_current_timestamp() are both the transaction's start). An
        # as-of build maps its moment to the last log position committed by then.
        con.execute(
            "update meta.batches set committed_at = ? where committed_at is null", [datetime.now(UTC)]
        )
        con.execute("commit")
    except BaseException as exc:
        # A failed commit (a full disk under the WAL) has already rolled back; a fatal error
        # (a failed checkpoint) has invalidated the connection: the original error is the news.
        _quietly(con, "rollback")
        _quietly(con, _drop_temp_sql(temp))
        if is_disk_full(exc):
            raise disk_full(database, f"landing {path}", exc) from exc
        if is_damage(exc, database):
            raise damaged(database, str(exc).splitlines()[0], WAREHOUSE_RECOVERY) from exc
        if isinstance(exc, duckdb.Error):
            raise ReachloopError(f"could not land {path}: {exc}".splitlines()[0]) from exc
        raise
    con.execute(_drop_temp_sql(temp))


def _drop_temp_sql(temp: tuple[str, ...]) -> str:
    drops = ["view _in", "table _checked", "table _csv", *temp]
    return "; ".join(f"drop {kind} if exists {name}" for kind, name in (d.split() for d in drops))


def _quietly(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        con.execute(sql)
    except duckdb.Error:
        pass


def _database_path(con: duckdb.DuckDBPyConnection) -> Path:
    """The warehouse file ``con`` writes to (a full disk is said against its device)."""
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else Path.cwd()


def _temp_objects(fmt: str, name: str) -> tuple[str, ...]:
    """The temporary objects the reader of a format makes for the view ``name`` (readers.py)."""
    suffix = name.removeprefix("_in")
    made = {
        "csv": (f"_csv{suffix}", f"_rej{suffix}", f"_rej_scan{suffix}", f"_rej{suffix}_lines"),
        "jsonl": (f"_lines{suffix}",),
    }
    return (f"view {name}", *(f"table {t}" for t in made.get(fmt, ())))


def check_and_append(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    et: EventType,
    *,
    batch_id: str,
    sha: str,
    size: int,
    fmt: str,
    started_at: datetime,
    raw_struct: bool = False,
) -> FileResult:
    """Check the uniform table ``_in`` (made by a reader or a source adapter) against the
    contract, append its good records, quarantine the rest and write the ledger row.
    Runs inside ``landing_transaction``."""
    check_into_temp(con, et, raw_struct=raw_struct)
    erased = _drop_erased(con, et).get(0, 0)
    read, landed, duplicate, quarantined = _append(con, path, et, batch_id)
    con.execute(
        f"insert into meta.batches ({LEDGER_COLUMNS}) values (?, ?, pii_scrub(?), ?, ?, ?, ?, ?, ?, ?, ?,"
        f" now(), {NEXT_LOG_POSITION}, null, ?)",
        [batch_id, et.name, str(path), sha, size, fmt, read + erased, landed, duplicate, quarantined,
         started_at, erased],
    )
    return FileResult(str(path), et.name, "landed", batch_id, read + erased, landed, duplicate, quarantined,
                      rows_erased=erased)


def _drop_erased(
    con: duckdb.DuckDBPyConnection, et: EventType, *, file_column: bool = False
) -> dict[int, int]:
    """The checked records naming an erased person, dropped before anything lands: their text
    fields (PII fields hold pseudonyms), extra, and a quarantined record's text and detail."""
    text = [quote_ident(f.name) for f in et.fields if f.type == VARCHAR]
    columns = [*text, "extra", "masked_raw", "detail"]
    return drop_erased(con, columns, visitor="visitor_id" in et.names, file_column=file_column)


def _append(
    con: duckdb.DuckDBPyConnection, path: Path, et: EventType, batch_id: str
) -> tuple[int, int, int, int]:
    table = raw_table(et.name)
    columns, selected = _log_columns(et)
    landed = con.execute(
        f"""
        insert into {table} ({columns})
        select {quote_str(batch_id)}, source_line, now(), event_key, content_hash, {selected}
        {_new_records(con, table, position="source_line")}
        """
    ).fetchone()[0]
    quarantined = con.execute(
        """
        insert into meta.quarantine
        select ?, ?, pii_scrub(?), source_line, masked_raw, reason, detail, now()
        from _checked where reason is not null
        """,
        [batch_id, et.name, str(path)],
    ).fetchone()[0]
    read = con.execute("select count(*) from _checked").fetchone()[0]
    return read, landed, read - landed - quarantined, quarantined
