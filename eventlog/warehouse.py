"""The DuckDB warehouse: the append-only event log (``raw``) and its bookkeeping (``meta``).

dbt builds its models into other schemas of the same file; nothing in ``raw`` is ever
updated or deleted by the pipeline.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from eventlog.contract import BOOKKEEPING_COLUMNS, EVENT_TYPES, raw_table
from eventlog.errors import ReachloopError
from eventlog.faults import WAREHOUSE_RECOVERY, check_blocks_present, check_database_file, plain_faults
from eventlog.settings import Settings
from eventlog.sql import quote_ident, quote_str
from eventlog.status import write_status_snapshot

META_TABLES = {
    # The batch ledger: one row per landed file;
    # rows_read = landed + duplicate + quarantined + erased (rows_erased, added below).
    "batches": """
        batch_id varchar primary key,
        event_type varchar not null,
        file_path varchar not null,
        file_sha256 varchar not null,
        file_bytes bigint not null,
        format varchar not null,
        rows_read bigint not null,
        rows_landed bigint not null,
        rows_duplicate bigint not null,
        rows_quarantined bigint not null,
        started_at timestamptz not null,
        ingested_at timestamptz not null,
        log_position bigint,
        committed_at timestamptz
    """,
    # Records that broke the contract, with enough to find and fix them. PII is masked.
    "quarantine": """
        batch_id varchar not null,
        event_type varchar not null,
        file_path varchar not null,
        source_line bigint,
        raw varchar,
        reason varchar not null,
        detail varchar,
        quarantined_at timestamptz not null
    """,
    # Operator decisions about batches (reject / restore), kept as events, never edited.
    "batch_events": """
        batch_id varchar not null,
        action varchar not null,
        reason varchar,
        recorded_at timestamptz not null
    """,
    # One row per build (reachloop build, the Airflow build DAG): its steps update it.
    "builds": """
        build_id varchar primary key,
        status varchar not null,
        as_of varchar,
        full_refresh boolean not null,
        fingerprint varchar,
        step varchar,
        error varchar,
        models bigint,
        tests bigint,
        published_to varchar,
        published_version varchar,
        started_at timestamptz not null,
        finished_at timestamptz,
        log_cutoff timestamptz,
        project_digest varchar,
        log_cutoff_position bigint,
        engine varchar,
        models_built varchar[]
    """,
    # Every expectation a quality gate evaluated, per build; failures name their batch.
    "gate_results": """
        build_id varchar not null,
        gate varchar not null,
        suite varchar not null,
        target varchar not null,
        batch_id varchar,
        expectation varchar not null,
        column_name varchar,
        severity varchar not null,
        success boolean not null,
        element_count bigint,
        unexpected_count bigint,
        observed varchar,
        examples varchar,
        checked_at timestamptz not null
    """,
    # What each publish contained: one row per mart, for status and gate 2's volume check.
    "published_marts": """
        build_id varchar not null,
        mart varchar not null,
        rows bigint not null,
        published_at timestamptz not null
    """,
    # Erasure requests (reachloop erase): the only place an erased person's pseudonym is kept,
    # as its 128-bit number, so that landing can drop their rows from later deliveries. One
    # row per pseudonym a request names (an email; a member id as URN, bare id, profile URL;
    # the visitors whose only link was the person); rows_erased: the whole request's rows;
    # key_id: the fingerprint of the key that made the pseudonym (a key rotation carries
    # requests over to a home under a new key).
    "erasure_requests": """
        request_id varchar not null,
        pseudonym uhugeint not null,
        kind varchar not null,
        reason varchar,
        requested_at timestamptz not null,
        rows_erased bigint not null,
        key_id varchar
    """,
    # Gate 1's verdict on each landed batch: passed, warned or failed (latest row wins).
    "batch_gates": """
        batch_id varchar not null,
        build_id varchar not null,
        outcome varchar not null,
        checked_at timestamptz not null
    """,
}


# Columns added to the bookkeeping since warehouses were first created (a new warehouse has
# them from META_TABLES): (table, column, type).
ADDED_META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("meta.builds", "log_cutoff", "timestamptz"),
    ("meta.builds", "project_digest", "varchar"),
    ("meta.builds", "log_cutoff_position", "bigint"),
    ("meta.builds", "engine", "varchar"),
    ("meta.builds", "models_built", "varchar[]"),
    ("meta.batches", "log_position", "bigint"),
    ("meta.batches", "committed_at", "timestamptz"),
    # Rows of the batch an erasure removed (from the log or quarantine), or that landing
    # dropped because they named an erased person: the ledger still reconciles.
    ("meta.batches", "rows_erased", "bigint default 0"),
)


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The log's and the bookkeeping's schemas, tables and columns, each created where it is
    missing. What exists is read from the catalog first, in one query: every writer opens the
    warehouse (a build five to ten times), and one `if not exists` statement per table and
    column, some 300, cost about 50 ms an open with nothing to add."""
    schemas, columns = _catalog(con)
    # Each event type's log: its name in SQL, its name in the catalog, its columns.
    logs = [(raw_table(et.name), f"raw.{et.name}",
             [*BOOKKEEPING_COLUMNS, *((f.name, f.type) for f in et.fields), ("extra", "VARCHAR")])
            for et in EVENT_TYPES.values()]
    created = [f"create schema {name}" for name in ("raw", "meta") if name not in schemas]
    created += [f"create table meta.{name} ({ddl})" for name, ddl in META_TABLES.items()
                if f"meta.{name}" not in columns]
    created += [f"create table {table} ({', '.join(f'{quote_ident(n)} {t}' for n, t in cols)})"
                for table, name, cols in logs if name not in columns]
    for statement in created:
        con.execute(statement)
    if created:
        _, columns = _catalog(con)
    # A field added to the contract later becomes a new, nullable column of the log.
    added = [(table, table, column, dtype) for table, column, dtype in ADDED_META_COLUMNS]
    added += [(table, name, column, dtype) for table, name, cols in logs for column, dtype in cols]
    for table, name, column, dtype in added:
        if column not in columns[name]:
            con.execute(f"alter table {table} add column if not exists {quote_ident(column)} {dtype}")
    _ensure_log_positions(con)


def _catalog(con: duckdb.DuckDBPyConnection) -> tuple[set[str], dict[str, set[str]]]:
    """The database's schemas, and the columns of each table in raw and meta (``schema.table``
    → column names, as the catalog names them)."""
    schemas = {name for (name,) in con.execute(
        "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
    columns: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns()"
        " where database_name = current_database() and schema_name in ('raw', 'meta')"
    ).fetchall():
        columns.setdefault(f"{schema}.{table}", set()).add(column)
    return schemas, columns


def _ensure_log_positions(con: duckdb.DuckDBPyConnection) -> None:
    """The ledger's commit sequence (docs/design.md, "Log position"): a warehouse created
    before it gets positions in landing order (ingested_at, then batch_id), and committed_at =
    ingested_at, the best it knew. The unique index makes two transactions that read the same
    max(log_position) conflict instead of both committing it."""
    if con.execute("select exists(select 1 from meta.batches where log_position is null)").fetchone()[0]:
        con.execute(
            """
            update meta.batches set log_position = numbered.log_position,
                committed_at = coalesce(meta.batches.committed_at, meta.batches.ingested_at)
            from (
                select batch_id,
                       (select coalesce(max(log_position), 0) from meta.batches)
                       + row_number() over (order by ingested_at, batch_id) as log_position
                from meta.batches where log_position is null
            ) as numbered
            where meta.batches.batch_id = numbered.batch_id
            """
        )
    con.execute("create unique index if not exists batches_log_position on meta.batches (log_position)")


# DuckDB's defaults (80% of RAM; spill files in a ``.tmp`` folder beside the database) suit
# one machine running one pipeline; these let an operator cap memory on a shared host or
# spill to a bigger disk. dbt reads the same variables (dbt_project/profiles.yml, and the
# on-run-start hook for the spill directory).
MEMORY_LIMIT_ENV = "REACHLOOP_MEMORY_LIMIT"  # e.g. 4GB or 50%
TEMP_DIRECTORY_ENV = "REACHLOOP_TEMP_DIRECTORY"


def apply_resource_limits(con: duckdb.DuckDBPyConnection) -> None:
    if limit := os.environ.get(MEMORY_LIMIT_ENV):
        con.execute(f"set memory_limit = {quote_str(limit)}")
    # DuckDB shares one instance per file within a process and refuses to change
    # temp_directory once a query has spilled (even to the same value): set it only if needed.
    spill = os.environ.get(TEMP_DIRECTORY_ENV)
    if spill and con.execute("select current_setting('temp_directory')").fetchone()[0] != spill:
        con.execute(f"set temp_directory = {quote_str(spill)}")


# DuckDB allows one writer per file, and a writer excludes readers in other processes. A
# second writer (a land during a build, a build during a land) waits its turn rather than
# failing at once; how long is bounded so that a hung writer is reported, not waited on forever.
LOCK_TIMEOUT_ENV = "REACHLOOP_LOCK_TIMEOUT"  # seconds; 0 fails at once
DEFAULT_LOCK_TIMEOUT = 600.0
_LOCK_POLL_SECONDS = 0.5


def lock_timeout() -> float:
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise ReachloopError(f"{LOCK_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    return max(value, 0.0)


class WarehouseBusy(ReachloopError):
    """Another process held the warehouse's lock for longer than the lock timeout."""


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    # Not just "lock": a damaged file's errors say "in block at location …".
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


# DuckDB's own lock covers one connection, and a build is many: its steps open and close the
# warehouse, and dbt connects on its own, refusing at once a file another process holds. A
# land starting between two of them took the file and made dbt fail. So writers (land,
# build, the dbt step of the build DAG) hold one lock per home for their whole length: a flock
# on this file, waited for like the warehouse's (REACHLOOP_LOCK_TIMEOUT).
WRITER_LOCK = ".writer.lock"
_writer_locks_held: dict[Path, int] = {}  # per home, in this process: nested holds pass


@contextmanager
def writer_lock(settings: Settings, what: str, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the home's writer lock for the block (``what``: the writer, for the message)."""
    path = settings.home / WRITER_LOCK
    if _writer_locks_held.get(path):
        _writer_locks_held[path] += 1
        try:
            yield
        finally:
            _writer_locks_held[path] -= 1
        return
    settings.home.mkdir(parents=True, exist_ok=True)
    timeout = lock_timeout() if timeout is None else timeout
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another land or build in {settings.home} ran for longer than {timeout:g}s "
                        f"while this {what} waited for it; wait for it to finish or raise "
                        f"{LOCK_TIMEOUT_ENV}"
                    ) from None
                if not waiting:
                    waiting = True
                    print(
                        f"waiting for the warehouse {settings.warehouse}: another land or build is "
                        f"running (up to {timeout:g}s, {LOCK_TIMEOUT_ENV})",
                        file=sys.stderr, flush=True,
                    )
                time.sleep(min(_LOCK_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        _writer_locks_held[path] = 1
        try:
            yield
        finally:
            _writer_locks_held.pop(path, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def open_warehouse(
    path: Path, *, read_only: bool = False, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to ``timeout`` seconds (default: REACHLOOP_LOCK_TIMEOUT)
    for another process's lock to go."""
    if read_only and not path.exists():
        raise ReachloopError(f"no warehouse at {path}: land some data first (reachloop land DIR)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # A damaged file is said so before DuckDB gets to it: a cut in blocks DuckDB does not read
    # on opening would otherwise pass until some query reads them (or never, for status).
    check_database_file(path, WAREHOUSE_RECOVERY)
    had_wal = Path(f"{path}.wal").exists() or not path.exists()
    with plain_faults(path, doing="opening the warehouse", recovery=WAREHOUSE_RECOVERY):
        con = _open(path, read_only=read_only, timeout=lock_timeout() if timeout is None else timeout)
        try:
            check_blocks_present(con, path, WAREHOUSE_RECOVERY, had_wal=had_wal)
        except BaseException:
            con.close()
            raise
        return con


def _open(path: Path, *, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"the warehouse {path} is in use by another process (DuckDB allows one "
                    f"writer at a time) and stayed locked for {timeout:g}s; wait for it to "
                    f"finish or raise {LOCK_TIMEOUT_ENV}"
                ) from exc
            if not waiting:
                waiting = True
                print(
                    f"waiting for the warehouse {path}: another process holds its lock "
                    f"(up to {timeout:g}s, {LOCK_TIMEOUT_ENV})",
                    file=sys.stderr, flush=True,
                )
            time.sleep(min(_LOCK_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
    con.execute("set timezone = 'UTC'")
    apply_resource_limits(con)
    if not read_only:
        _ensure_schema(con)
    return con


@contextmanager
def warehouse(
    settings: Settings, *, read_only: bool = False, lock_timeout: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_warehouse(settings.warehouse, read_only=read_only, timeout=lock_timeout)
    try:
        with plain_faults(settings.warehouse, doing="writing the warehouse", recovery=WAREHOUSE_RECOVERY):
            yield con
        if not read_only:
            # Readers in other processes cannot open the file while a writer holds it: every
            # writer leaves what `reachloop status` shows in a file beside it.
            write_status_snapshot(con, settings.status_snapshot)
    finally:
        con.close()
