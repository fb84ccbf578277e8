"""The lake: the event log as open files, for engines other than DuckDB (Spark).

Layout under ``$REACHLOOP_LAKE`` (default ``$REACHLOOP_HOME/lake``)::

    events/event_type=<t>/batch_id=<id>/part-0.parquet   one folder per landed batch
    meta/batches/part-0.parquet                          the batch ledger (log_position …)
    meta/batch_events/part-0.parquet                     operators' reject / restore decisions
    meta/builds/part-0.parquet                           builds (a running build's cutoff)
    register.sql                                         Spark DDL that registers it all

A batch's folder is written once, whole (written beside, then renamed into place), and never
rewritten: the raw log never changes, so neither does its copy — except for an erasure
(``reachloop erase`` deletes a person's rows from the log): when the erasure requests changed
since the last export (``erasures.txt`` holds their count and newest moment), every batch
folder is written again from the log and swapped in, and ``reachloop erase`` runs that export
right after its rebuild. Every landed batch is exported,
rejected ones included: staging leaves them out by the same rule as on DuckDB (the latest
decision in ``meta.batch_events``), so a restore needs no export. The three ``meta`` tables
are small and change with every landing and decision: they are rewritten whole, atomically,
at every export. ``batch_id`` is the partition folder's name, not a column of the files
(Hive-style partitioning, what Spark, Trino and DuckDB read).

The export reads the DuckDB warehouse, which stays the landing store: it runs at the start of
a Spark build (``export_lake``), for the batches not exported yet.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from eventlog.contract import EVENT_TYPES, raw_table
from eventlog.settings import Settings
from eventlog.sql import quote_ident, quote_str

LAKE_ENV = "REACHLOOP_LAKE"
META_EXPORTS = ("batches", "batch_events", "builds")
PART = "part-0.parquet"
ERASURES = "erasures.txt"


def lake_dir(settings: Settings) -> Path:
    return Path(os.environ.get(LAKE_ENV) or settings.home / "lake").absolute()


def batch_folder(lake: Path, event_type: str, batch_id: str) -> Path:
    return lake / "events" / f"event_type={event_type}" / f"batch_id={batch_id}"


@dataclass
class LakeExport:
    batches: int = 0  # batches written by this export
    rows: int = 0

    def summary(self) -> str:
        return f"lake: {self.batches} new batches ({self.rows:,} rows) exported"


def _spark_type(duckdb_type: str) -> str:
    """The Spark SQL type of a raw column (the contract's DuckDB types)."""
    t = duckdb_type.upper()
    if t == "VARCHAR" or t.endswith("HUGEINT"):
        return "string"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("DECIMAL"):
        return t.lower()
    return {"BIGINT": "bigint", "INTEGER": "int", "DOUBLE": "double", "BOOLEAN": "boolean",
            "DATE": "date", "FLOAT": "float", "SMALLINT": "smallint"}.get(t, "string")


def _lake_select(columns: list[tuple[str, str]]) -> str:
    """A raw table's columns as the lake stores them: 128-bit integers (content_hash) as
    text, which every Parquet reader has."""
    return ", ".join(
        f"{quote_ident(c)}::varchar as {quote_ident(c)}" if t.upper().endswith("HUGEINT") else quote_ident(c)
        for c, t in columns
    )


def _raw_columns(con: duckdb.DuckDBPyConnection, event_type: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [event_type],
    ).fetchall()


def export_lake(con: duckdb.DuckDBPyConnection, settings: Settings) -> LakeExport:
    """Write every landed batch not in the lake yet, then the meta tables and register.sql."""
    lake = lake_dir(settings)
    result = LakeExport()
    scratch = lake / f".tmp-{uuid.uuid4().hex[:8]}"
    erasures = _erasure_state(con)
    marker = lake / ERASURES
    # Rows were erased from the log since the last export: its copy must lose them too.
    # (A lake without the marker: nothing says what it missed.)
    rewrite = (marker.read_text() != erasures) if marker.exists() else any(lake.glob("events/*/batch_id=*"))
    try:
        for event_type in EVENT_TYPES:
            batches = [
                b for (b,) in con.execute(
                    "select batch_id from meta.batches where event_type = ? order by log_position",
                    [event_type],
                ).fetchall()
                if rewrite or not batch_folder(lake, event_type, b).exists()
            ]
            if not batches:
                continue
            columns = _raw_columns(con, event_type)
            out = scratch / event_type
            scratch.mkdir(parents=True, exist_ok=True)
            # One set-based copy per event type, split by batch (batch_id leaves the files).
            con.execute(
                f"copy (select {_lake_select(columns)} from {raw_table(event_type)}"
                f" where batch_id in (select unnest(?::varchar[])))"
                f" to {quote_str(str(out))} (format parquet, compression zstd, partition_by (batch_id),"
                f" filename_pattern 'part-{{i}}')",
                [batches],
            )
            for batch_id in batches:
                target = batch_folder(lake, event_type, batch_id)
                written = out / f"batch_id={batch_id}"
                if not written.exists():  # a batch whose every row was a duplicate or quarantined
                    written.mkdir(parents=True)
                    con.execute(
                        f"copy (select {_lake_select([c for c in columns if c[0] != 'batch_id'])}"
                        f" from {raw_table(event_type)} limit 0)"
                        f" to {quote_str(str(written / PART))} (format parquet)"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():  # rewritten after an erasure: the old folder steps aside
                    os.rename(target, scratch / f"old-{event_type}-{batch_id}")
                os.rename(written, target)  # whole or not at all
                result.batches += 1
            result.rows += con.execute(
                f"select count(*) from {raw_table(event_type)}"
                " where batch_id in (select unnest(?::varchar[]))",
                [batches],
            ).fetchone()[0]
        for table in META_EXPORTS:
            query = f"select * from meta.{quote_ident(table)}"
            _replace_file(con, query, lake / "meta" / table / PART, scratch)
        _write_text(lake / "register.sql", registration_sql(con, str(lake)), scratch)
        _write_text(marker, erasures, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _erasure_state(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute(
        "select count(*) || '/' || coalesce(max(requested_at)::varchar, '') from meta.erasure_requests"
    ).fetchone()[0])


def _replace_file(con: duckdb.DuckDBPyConnection, query: str, target: Path, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    partial = scratch / f"{target.parent.name}-{target.name}"
    con.execute(f"copy ({query}) to {quote_str(str(partial))} (format parquet, compression zstd)")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, target)


def _write_text(target: Path, text: str, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    partial = scratch / target.name
    partial.write_text(text)
    os.replace(partial, target)


def registration_sql(con: duckdb.DuckDBPyConnection, location: str) -> str:
    """Spark SQL that registers the lake at ``location`` (a path, or an object-store URI such as
    ``s3a://bucket/reachloop/lake``) as the schemas ``raw`` and ``meta`` that the dbt sources
    name: a view per table over its folder. Spark lists the folder at query time, so a new
    batch is seen without registering anything again (no metastore partitions to repair);
    batch_id comes from the folder names. Each event view casts the contract's columns, so an
    event type without batches yet is an empty view of the right shape."""
    statements = ["create database if not exists raw", "create database if not exists meta"]
    lake = Path(location) if "://" not in location else None
    for event_type in EVENT_TYPES:
        columns = [(c, _spark_type(t)) for c, t in _raw_columns(con, event_type) if c != "batch_id"]
        folder = f"{location}/events/event_type={event_type}"
        has_files = lake is None or (lake / "events" / f"event_type={event_type}").is_dir()
        if has_files:
            cols = ", ".join(f"cast(`{c}` as {t}) as `{c}`" for c, t in columns)
            body = f"select cast(`batch_id` as string) as `batch_id`, {cols} from parquet.`{folder}`"
        else:
            cols = ", ".join(f"cast(null as {t}) as `{c}`" for c, t in columns)
            body = f"select cast(null as string) as `batch_id`, {cols} where false"
        statements.append(f"create or replace view raw.`{event_type}` as {body}")
    for table in META_EXPORTS:
        statements.append(
            f"create or replace view meta.`{table}` as select * from parquet.`{location}/meta/{table}`"
        )
    return ";\n".join(statements) + ";\n"
