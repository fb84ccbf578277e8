"""``reachloop build``: dbt build, quality gates, publish."""

from __future__ import annotations

import argparse

from builds.steps import STEPS, build
from eventlog.errors import ReachloopError
from eventlog.settings import ENGINE_ENV, ENGINES, Settings, build_engine
from eventlog.warehouse import warehouse
from reachloop.progress import Progress


def add_build_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as-of", metavar="TS",
        help="rebuild from only the events ingested up to TS (ISO 8601), to reproduce a past report",
    )
    p.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    p.add_argument(
        "--force", action="store_true",
        help="build even when nothing changed since the last successful build (no new batch, "
        "operator decision or model change): by default such a build says so and does nothing",
    )
    p.add_argument(
        "--engine", choices=ENGINES, default=None,
        help=f"where dbt builds the models: duckdb (embedded, the default) or spark (dbt-spark, "
        f"a local pyspark; `make spark-env`); default ${ENGINE_ENV}, else duckdb",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build the marts from the event log, check them and publish",
        description="Run gate 1 on landed batches, the dbt build, gate 2 on the marts, then "
        "publish published/reachloop.duckdb and published/parquet/ (as-of builds publish "
        "under as_of/ instead, leaving the current publication alone).",
    )
    add_build_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    engine = build_engine(getattr(args, "engine", None))
    # Marts from an empty log would publish an empty version over nothing: say what is missing.
    landed = settings.warehouse.exists()
    if landed:
        with warehouse(settings, read_only=True) as con:
            landed = con.execute("select count(*) from meta.batches").fetchone()[0] > 0
    if not landed:
        raise ReachloopError(
            f"nothing landed in {settings.home} yet: land files first (reachloop land DIR); nothing published"
        )
    progress = Progress("build", len(STEPS))
    try:
        outcome = build(
            settings, as_of=args.as_of, full_refresh=args.full_refresh,
            skip_if_unchanged=not (args.force or args.full_refresh), on_step=progress.step,
            engine=engine,
        )
    finally:
        progress.close()
    print(outcome.summary())
    return 0
