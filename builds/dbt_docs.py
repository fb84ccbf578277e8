"""dbt docs for the project: every mart, column, test, exposure and the lineage, as HTML."""

from __future__ import annotations

from pathlib import Path

from builds.dbt_build import invoke_dbt, project_args
from eventlog.errors import ReachloopError
from eventlog.settings import Settings


def docs_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "docs"


def generate_docs(settings: Settings) -> Path:
    """``dbt docs generate --static`` against the built warehouse (the catalog reads its
    tables); returns the folder holding index.html and static_index.html."""
    if not settings.warehouse.exists():
        raise ReachloopError(f"no warehouse at {settings.warehouse}: run reachloop build first")
    target = docs_dir(settings)
    outcome = invoke_dbt(settings, ["docs", "generate", "--static", *project_args(settings, target)])
    if not outcome.success:
        raise ReachloopError("dbt docs generate failed: see $REACHLOOP_HOME/dbt/logs")
    if not (target / "index.html").exists():
        raise ReachloopError(f"dbt docs generate wrote no index.html under {target}")
    return target
