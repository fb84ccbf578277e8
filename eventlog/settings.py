"""Where reachloop keeps its files, and the secrets it reads from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eventlog.errors import ReachloopError

PII_KEY_ENV = "REACHLOOP_PII_KEY"
HOME_ENV = "REACHLOOP_HOME"
ENGINE_ENV = "REACHLOOP_ENGINE"
# Where the dbt project builds: DuckDB (embedded, the default) or Spark (dbt-spark; docs/operators.md).
ENGINES = ("duckdb", "spark")
# Printed by the demo so that nobody mistakes it for a real key.
DEMO_PII_KEY = "reachloop-demo-key-not-for-production"


@dataclass(frozen=True)
class Settings:
    home: Path

    @classmethod
    def from_env(cls, home: str | Path | None = None) -> Settings:
        return cls(Path(home or os.environ.get(HOME_ENV) or ".reachloop").resolve())

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def status_snapshot(self) -> Path:
        """What ``reachloop status`` shows, as of the last writer's connection (JSON)."""
        return self.home / "status.json"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def published_duckdb(self) -> Path:
        return self.published / "reachloop.duckdb"

    @property
    def published_parquet(self) -> Path:
        return self.published / "parquet"


# The key being retired, set only while re-landing into a new home after a key rotation
# (docs/operators.md, "Rotating REACHLOOP_PII_KEY"): landing then recognizes people erased
# under it.
PREVIOUS_PII_KEY_ENV = "REACHLOOP_PII_KEY_PREVIOUS"


def previous_pii_key() -> bytes | None:
    key = os.environ.get(PREVIOUS_PII_KEY_ENV, "")
    return key.encode() if key else None


def pii_key() -> bytes:
    """The pseudonymization key; landing refuses to run without one."""
    key = os.environ.get(PII_KEY_ENV, "")
    if not key:
        raise ReachloopError(
            f"{PII_KEY_ENV} is not set: landing pseudonymizes emails and member ids with a "
            "keyed hash and refuses to run without a key (set a long random secret)"
        )
    return key.encode()


def build_engine(engine: str | None = None) -> str:
    """The engine a build runs its dbt step on: ``engine`` if given, else $REACHLOOP_ENGINE,
    else DuckDB."""
    chosen = (engine or os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise ReachloopError(f"unknown engine {chosen!r}: choose one of {', '.join(ENGINES)}")
    return chosen
