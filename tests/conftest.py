"""Shared fixtures: an isolated REACHLOOP_HOME, a PII key, one generated workload per session,
and the builds several test modules read (each made once per session, shared by the xdist
workers). Plain helpers live in tests/helpers.py, the scenarios in tests/scenarios.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventlog.settings import Settings
from tests.helpers import TEST_PII_KEY, shared_root
from tests.scenarios import built_main_scenario, published_build

__all__ = ["TEST_PII_KEY"]  # test_gates.py still imports it from here; new code: tests.helpers


@pytest.fixture(autouse=True)
def pii_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("REACHLOOP_PII_KEY", TEST_PII_KEY)
    return TEST_PII_KEY.encode()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("REACHLOOP_HOME", str(home))
    return Settings.from_env()


@pytest.fixture(scope="session")
def small_workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated SF0.05 workload (DIR/landing, DIR/ground_truth), made once per test session."""
    from generator import generate

    out = tmp_path_factory.mktemp("workload")
    generate(0.05, 7, out)
    return out


@pytest.fixture(scope="session")
def main_scenario_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The REACHLOOP_HOME of the hand-made attribution scenario (tests/scenarios.py
    main_scenario), landed and dbt-built once per session; read it, do not write to it."""
    return built_main_scenario(shared_root(tmp_path_factory, "reachloop-attribution-main"))


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A published build (generate SF0.05, seed 7 → ``reachloop run``), made once per session:
    under pytest-xdist the first worker to need it builds it under a file lock in the session's
    shared temp folder, the others wait and reuse it. Tests that build again work on a copy."""
    return published_build(shared_root(tmp_path_factory, "reachloop-published-build"))
