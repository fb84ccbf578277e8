"""Which dbt nodes an incremental build runs: those downstream of an event type that landed
rows since the last successful build (docs/design.md, "Node selection").

A model whose every input is unchanged would recompute what it holds: a day without audience
rows leaves the audience models as they are, and their tests too. The selection is only made
when it is safe — an incremental build (not a full refresh, not as of a past moment: those
decide in ``start_build`` and run every node) after a successful current build of the same
project (the project digest, vars included, is part of that rule: a changed project is a full
refresh). Everything else runs every node.

Staging models read ``stg_event_log__batches`` to filter the log and incremental models to
stamp their bookkeeping (``log_position_through``): neither makes the batch ledger an input.
A model that reads the ledger as data (``build_moment``: the newest landing, at which open
deals convert) depends on every batch: it runs whenever anything landed.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

BATCHES_MODEL = "stg_event_log__batches"
# Macros that ref the batch ledger to filter the log or stamp bookkeeping, not as data.
BOOKKEEPING_MACROS = frozenset(
    {"event_log_events", "log_position", "log_ingested_through", "batch_decided_since_last_run"}
)
_REF_BATCHES = re.compile(r"""ref\(\s*['"]""" + BATCHES_MODEL + r"""['"]\s*\)""")
EVENT_LOG_SOURCE = "event_log"


def changed_event_types(con: duckdb.DuckDBPyConnection, log_cutoff_position: int | None) -> set[str] | None:
    """Event types with rows landed after the last successful current build's log position and
    up to this build's; None when there is no such build, or when dbt ran since it (a run by
    hand, perhaps under other vars, or a failed build's: the tables may not be that build's),
    and everything runs."""
    last = baseline(con)
    if last is None or log_cutoff_position is None:
        return None
    row = last[1:]
    if _has_table(con, "meta", "dbt_last_run"):
        (last_dbt_run,) = con.execute("select max(finished_at) from meta.dbt_last_run").fetchone()
        if last_dbt_run is not None and (row[1] is None or last_dbt_run > row[1]):
            return None
    rows = con.execute(
        "select distinct event_type from meta.batches"
        " where log_position > ? and log_position <= ? and rows_landed > 0",
        [row[0], log_cutoff_position],
    ).fetchall()
    return {event_type for (event_type,) in rows}


def baseline(con: duckdb.DuckDBPyConnection) -> tuple[str, int, object] | None:
    """The last successful current DuckDB build — (build_id, log_cutoff_position, finished_at)
    —, whose tables a selected build leaves as they are: what gate 2 and publish take as
    already checked and published."""
    return con.execute(
        "select build_id, log_cutoff_position, finished_at from meta.builds"
        " where status = 'succeeded' and as_of is null and log_cutoff_position is not null"
        " and coalesce(engine, 'duckdb') = 'duckdb'"
        " order by started_at desc limit 1"
    ).fetchone()


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0] > 0


def _macro_closure(manifest: dict, macro_ids: list[str]) -> set[str]:
    """Every macro a node calls, directly or through other macros."""
    seen: set[str] = set()
    stack = list(macro_ids)
    while stack:
        uid = stack.pop()
        if uid in seen or uid not in manifest["macros"]:
            continue
        seen.add(uid)
        stack += manifest["macros"][uid].get("depends_on", {}).get("macros", [])
    return seen


def batch_ledger_readers(manifest: dict) -> list[str]:
    """Models that read the batch ledger as data (not through the bookkeeping macros)."""
    readers = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["name"] == BATCHES_MODEL:
            continue
        if f"model.{node['package_name']}.{BATCHES_MODEL}" not in node["depends_on"]["nodes"]:
            continue
        macros = _macro_closure(manifest, node["depends_on"].get("macros", []))
        via_macro = any(
            manifest["macros"][uid]["name"] not in BOOKKEEPING_MACROS
            and _REF_BATCHES.search(manifest["macros"][uid].get("macro_sql", ""))
            for uid in macros
        )
        if via_macro or _REF_BATCHES.search(node.get("raw_code", "")):
            readers.append(node["name"])
    return sorted(readers)


def event_log_sources(manifest: dict) -> set[str]:
    return {
        s["name"] for s in manifest["sources"].values() if s["source_name"] == EVENT_LOG_SOURCE
    }


def selection(manifest_file: Path, changed: set[str] | None) -> str | None:
    """The dbt ``--select`` of a build given the event types that changed: None to run every
    node (no baseline, no manifest to read the graph from, or every event type changed), else
    the changed event types' sources and every node downstream of them, plus the readers of
    the batch ledger when anything landed. An empty string: nothing to run."""
    if changed is None or not manifest_file.exists():
        return None
    from builds.dbt_build import read_artifact

    manifest = read_artifact(manifest_file)
    sources = event_log_sources(manifest)
    if sources <= changed:
        return None
    selectors = [f"source:{EVENT_LOG_SOURCE}.{t}+" for t in sorted(changed & sources)]
    if changed:
        selectors += [f"{name}+" for name in batch_ledger_readers(manifest)]
    return " ".join(selectors)
