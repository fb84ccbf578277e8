"""The README's local Airflow recipe, run as written: its commands are read from the README (so
the test breaks when the README drifts) and run in a fresh folder laid out like a clone, with
a PATH that does not hold the virtualenv, as a new user's shell. `airflow standalone` must come
up healthy with the DAGs listed and unpaused at once and a landing run started on the sample
deliveries; then its whole process group is stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.deliveries import SOURCE_FAMILIES
from tests.helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]


def recipe() -> list[str]:
    """The shell lines of the README's local Airflow recipe (continuations joined)."""
    section = REPO.joinpath("README.md").read_text().split("## Running under Airflow", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_make_airflow_runs_the_readme_recipe() -> None:
    script = REPO.joinpath("scripts", "airflow_local.sh").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in script.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("export PATH="))
    assert [line for line in lines[start:] if line] == recipe()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _query(db: Path, sql: str) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def _ours(marker: str) -> list[int]:
    """Processes (of this user) whose environment holds marker: what the recipe started."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return [p for p in pids if p != os.getpid()]


def test_the_readme_airflow_recipe_works_verbatim(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for part in (".venv", "dags"):  # what the recipe uses of a clone
        (clone / part).symlink_to(REPO / part)
    commands = recipe()
    assert commands[-1] == "airflow standalone"
    port = _free_port()
    venv_bin = str(REPO / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "REACHLOOP_", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p).resolve() != Path(venv_bin).resolve())
    # A free port instead of 8080, on a shared machine; the rest as the README has it.
    env |= {"AIRFLOW__API__PORT": str(port), "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "RECIPE_TEST_MARKER": str(tmp_path), "PS4": "+ $(date +%T) "}  # bash -x: when each ran
    log = (tmp_path / "recipe.log").open("w")
    proc = subprocess.Popen(["bash", "-euxo", "pipefail", "-c", "\n".join(commands)], cwd=clone, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    airflow_home = clone / ".reachloop" / "airflow"

    def output() -> str:
        return (tmp_path / "recipe.log").read_text()[-4000:]

    def wait(what: str, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := check():
                return result
            assert proc.poll() is None, f"the recipe ended while waiting for {what}:\n{output()}"
            time.sleep(2)
        raise AssertionError(f"timed out waiting for {what}:\n{output()}")

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait("the api-server", healthy, 400)
        listed = (tmp_path / "recipe.log").read_text()  # `airflow dags list` ran before standalone
        for family in SOURCE_FAMILIES:
            assert f"reachloop_land_{family}" in listed
        assert "reachloop_build" in listed
        db = airflow_home / "airflow.db"
        paused = _query(db, "select dag_id, is_paused from dag where dag_id like 'reachloop_%'")
        assert len(paused) == len(SOURCE_FAMILIES) + 1 and not any(p for _, p in paused), paused
        # Unpaused at once: the scheduler starts a landing run for yesterday's deliveries.
        wait("a landing run", lambda: _query(
            db, "select dag_id from dag_run where dag_id like 'reachloop_land_%'"), 240)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for pid in _ours(str(tmp_path)):  # anything that left the process group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    deliveries = clone / ".reachloop" / "airflow" / "sample" / "deliveries"
    assert {p.parent.parent.name for p in deliveries.glob(f"*/{yesterday}/*")} >= {"advocacy", "web", "crm"}
    assert "FileNotFoundError" not in output()
