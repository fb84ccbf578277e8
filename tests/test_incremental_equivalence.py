"""Event-sourced rebuilds: building after every batch gives exactly the marts of one build.

The session's workload is landed month group by month group (late rows arrive in later
files, as the generator makes them), with an incremental ``dbt build`` after each group.
Then one ``--full-refresh`` build rebuilds everything from the same event log: every table
of schema ``marts`` must be equal to what the incremental builds left, the incremental
watermark columns (``log_position_through``, ``ingested_through``: when a row was computed) aside. Finally an as-of
build reproduces what the first build said.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from builds.dbt_build import run_dbt_build
from eventlog.settings import Settings, pii_key
from eventlog.warehouse import warehouse
from ingestion.landing import land_path, landing_files

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("incremental_equivalence")]

PII_KEY = "test-incremental-key"
MONTH_GROUPS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12))
# Tables only: data and unit tests run in test_dbt_marts.py.
BUILD = {"exclude": "resource_type:test resource_type:unit_test"}
# The as-of check rebuilds the advocacy marts and what they stand on, not every mart.
ADVOCACY = " ".join(
    f"+{m}" for m in ("mart_reach_vs_network", "mart_engagement_rate", "mart_engagement_bubble",
                      "mart_bubble_overlap", "mart_audience_pairs")
)
# Bookkeeping of incremental models: when (log position, newest ingested_at) a row was computed.
WATERMARKS = ("log_position_through", "ingested_through")
WATERMARK = "log_position_through"
INCREMENTAL = ("marts.fct_engagements", "intermediate.int_share_metrics_latest")


def _month(path: Path) -> int:
    """The month of arrival in a generated file name (``share-2025-05.csv``); 1 without one."""
    found = re.search(r"-\d{4}-(\d{2})\.", path.name)
    return int(found.group(1)) if found else 1


def _land(settings: Settings, paths: list[Path]) -> None:
    with warehouse(settings) as con:
        for path in paths:
            land_path(con, path, pii_key())


def _marts(settings: Settings, tables: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Tables of schema marts (all, or those named), watermark dropped, rows in a canonical order."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()]
        snapshot = {}
        for table in sorted(t for t in names if tables is None or t in tables):
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position", [table]
            ).fetchall()]
            kept = ", ".join(f'"{c}"' for c in columns if c not in WATERMARKS)
            snapshot[table] = con.sql(f"select {kept} from marts.{table} order by all").to_arrow_table().to_pandas()
    return snapshot


def _assert_same_marts(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert sorted(got) == sorted(want)
    for table in want:
        assert len(got[table]) == len(want[table]), table
        pd.testing.assert_frame_equal(got[table], want[table], check_exact=False, rtol=1e-9, obj=table)


def _watermarks(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {
            t: con.execute(f"select count(distinct {WATERMARK}) from {t}").fetchone()[0] for t in INCREMENTAL
        }


@pytest.fixture(scope="module")
def built(small_workload: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Land batch by batch with a build after each, then rebuild in full; keep what each said."""
    files = list(landing_files(small_workload / "landing"))
    state: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACHLOOP_PII_KEY", PII_KEY)
        settings = Settings.from_env(tmp_path_factory.mktemp("by_batches"))
        for i, months in enumerate(MONTH_GROUPS):
            _land(settings, [p for p in files if _month(p) in months])
            run_dbt_build(settings, **BUILD)
            if i == 0:
                state["after_first"] = datetime.now(UTC).isoformat()
                state["first_marts"] = _marts(settings)
        state["incremental_marts"] = _marts(settings)
        state["watermarks"] = _watermarks(settings)

        run_dbt_build(settings, full_refresh=True, **BUILD)
        state["full_marts"] = _marts(settings)
        state["settings"] = settings
        yield state


def test_builds_after_each_batch_equal_one_full_build(built: dict) -> None:
    _assert_same_marts(built["incremental_marts"], built["full_marts"])


def test_later_builds_were_incremental(built: dict) -> None:
    # Rows computed by each build keep its watermark: the later builds did not rebuild the
    # incremental facts whole (else every row would carry the newest watermark).
    assert built["watermarks"] == {t: len(MONTH_GROUPS) for t in INCREMENTAL}


def test_as_of_build_reproduces_the_first_build(built: dict) -> None:
    run_dbt_build(built["settings"], as_of=built["after_first"], select=ADVOCACY, **BUILD)
    rebuilt = _marts(built["settings"], tables={m.lstrip("+") for m in ADVOCACY.split()})
    _assert_same_marts(rebuilt, {t: built["first_marts"][t] for t in rebuilt})


def test_rejecting_a_batch_rebuilds_the_incremental_facts_without_it(built: dict) -> None:
    from reachloop.cli import main

    settings = built["settings"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        batch_id, engagement_ids = con.execute(
            """select batch_id, list(engagement_id) from raw.engagement
               group by batch_id order by batch_id limit 1"""
        ).fetchone()
    assert main(["--home", str(settings.home), "batches", "reject", batch_id, "--reason", "test"]) == 0

    # No data landed since the last build: only the operator's decision tells the incremental
    # models to rebuild whole, and they must, to drop the rejected batch's events.
    run_dbt_build(settings, select="+fct_engagements", **BUILD)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        left = con.execute(
            "select count(*) from marts.fct_engagements where list_contains(?, engagement_id)", [engagement_ids]
        ).fetchone()[0]
        watermarks = con.execute(f"select count(distinct {WATERMARK}) from marts.fct_engagements").fetchone()[0]
    assert (left, watermarks) == (0, 1)
