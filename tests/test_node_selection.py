"""Which dbt nodes an incremental build selects (builds/node_selection.py), on a hand-made
manifest and ledger; tests/test_incremental_equivalence.py runs a selected build for real."""

from __future__ import annotations

import json
from pathlib import Path

from builds.node_selection import batch_ledger_readers, changed_event_types, selection
from eventlog.settings import Settings
from eventlog.warehouse import warehouse

BATCHES = "model.reachloop.stg_event_log__batches"


def _macro(name: str, sql: str, calls: tuple[str, ...] = ()) -> dict:
    return {"name": name, "macro_sql": sql, "depends_on": {"macros": [f"macro.reachloop.{c}" for c in calls]}}


def _model(name: str, raw_code: str = "", refs: tuple[str, ...] = (), macros: tuple[str, ...] = ()) -> dict:
    return {
        "resource_type": "model", "name": name, "package_name": "reachloop", "raw_code": raw_code,
        "depends_on": {"nodes": list(refs), "macros": [f"macro.reachloop.{m}" for m in macros]},
    }


MANIFEST = {
    "macros": {
        "macro.reachloop.log_position": _macro(
            "log_position", "(select max(log_position) from {{ ref('stg_event_log__batches') }})"),
        "macro.reachloop.build_moment": _macro(
            "build_moment", "(select max(ingested_at) from {{ ref('stg_event_log__batches') }})"),
        # reads the ledger through another macro
        "macro.reachloop.open_deal_moment": _macro("open_deal_moment", "{{ build_moment() }}", ("build_moment",)),
    },
    "nodes": {
        BATCHES: _model("stg_event_log__batches"),
        "model.reachloop.stamped": _model("stamped", refs=(BATCHES,), macros=("log_position",)),
        "model.reachloop.converted": _model("converted", refs=(BATCHES,), macros=("open_deal_moment",)),
        "model.reachloop.direct": _model(
            "direct", "select * from {{ ref( 'stg_event_log__batches' ) }}", refs=(BATCHES,)),
        "model.reachloop.unrelated": _model("unrelated", "select 1", macros=("build_moment",)),
    },
    "sources": {
        f"source.reachloop.event_log.{t}": {"name": t, "source_name": "event_log"}
        for t in ("share", "audience", "click")
    } | {"source.reachloop.event_log_meta.batches": {"name": "batches", "source_name": "event_log_meta"}},
}


def test_the_ledger_is_data_only_outside_the_bookkeeping_macros() -> None:
    # log_position stamps bookkeeping; build_moment (also through another macro) and a ref in
    # the model's own SQL read the ledger as data; a model that does not ref it reads nothing.
    assert batch_ledger_readers(MANIFEST) == ["converted", "direct"]


def test_selection_follows_the_event_types_that_landed(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFEST))
    assert selection(manifest, {"share"}) == "source:event_log.share+ converted+ direct+"
    assert selection(manifest, {"click", "share", "fx_rate"}) == (
        "source:event_log.click+ source:event_log.share+ converted+ direct+")
    assert selection(manifest, set()) == ""  # nothing landed rows: no node runs
    # every event type, no baseline, no manifest: every node
    assert selection(manifest, {"share", "audience", "click"}) is None
    assert selection(manifest, None) is None
    assert selection(tmp_path / "none.json", {"share"}) is None


def test_changed_event_types_are_those_with_rows_past_the_last_good_build(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path)
    with warehouse(settings) as con:
        assert changed_event_types(con, 3) is None  # no build yet
        con.execute(
            "insert into meta.batches (batch_id, event_type, file_path, file_sha256, file_bytes, format,"
            " rows_read, rows_landed, rows_duplicate, rows_quarantined, started_at, ingested_at, log_position)"
            " select 'b' || i, t, 'f', 'x' || i, 1, 'csv', 5, n, 5 - n, 0, now(), now(), i"
            " from (values (1, 'share', 5), (2, 'click', 0), (3, 'audience', 2), (4, 'engagement', 1)) as v(i, t, n)"
        )
        con.execute(
            "insert into meta.builds (build_id, status, full_refresh, started_at, log_cutoff_position, as_of)"
            " values ('good', 'succeeded', false, now() - interval 2 hour, 1, null),"
            " ('past', 'succeeded', true, now() - interval 1 hour, 3, '2025-01-01'),"
            " ('bad', 'failed', false, now(), 3, null)"
        )
        # past the last good current build (position 1), up to this build's (3); a batch of
        # duplicates only (click) landed nothing
        assert changed_event_types(con, 3) == {"audience"}
        assert changed_event_types(con, 4) == {"audience", "engagement"}
        # The last good build's own dbt run finished before it did; a dbt run since (by hand,
        # perhaps under other vars) leaves the tables in another state: every node runs.
        con.execute("update meta.builds set finished_at = now() - interval 1 hour where build_id = 'good'")
        con.execute("create table meta.dbt_last_run as select now() - interval 90 minute as finished_at")
        assert changed_event_types(con, 3) == {"audience"}
        con.execute("update meta.dbt_last_run set finished_at = now()")
        assert changed_event_types(con, 3) is None
