"""The build: gate 1 on landed batches → dbt build → gate 2 on marts → publish.

One definition of the sequence, used by ``reachloop build``/``run`` and the Airflow build DAG.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from reachloop.settings import Settings


@dataclass
class BuildOutcome:
    as_of: str | None
    full_refresh: bool
    models: int = 0
    tests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    published_to: Path | None = None

    def summary(self) -> str:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        where = f"; published to {self.published_to}" if self.published_to else ""
        return f"built {self.models} models, {self.tests} tests passed ({steps}){where}"


def publish_destination(settings: Settings, as_of: str | None) -> Path:
    """An as-of build reproduces a past report beside the current one, never over it."""
    if as_of is None:
        return settings.published
    stamp = "".join(ch if ch.isalnum() else "-" for ch in as_of).strip("-")
    return settings.home / "as_of" / stamp


def build(settings: Settings, as_of: str | None = None, full_refresh: bool = False) -> BuildOutcome:
    from reachloop.dbt_build import run_dbt_build
    from reachloop.publish import publish

    # Reproducing the past rebuilds everything from the log: incremental state is of no use.
    full_refresh = full_refresh or as_of is not None
    outcome = BuildOutcome(as_of=as_of, full_refresh=full_refresh)

    started = time.perf_counter()
    result = run_dbt_build(settings, as_of=as_of, full_refresh=full_refresh)
    outcome.seconds["dbt build"] = time.perf_counter() - started
    outcome.models, outcome.tests = result.models, result.tests

    started = time.perf_counter()
    outcome.published_to = publish(settings, publish_destination(settings, as_of))
    outcome.seconds["publish"] = time.perf_counter() - started
    return outcome
