"""Writers wait their turn: a second process waits for the warehouse's lock (bounded), a land
waits for a whole build (the home's writer lock), a build that fails for any reason is
recorded failed with its reason, and status reads while a writer holds the file. The lock holder is a real second process: DuckDB shares one instance
per file within a process, so only another process can hold the lock against us."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builds.steps import run_dbt, run_gate_1, start_build
from eventlog.settings import Settings
from eventlog.warehouse import LOCK_TIMEOUT_ENV, WarehouseBusy, open_warehouse, warehouse, writer_lock
from reachloop.cli import main

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); " \
       "time.sleep(float(sys.argv[2]))"


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(tmp_path / "home")
    with warehouse(s):  # creates the log and leaves a status snapshot
        pass
    return s


def test_second_writer_waits_for_the_lock(settings: Settings, capfd) -> None:
    holder = _hold_lock(settings.warehouse, 2)
    started = time.monotonic()
    con = open_warehouse(settings.warehouse, timeout=60)
    waited = time.monotonic() - started
    con.close()
    holder.wait()
    assert waited >= 0.5, "the lock was held: the open must have waited"
    assert "waiting for the warehouse" in capfd.readouterr().err


def test_lock_wait_is_bounded(settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "1")
    holder = _hold_lock(settings.warehouse, 30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match=LOCK_TIMEOUT_ENV):
            open_warehouse(settings.warehouse)
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("step", [run_gate_1, run_dbt])
def test_a_build_that_loses_the_lock_is_recorded_failed(settings: Settings, monkeypatch, step) -> None:
    build_id = start_build(settings).build_id
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "1")
    # The steps' imports (Great Expectations: seconds on a busy machine) before the holder
    # starts its 4 seconds, so that the step meets the lock.
    import builds.dbt_build  # noqa: F401
    import builds.gates  # noqa: F401

    holder = _hold_lock(settings.warehouse, 4)
    try:
        with pytest.raises(WarehouseBusy):
            step(settings, build_id)
    finally:
        holder.wait()
    # Recording the failure waited (at least a minute) for the holder to let go.
    with warehouse(settings, read_only=True) as con:
        status, error = con.execute(
            "select status, error from meta.builds where build_id = ?", [build_id]
        ).fetchone()
    assert status == "failed"
    assert "stayed locked" in error and error.split(":")[0] in ("gate 1", "dbt build")


def test_status_reads_the_snapshot_while_a_writer_holds_the_warehouse(settings: Settings, capsys) -> None:
    holder = _hold_lock(settings.warehouse, 60)
    try:
        code = main(["--home", str(settings.home), "status", "--json"])
    finally:
        holder.kill()
        holder.wait()
    assert code == 0
    status = json.loads(capsys.readouterr().out)
    assert status["snapshot_at"] and "event_types" in status


def test_a_land_waits_for_the_whole_build_not_just_its_open_connections(settings: Settings, tmp_path) -> None:
    """A build holds the home's writer lock from start to publish, also between its steps when
    no connection is open (where dbt used to lose the file to a land): a land in another
    process waits for all of it."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "click.csv").write_text(
        "click_id,tracking_token,visitor_id,occurred_at\nc1,t1,v1,2025-03-01T10:00:00Z\n"
    )
    env = {**os.environ, "REACHLOOP_PII_KEY": "test-key-for-pytest-only", "REACHLOOP_HOME": str(settings.home)}
    with writer_lock(settings, "build"):
        land = subprocess.Popen([sys.executable, "-m", "reachloop.cli", "land", str(folder)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said = land.stderr.readline()  # blocks until the land says it waits (or ends)
        assert "another land or build is running" in said, said + land.communicate()[1]
        time.sleep(1)
        # The land still waits although the warehouse itself is free: this process can write it.
        assert land.poll() is None
        with writer_lock(settings, "build"), warehouse(settings) as con:  # nested: no deadlock
            assert con.execute("select count(*) from meta.batches").fetchone() == (0,)
    out, err = land.communicate(timeout=120)
    assert land.returncode == 0, err
    with warehouse(settings, read_only=True) as con:
        assert con.execute("select count(*) from raw.click").fetchone() == (1,)


def test_an_erasure_waits_for_the_writer_lock(settings: Settings) -> None:
    """Erasure rewrites the log, the publications and the warehouse file: it is a writer too, and
    waits for a land or build in progress instead of erasing under it."""
    env = {**os.environ, "REACHLOOP_PII_KEY": "test-key-for-pytest-only", "REACHLOOP_HOME": str(settings.home)}
    with writer_lock(settings, "build"):
        erase = subprocess.Popen(
            [sys.executable, "-m", "reachloop.cli", "erase", "--email", "someone@example.com", "--reason", "test"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        said = erase.stderr.readline()
        assert "another land or build is running" in said, said + erase.communicate()[1]
        time.sleep(1)
        assert erase.poll() is None
    out, err = erase.communicate(timeout=120)
    assert erase.returncode == 0, err
    with warehouse(settings, read_only=True) as con:
        assert con.execute("select count(*) from meta.erasure_requests").fetchone()[0] >= 1
