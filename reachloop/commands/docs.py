"""``reachloop docs``: dbt docs (every mart, column, test, exposure and the lineage) as HTML."""

from __future__ import annotations

import argparse
from pathlib import Path

from eventlog.errors import ReachloopError
from eventlog.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "docs",
        help="generate the dbt docs site (marts, columns, tests, exposures, lineage)",
        description="Run `dbt docs generate` in process against the warehouse (build first: the "
        "catalog reads the built tables). Writes the docs under $REACHLOOP_HOME/dbt/docs/: "
        "index.html with manifest.json and catalog.json (serve the folder, e.g. python -m "
        "http.server), and static_index.html, one file that opens straight from disk.",
    )
    p.set_defaults(func=run)


def docs_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "docs"


def generate_docs(settings: Settings) -> Path:
    """Generate the docs; returns the folder holding index.html and static_index.html."""
    from dbt.cli.main import dbtRunner

    from builds.dbt_build import PROJECT_DIR, _environ, _first_line, _release_warehouse
    from eventlog.settings import HOME_ENV

    if not settings.warehouse.exists():
        raise ReachloopError(f"no warehouse at {settings.warehouse}: run reachloop build first")
    target = docs_dir(settings)
    args = [
        "docs", "generate", "--static",
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target), "--log-path", str(settings.home / "dbt" / "logs"), "--quiet",
    ]
    try:
        with _environ({HOME_ENV: str(settings.home)}):
            outcome = dbtRunner().invoke(args)
    finally:
        _release_warehouse()
    if outcome.exception is not None or not outcome.success:
        reason = "see $REACHLOOP_HOME/dbt/logs"
        if outcome.exception is not None:
            reason = _first_line(outcome.exception)
        raise ReachloopError(f"dbt docs generate failed: {reason}")
    if not (target / "index.html").exists():
        raise ReachloopError(f"dbt docs generate wrote no index.html under {target}")
    return target


def run(args: argparse.Namespace) -> int:
    target = generate_docs(Settings.from_env(args.home))
    print(target / "index.html")
    print(f"  one file, opens from disk: {target / 'static_index.html'}")
    print(f"  or serve the folder:       python -m http.server --directory {target}")
    return 0
