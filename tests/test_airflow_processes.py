"""Once, for real: api-server, scheduler and dag-processor as separate processes (SQLite
metadata in a temporary AIRFLOW_HOME); a landing run's Asset triggers the build DAG, which
publishes. This is what dag.test() cannot show: serialization, the execution API, Assets."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.deliveries import route_deliveries
from tests.helpers import query

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).parent / "airflow")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]
TIMEOUT = 420


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout: float, procs: list[subprocess.Popen]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        dead = [p.args for p in procs if p.poll() is not None]
        assert not dead, f"Airflow process exited while waiting for {what}: {dead}"
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _query(db: Path, sql: str, params=()) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not migrated yet, or locked for a moment
        return []


def test_landing_asset_triggers_build_through_real_airflow(
    small_workload: Path, settings, tmp_path: Path, pii_key
):
    airflow_home = tmp_path / "airflow"
    landing = tmp_path / "landing"
    # Yesterday's delivery: the interval the landing DAG's latest scheduled run covers.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    route_deliveries(small_workload / "landing", landing, yesterday)
    port = _free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-secret-for-this-run-only",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "REACHLOOP_HOME": str(settings.home),
        "REACHLOOP_LANDING": str(landing),
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    db = airflow_home / "airflow.db"
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([AIRFLOW, "pools", "set", "reachloop_warehouse", "1", "DuckDB: one writer"],
                   env=env, check=True, capture_output=True, timeout=120)
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(*cmd: str) -> subprocess.Popen:
        return subprocess.Popen([AIRFLOW, *cmd], env=env, stdout=(logs / f"{cmd[0]}.log").open("w"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    # Tasks call the api-server's execution API: it must be up before the scheduler runs any.
    procs = [start("api-server", "--port", str(port), "--host", "127.0.0.1")]
    try:
        _wait("the api-server", healthy, TIMEOUT / 3, procs)
        procs += [start("scheduler"), start("dag-processor")]
        _wait("the DAGs to be parsed", lambda: len(_query(
            db, "select dag_id from dag where dag_id like 'reachloop_%'")) >= 6, TIMEOUT / 3, procs)
        # Only the advocacy family and the build run: unpaused, the landing DAG's latest
        # interval (yesterday) is scheduled at once, lands and emits its Asset.
        for dag_id in ("reachloop_build", "reachloop_land_advocacy"):
            subprocess.run([AIRFLOW, "dags", "unpause", dag_id], env=env, check=True,
                           capture_output=True, timeout=120)
        landed = _wait("the landing run", lambda: _query(
            db, "select state from dag_run where dag_id = 'reachloop_land_advocacy' "
                "and state in ('success', 'failed')"), TIMEOUT / 2, procs)
        assert landed == [("success",)], (logs / "scheduler.log").read_text()[-3000:]
        # No trigger for the build: the landing's Asset event schedules it.
        built = _wait("the asset-triggered build", lambda: _query(
            db, "select state, run_type from dag_run where dag_id = 'reachloop_build' "
                "and state in ('success', 'failed')"), TIMEOUT, procs)
        assert built[0] == ("success", "asset_triggered"), (logs / "scheduler.log").read_text()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    published = settings.published_duckdb
    rows = query(published, "select count(*) from mart_engagement_rate")[0][0]
    assert rows > 0
    assert (settings.published / "parquet" / "mart_engagement_rate" / "data.parquet").exists()
