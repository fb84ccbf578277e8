"""The Airflow DAGs: they import cleanly, and dag.test() runs landing → gates → dbt → publish.

Airflow runs against a SQLite metadata database in a temporary AIRFLOW_HOME, set before
Airflow is imported. dag.test() runs every task in this process, on the same library code
the CLI uses.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="reachloop-airflow-")
os.environ.setdefault("AIRFLOW_HOME", _AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

from eventlog.settings import Settings  # noqa: E402
from ingestion.deliveries import SOURCE_FAMILIES, route_deliveries  # noqa: E402
from tests.helpers import poisoned_metrics, query, tree_digest  # noqa: E402

DAGS = Path(__file__).resolve().parent.parent / "dags"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.pool import Pool
    from airflow.utils.db import initdb

    initdb()
    DagBundlesManager().sync_bundles_to_db()
    Pool.create_or_update_pool("reachloop_warehouse", 1, "DuckDB: one writer", include_deferred=False)
    # As the dag-processor parses a bundle: its folder on sys.path (the DAGs share a module).
    bag = BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS)
    # dag.test() creates runs of serialized DAGs, as the dag-processor would have stored them.
    sync_bag_to_db(bag, "dags-folder", None)
    return bag


def test_dagbag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    expected = {f"reachloop_land_{f}" for f in SOURCE_FAMILIES} | {"reachloop_build"}
    assert expected <= set(dagbag.dag_ids)


def test_dags_are_thin_serialized_and_asset_driven(dagbag):
    build = dagbag.get_dag("reachloop_build")
    assert [t.task_id for t in build.topological_sort()] == ["start", "gate_1", "dbt_build", "gate_2", "publish"]
    assert build.max_active_runs == 1 and build.max_active_tasks == 1
    assert all(t.pool == "reachloop_warehouse" and t.retries >= 1 for t in build.tasks)
    scheduled_on = {a.name for a in build.timetable.asset_condition.iter_assets().values()} if hasattr(
        build.timetable.asset_condition, "iter_assets") else set()
    for family in SOURCE_FAMILIES:
        land = dagbag.get_dag(f"reachloop_land_{family}")
        assert [t.task_id for t in land.topological_sort()] == ["land", "all_files_landed"]
        task = land.get_task("land")
        assert task.pool == "reachloop_warehouse" and task.retries >= 1
        assert task.retry_exponential_backoff
        (outlet,) = task.outlets
        assert outlet.name == f"reachloop_landed_{family}"
        if scheduled_on:
            assert outlet.name in scheduled_on
    assert {o.name for o in build.get_task("publish").outlets} == {"reachloop_published"}


def _run_after(day: date) -> datetime:
    """A manual daily run covers the last complete day before it: [day, day + 1)."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_dag_runs_end_to_end_with_poisoned_batch_and_reject(
    dagbag, small_workload: Path, settings: Settings, tmp_path: Path, monkeypatch
):
    landing = tmp_path / "landing"
    monkeypatch.setenv("REACHLOOP_LANDING", str(landing))
    day = date(2025, 3, 1)
    route_deliveries(small_workload / "landing", landing, day)
    at = _run_after(day)

    # 1. Every family lands its delivery; then the build publishes.
    for family in SOURCE_FAMILIES:
        run = dagbag.get_dag(f"reachloop_land_{family}").test(logical_date=at)
        assert _states(run) == {"land": "success", "all_files_landed": "success"}, family
    run = dagbag.get_dag("reachloop_build").test()
    assert str(run.state) == "success", _states(run)
    published = settings.published_duckdb
    assert published.exists()
    marts = {r[0] for r in query(published, "select table_name from information_schema.tables")}
    assert {"mart_engagement_rate", "_publication"} <= marts
    assert (settings.published / "parquet" / "mart_engagement_rate" / "data.parquet").exists()
    good = tree_digest(settings.published)

    # 2. Re-running an interval is a no-op: landing skips, the build skips, nothing changes.
    run = dagbag.get_dag("reachloop_land_web").test(logical_date=at)
    assert _states(run) == {"land": "skipped", "all_files_landed": "skipped"}
    run = dagbag.get_dag("reachloop_build").test()
    assert _states(run)["start"] == "skipped"
    assert tree_digest(settings.published) == good

    # 3. A poisoned delivery fails gate 1: nothing is published, readers keep their bytes.
    poison_dir = landing / "advocacy" / "2025-03-02"
    poison_dir.mkdir(parents=True)
    poisoned_metrics(small_workload, poison_dir)
    run = dagbag.get_dag("reachloop_land_advocacy").test(logical_date=_run_after(date(2025, 3, 2)))
    assert _states(run) == {"land": "success", "all_files_landed": "success"}
    run = dagbag.get_dag("reachloop_build").test()
    states = _states(run)
    assert states["gate_1"] == "failed" and states["publish"] != "success", states
    assert tree_digest(settings.published) == good
    (build_id, status, error), = query(
        settings.warehouse, "select build_id, status, error from meta.builds order by started_at desc limit 1"
    )
    assert status == "failed" and "gate 1" in error and "impressions" in error
    (bad,) = [r[0] for r in query(settings.warehouse,
              "select batch_id from meta.batch_gates where outcome = 'failed'")]
    assert bad in error

    # 4. Retract the batch: the next run rebuilds from scratch and publishes.
    from reachloop.cli import main

    assert main(["batches", "reject", bad, "--reason", "negative impressions"]) == 0
    run = dagbag.get_dag("reachloop_build").test()
    assert str(run.state) == "success", _states(run)
    assert tree_digest(settings.published) != good
    ((full_refresh,),) = query(settings.warehouse,
                               "select full_refresh from meta.builds order by started_at desc limit 1")
    assert full_refresh
    ((negative,),) = query(published, "select count(*) from mart_engagement_rate where impressions < 0")
    assert negative == 0


def test_a_file_that_fails_to_land_fails_the_run_after_the_others_land(
    dagbag, settings: Settings, tmp_path: Path, monkeypatch
):
    landing = tmp_path / "landing"
    monkeypatch.setenv("REACHLOOP_LANDING", str(landing))
    folder = landing / "web" / "2025-03-01"
    folder.mkdir(parents=True)
    (folder / "click-good.csv").write_text(
        "click_id,tracking_token,visitor_id,occurred_at,landing_url\n"
        "c1,t1,v1,2025-03-01T10:00:00Z,https://acme.example/a\n"
    )
    (folder / "click-broken.parquet").write_bytes(b"PAR1 this is not parquet")
    run = dagbag.get_dag("reachloop_land_web").test(logical_date=_run_after(date(2025, 3, 1)))
    # The good file landed and its Asset event went out (land succeeded); the run is failed.
    assert _states(run) == {"land": "success", "all_files_landed": "failed"}
    assert str(run.state) == "failed"
    assert query(settings.warehouse, "select count(*) from raw.click") == [(1,)]
