"""Child-process entry points for the stages that have no CLI command of their own.

    python -m bench.steps build [--full-refresh]   reachloop.pipeline.build, outcome as JSON
    python -m bench.steps attribution              dbt run of the attribution models alone
    python -m bench.steps publish                  reachloop.publish.publish alone

``build`` is what ``reachloop build`` runs (the CLI only adds printing); ``attribution`` is
``reachloop.dbt_build.run_dbt_build`` with a selection (models and their tests), run again on
a built warehouse to measure that part alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from reachloop.settings import Settings

ATTRIBUTION_SELECT = ["path:models/intermediate/attribution", "path:models/marts/attribution"]


def cmd_build(args: argparse.Namespace) -> dict:
    from reachloop.pipeline import build

    outcome = build(Settings.from_env(), full_refresh=args.full_refresh)
    return {
        "status": outcome.status,
        "build_id": outcome.build_id,
        "full_refresh": outcome.full_refresh,
        "models": outcome.models,
        "tests": outcome.tests,
        "seconds": outcome.seconds,
    }


def cmd_attribution(args: argparse.Namespace) -> dict:
    from reachloop.dbt_build import run_dbt_build

    res = run_dbt_build(Settings.from_env(), select=" ".join(ATTRIBUTION_SELECT))
    return {"seconds": res.seconds, "models": res.models, "tests": res.tests}


def cmd_publish(args: argparse.Namespace) -> dict:
    from reachloop.publish import publish

    settings = Settings.from_env()
    started = time.perf_counter()
    publish(settings, settings.home / "bench_publish")
    return {"seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.steps")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--full-refresh", action="store_true")
    b.set_defaults(func=cmd_build)
    sub.add_parser("attribution").set_defaults(func=cmd_attribution)
    sub.add_parser("publish").set_defaults(func=cmd_publish)
    args = p.parse_args(argv)
    print(json.dumps(args.func(args), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
