"""Shared fixtures: an isolated REACHLOOP_HOME, a PII key, and one generated workload per session."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from eventlog.settings import Settings

TEST_PII_KEY = "test-key-for-pytest-only"


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


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Read the warehouse (or any DuckDB file) read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
