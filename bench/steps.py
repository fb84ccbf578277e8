"""Child-process entry points for the stages that have no CLI command of their own.

    python -m bench.steps build [--full-refresh] [--profile FILE]
                                                   builds.steps.build, outcome as JSON
                                                   (wall and CPU seconds per step; with
                                                   --profile, where the time went)
    python -m bench.steps attribution              dbt run of the attribution models alone
    python -m bench.steps publish                  builds.publish.publish alone
    python -m bench.steps marts                    dbt run of the peer-checked marts (smoke)

``build`` is what ``reachloop build`` runs (the CLI only adds printing); ``attribution`` is
``builds.dbt_build.run_dbt_build`` with a selection (models and their tests), run again on
a built warehouse to measure that part alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from eventlog.settings import Settings

ATTRIBUTION_SELECT = ["path:models/intermediate/attribution", "path:models/marts/attribution"]


def cmd_build(args: argparse.Namespace) -> dict:
    from builds.steps import build

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    outcome = build(Settings.from_env(), full_refresh=args.full_refresh, engine=args.engine)
    result = {
        "status": outcome.status,
        "build_id": outcome.build_id,
        "full_refresh": outcome.full_refresh,
        "models": outcome.models,
        "tests": outcome.tests,
        "seconds": outcome.seconds,
        "cpu_seconds": outcome.cpu_seconds,
    }
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
        result["breakdown"] = breakdown(args.profile)
    if args.engine == "spark":
        _reap_spark_jvm()
    return result


def _reap_spark_jvm() -> None:
    """Stop the Spark session and wait for its JVM, a child of this process: only a child that
    was waited for counts in the stage's CPU time and peak memory (wait4's rusage)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    process = getattr(gateway, "proc", None)
    if process is not None:
        process.stdin.close()  # the JVM exits when its stdin closes
        process.wait(timeout=120)


# Where a build's fixed cost goes: (label, file suffix, function), cumulative seconds of the
# function under cProfile. They overlap (dbt's parse and nodes are inside its invocation).
BREAKDOWN = (
    ("whole build", "builds/steps.py", "build"),
    ("import dbt", "dbt/cli/main.py", "<module>"),
    ("dbt invocation", "dbt/cli/main.py", "invoke"),
    ("dbt parse (manifest)", "dbt/parser/manifest.py", "parse_manifest"),
    ("dbt nodes", "dbt/task/runnable.py", "execute_nodes"),
    ("import great_expectations", "great_expectations/__init__.py", "<module>"),
    ("GX validation (its import included)", "builds/gates/runner.py", "_validate"),
    ("gate 1", "builds/steps.py", "run_gate_1"),
    ("gate 2", "builds/steps.py", "run_gate_2"),
    ("publish", "builds/steps.py", "run_publish"),
)


def breakdown(stats_file: str) -> dict[str, float]:
    """Seconds (cumulative, under the profiler) of the parts of a build in BREAKDOWN."""
    import pstats

    stats = pstats.Stats(stats_file).stats  # (file, line, function) → (cc, nc, tt, ct, callers)
    out = {}
    for label, suffix, function in BREAKDOWN:
        found = [v[3] for (file, _, fn), v in stats.items() if file.endswith(suffix) and fn == function]
        out[label] = round(max(found, default=0.0), 3)
    return out


def cmd_attribution(args: argparse.Namespace) -> dict:
    from builds.dbt_build import run_dbt_build

    res = run_dbt_build(Settings.from_env(), select=" ".join(ATTRIBUTION_SELECT))
    return {"seconds": res.seconds, "models": res.models, "tests": res.tests}


PEER_MARTS = (
    "mart_reach_vs_network mart_engagement_rate mart_engagement_bubble mart_bubble_overlap "
    "mart_lead_to_deal_attribution"
)


def cmd_marts(args: argparse.Namespace) -> dict:
    """dbt build of models and seeds only (no tests) of the peer-checked marts and their
    parents: the smoke benchmark's stand-in for a build, a few times cheaper."""
    from builds.dbt_build import dbt_args, invoke_dbt

    settings = Settings.from_env()
    argv = dbt_args(settings, select=" ".join("+" + m for m in PEER_MARTS.split()))
    started = time.perf_counter()
    res = invoke_dbt(settings, [*argv, "--resource-type", "model", "--resource-type", "seed"])
    if not res.success:
        failed = [
            f"{r.node.name}: {r.message}" for r in (res.result or ()) if str(r.status) in ("error", "fail")
        ]
        raise SystemExit(f"dbt run failed: {failed[:1] or res.exception}")
    return {"seconds": time.perf_counter() - started, "models": len(res.result or ())}


def cmd_publish(args: argparse.Namespace) -> dict:
    from builds.publish import publish

    settings = Settings.from_env()
    started = time.perf_counter()
    publish(settings, settings.home / "bench_publish")
    return {"seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.steps")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--full-refresh", action="store_true")
    b.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    b.add_argument("--profile", metavar="FILE", help="run under cProfile, save its stats to FILE and "
                   "add the seconds of the build's parts (BREAKDOWN) to the output")
    b.set_defaults(func=cmd_build)
    sub.add_parser("attribution").set_defaults(func=cmd_attribution)
    sub.add_parser("publish").set_defaults(func=cmd_publish)
    sub.add_parser("marts").set_defaults(func=cmd_marts)
    args = p.parse_args(argv)
    print(json.dumps(args.func(args), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
