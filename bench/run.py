"""Benchmark the pipeline at several scale factors; compare with the floor and the peer.

    python -m bench.run --scales 0.1,1,10 [--sf100] [--out bench/results] [--markdown BENCHMARKS.md]

Per scale factor, each stage runs as a child process (wall, CPU, peak RSS via wait4):

    generate         reachloop generate
    land             reachloop land (the whole landing folder, fresh warehouse)
    land.<format>    reachloop land of only the CSV / JSON Lines / Parquet files (scratch warehouses)
    build            builds.steps.build = gate 1 → dbt build → gate 2 → publish
    attribution      the attribution models and their tests alone (dbt build --select), re-run
    publish          publish alone, re-run (to a scratch destination)
    floor.land       DuckDB reading the same files straight into tables
    floor.marts      the dbt project's compiled SQL straight in DuckDB, in dependency order
    peer             bench/pandas_peer.py (then checked against the published marts)
    incr.land, incr.build, noop.build, one.land, one.build, full.build
                     one day's batch landed and built on top of the log; reachloop build
                     again with nothing new (it must skip); one row of each event type the day
                     has, landed and built (the floor: what a day costs that does not follow
                     the change), then once more with dbt's statements logged, for the split of
                     its node time (bench.build_profile); a full refresh of the same log

Once per run, whatever the scales:

    tiny.build, tiny.full, tiny.noop (fixed cost)
                     an SF0.01 home's first build, a full rebuild of it, reachloop build with
                     nothing new; a profiled build for where the time goes (bench.steps --profile)
    attribution.solvers
                     bench/attribution.py: Markov removal effects (and Shapley values) of 100k
                     random-mixing journeys over 200, 1,000, 3,000 and 10,000 states, checked
                     against the textbook re-solve

Results: bench/results/<timestamp>.json (and latest.json); BENCHMARKS.md is rendered from them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.measure import PYTHON, REPO, Measurement, dir_size_mb, machine, run_stage
from eventlog.warehouse import MEMORY_LIMIT_ENV

REACHLOOP = str(Path(PYTHON).with_name("reachloop"))
# The Spark engine's environment (make spark-env): spark.build runs when it exists.
SPARK_PYTHON = str(REPO / ".venv-spark" / "bin" / "python")
DBT = str(Path(PYTHON).with_name("dbt"))
PII_KEY = "reachloop-bench-key-not-for-production"
ONE_ROW_DAY = "2025-06-12"  # the day after bench.day_batch's: its rows are not the day's again
PROFILED_ONE_ROW_DAY = "2025-06-13"
FORMATS = ("csv", "jsonl", "parquet")
# Past SF10 a run measures growth: land, build, the floor and the day batch. The pandas peer
# holds every event in memory (about 7 GB at SF10) and would not fit in this machine's RAM; the
# per-format comparison is made at SF10 and below.
DETAILED_MAX_SCALE = 10.0
ATTRIBUTION_PATHS = ("models/intermediate/attribution/", "models/marts/attribution/")


class Bench:
    def __init__(
        self, sf: float, work: Path, log: Path, *, seed: int, reuse: bool, quick: bool, smoke: bool,
        memory_limit: str = "",
    ):
        self.sf, self.seed, self.reuse, self.quick, self.smoke = sf, seed, reuse, quick, smoke
        self.memory_limit = memory_limit
        self.root = work / f"sf{sf:g}"
        self.data = self.root / "data"
        self.landing = self.data / "landing"
        self.home = self.root / "home"
        self.log = log
        self.stages: dict[str, Measurement] = {}
        self.info: dict = {"scale": sf, "seed": seed}
        self.on_stage = None

    def partial(self) -> dict:
        return {"info": self.info, "stages": {k: v.as_dict() for k, v in self.stages.items()}}

    def env(self, home: Path | None = None) -> dict[str, str]:
        env = {
            "REACHLOOP_HOME": str(home or self.home),
            "REACHLOOP_PII_KEY": PII_KEY,
            "PYTHONPATH": str(REPO),
        }
        if self.memory_limit:  # every DuckDB of every stage, the floor's included
            env[MEMORY_LIMIT_ENV] = self.memory_limit
        return env

    def stage(self, name: str, argv: list[str], rows: int = 0, home: Path | None = None) -> str:
        print(f"  SF{self.sf:g} {name} …", end="", flush=True)
        m, out = run_stage(name, argv, env=self.env(home), rows=rows, log=self.log)
        self.stages[name] = m
        if self.on_stage:  # results so far reach the JSON file after every stage
            self.on_stage(self.partial())
        rate = f", {m.rows_per_s:,.0f} rows/s" if m.rows_per_s else ""
        print(f" {m.wall_s:.1f}s wall, {m.cpu_s:.1f}s CPU, {m.max_rss_mb:,.0f} MB{rate}", flush=True)
        return out

    # --- stages ---------------------------------------------------------------------------------

    def generate(self) -> None:
        summary_file = self.data / "ground_truth" / "summary.json"
        if not (self.reuse and summary_file.exists()):
            self.stage(
                "generate",
                [
                    REACHLOOP,
                    "generate",
                    "--scale",
                    f"{self.sf:g}",
                    "--seed",
                    str(self.seed),
                    "--out",
                    str(self.data),
                    "--json",
                ],
            )
        summary = json.loads(summary_file.read_text())
        self.info["rows_in_files"] = sum(summary["rows_in_files"].values())
        self.info["events"] = summary["total_events"]
        self.info["landing_mb"] = dir_size_mb(self.landing)
        if "generate" in self.stages:
            self.stages["generate"].rows = self.info["rows_in_files"]

    def land(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        out = self.stage("land", [REACHLOOP, "land", str(self.landing), "--json"])
        files = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        self.stages["land"].rows = sum(f["rows_read"] for f in files)
        self.info["rows_landed"] = sum(f["rows_landed"] for f in files)
        self.info["rows_quarantined"] = sum(f["rows_quarantined"] for f in files)
        self.info["rows_duplicate"] = sum(f["rows_duplicate"] for f in files)
        self.info["warehouse_mb_after_land"] = dir_size_mb(self.home / "warehouse.duckdb")

    def land_by_format(self) -> None:
        for fmt in FORMATS:
            subset = self.root / "by_format" / fmt
            shutil.rmtree(subset, ignore_errors=True)
            for path in self.landing.rglob(f"*.{fmt}"):
                target = subset / path.relative_to(self.landing)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(path)
            home = self.root / "by_format_home" / fmt
            shutil.rmtree(home, ignore_errors=True)
            out = self.stage(f"land.{fmt}", [REACHLOOP, "land", str(subset), "--json"], home=home)
            files = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            self.stages[f"land.{fmt}"].rows = sum(f["rows_read"] for f in files)
            shutil.rmtree(home, ignore_errors=True)

    def floor_land(self) -> None:
        db = self.root / "floor_land.duckdb"
        db.unlink(missing_ok=True)
        out = self.stage("floor.land", [PYTHON, "-m", "bench.floor", "land", str(self.landing), str(db)])
        result = json.loads(out)
        self.stages["floor.land"].rows = result["rows"]
        self.stages["floor.land"].extra = {"by_format": result["by_format"]}
        db.unlink(missing_ok=True)

    def build(self) -> None:
        out = self.stage("build", [PYTHON, "-m", "bench.steps", "build"], rows=self.info["rows_landed"])
        result = json.loads(out.strip().splitlines()[-1])
        self.stages["build"].extra = result
        self.info["warehouse_mb_after_build"] = dir_size_mb(self.home / "warehouse.duckdb")
        self.info["published_mb"] = dir_size_mb(self.home / "published" / "reachloop.duckdb") + dir_size_mb(
            (self.home / "published" / "parquet").resolve()
        )
        self.info["dbt_nodes"] = dbt_node_times(self.home / "dbt" / "target")

    def spark_build(self) -> None:
        """The same build on Spark (local mode, this machine), from a copy of the landed log:
        the lake's export included, as a first Spark build of a home pays it."""
        home = self.root / "spark-home"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(self.home / "warehouse.duckdb", home / "warehouse.duckdb")
        out = self.stage("spark.build", [SPARK_PYTHON, "-m", "bench.steps", "build", "--engine", "spark"],
                         rows=self.info["rows_landed"], home=home)
        self.stages["spark.build"].extra = json.loads(out.strip().splitlines()[-1])
        shutil.rmtree(home, ignore_errors=True)

    def attribution(self) -> None:
        rows = log_rows(self.home, ("click", "form_fill", "deal"))
        out = self.stage("attribution", [PYTHON, "-m", "bench.steps", "attribution"], rows=rows)
        self.stages["attribution"].extra = json.loads(out.strip().splitlines()[-1])

    def publish(self) -> None:
        marts = json.loads(self._manifest().read_text())["marts"]
        rows = sum(m["rows"] for m in marts.values())
        out = self.stage("publish", [PYTHON, "-m", "bench.steps", "publish"], rows=rows)
        self.stages["publish"].extra = json.loads(out.strip().splitlines()[-1])
        shutil.rmtree(self.home / "bench_publish", ignore_errors=True)

    def _manifest(self) -> Path:
        link = self.home / "published" / "parquet"
        return link.resolve().parent / "publication.json"

    def floor_marts(self) -> None:
        scratch = self.root / "floor_marts"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        shutil.copy2(self.home / "warehouse.duckdb", scratch / "warehouse.duckdb")
        project = REPO / "dbt_project"
        run_stage(
            "dbt compile",
            [
                DBT,
                "compile",
                "--full-refresh",
                "--quiet",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target-path",
                str(scratch / "target"),
                "--log-path",
                str(scratch / "logs"),
            ],
            env=self.env(scratch),
            log=self.log,
        )
        out = self.stage(
            "floor.marts",
            [
                PYTHON,
                "-m",
                "bench.floor",
                "marts",
                str(scratch / "warehouse.duckdb"),
                str(scratch / "target" / "manifest.json"),
            ],
            rows=self.info["rows_landed"],
        )
        self.stages["floor.marts"].extra = json.loads(out)
        shutil.rmtree(scratch, ignore_errors=True)

    def smoke_marts(self) -> None:
        self.stage("build.smoke", [PYTHON, "-m", "bench.steps", "marts"], rows=self.info["rows_landed"])

    def peer(self) -> None:
        out_dir = self.root / "peer"
        shutil.rmtree(out_dir, ignore_errors=True)
        out = self.stage(
            "peer", [PYTHON, "-m", "bench.pandas_peer", "build", str(self.landing), str(out_dir)]
        )
        result = json.loads(out)
        self.stages["peer"].rows = result["rows_in"]
        self.stages["peer"].extra = result
        if self.smoke:  # marts made by a dbt run, not published: read them in the warehouse
            target = [str(self.home / "warehouse.duckdb"), "--schema", "marts"]
        else:
            target = [str(self.home / "published" / "reachloop.duckdb")]
        compare = [PYTHON, "-m", "bench.pandas_peer", "compare", str(out_dir), *target]
        _, cmp_out = run_stage("peer check", compare, log=self.log)
        self.info["peer_check"] = json.loads(cmp_out)
        bad = [m for m, r in self.info["peer_check"].items() if not r["ok"]]
        verdict = "all marts match" if not bad else "MISMATCHES in " + ", ".join(bad)
        print(f"  SF{self.sf:g} peer check: {verdict}")

    def incremental(self) -> None:
        day = self.root / "day_batch"
        shutil.rmtree(day, ignore_errors=True)
        # A child of its own: made in this process, pandas over the whole landing (15 GB at SF100)
        # would be counted in the peak RSS of every later stage, whose fork starts from ours.
        self.info["day_batch_rows"] = self.make_batch(day)
        out = self.stage("incr.land", [REACHLOOP, "land", str(day), "--json"])
        files = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        self.stages["incr.land"].rows = sum(f["rows_read"] for f in files)
        log = log_rows(self.home)
        out = self.stage("incr.build", [PYTHON, "-m", "bench.steps", "build"], rows=log)
        self.stages["incr.build"].extra = json.loads(out.strip().splitlines()[-1])
        # Where the day's build goes: the profile that stops the target, when it misses.
        self.info["incr_dbt_nodes"] = dbt_node_times(self.home / "dbt" / "target")
        self.info["incr_publish"] = publish_costs(self.home / "published")
        self.noop("noop.build")
        # The floor under the day's cost: one row of each event type the day has (of another
        # day, so nothing is a duplicate), built like the day. What it costs does not follow
        # the change: dbt's fixed and per-node cost, whole-table models, publish's own.
        one = self.root / "one_row_batch"
        shutil.rmtree(one, ignore_errors=True)
        self.info["one_row_batch_rows"] = self.make_batch(one, "--day", ONE_ROW_DAY, "--rows-per-type", "1")
        out = self.stage("one.land", [REACHLOOP, "land", str(one), "--json"])
        self.stages["one.land"].rows = sum(json.loads(line)["rows_read"] for line in out.splitlines()
                                           if line.startswith("{"))
        out = self.stage("one.build", [PYTHON, "-m", "bench.steps", "build"], rows=log_rows(self.home))
        self.stages["one.build"].extra = json.loads(out.strip().splitlines()[-1])
        self.info["one_publish"] = publish_costs(self.home / "published")
        # The floor again, with dbt's statements logged (debug level costs dbt CPU: only the split
        # of its node time is read): how much is SQL, how much dbt's own per-node Python.
        again = self.root / "one_row_batch_profiled"
        shutil.rmtree(again, ignore_errors=True)
        self.make_batch(again, "--day", PROFILED_ONE_ROW_DAY, "--rows-per-type", "1")
        run_stage("one.land (profiled)", [REACHLOOP, "land", str(again), "--json"],
                  env=self.env(), log=self.log)
        run_stage("one.build (profiled)", [PYTHON, "-m", "bench.steps", "build"],
                  env={**self.env(), "DBT_LOG_LEVEL_FILE": "debug"}, log=self.log)
        _, printed = run_stage("build profile", [PYTHON, "-m", "bench.build_profile", str(self.home),
                                                 "--json"], env=self.env(), log=self.log)
        self.info["one_row_profile"] = json.loads(printed.strip().splitlines()[-1])
        print(f"  SF{self.sf:g} one.build, profiled: {self.info['one_row_profile']['sql_s']:.1f}s SQL, "
              f"{self.info['one_row_profile']['dbt_per_node_s']:.1f}s dbt per node", flush=True)
        out = self.stage("full.build", [PYTHON, "-m", "bench.steps", "build", "--full-refresh"],
                         rows=log_rows(self.home))
        self.stages["full.build"].extra = json.loads(out.strip().splitlines()[-1])

    def make_batch(self, out: Path, *flags: str) -> dict[str, int]:
        # A child of its own: made in this process, pandas over the whole landing (15 GB at SF100)
        # would be counted in the peak RSS of every later stage, whose fork starts from ours.
        argv = [PYTHON, "-m", "bench.day_batch", str(self.landing), str(out), *flags]
        _, printed = run_stage("day batch", argv, env=self.env(), log=self.log)
        return json.loads(printed.strip().splitlines()[-1])

    def noop(self, name: str) -> None:
        """``reachloop build`` (the CLI) right after a successful build: nothing to do."""
        out = self.stage(name, [REACHLOOP, "build"])
        said = out.strip().splitlines()[0] if out.strip() else ""
        if not said.startswith("build skipped"):
            raise RuntimeError(f"{name}: a build with nothing new did not skip: {said!r}")
        self.stages[name].extra = {"said": said}

    def fixed_cost(self) -> None:
        """A tiny home (SF0.01): what a build costs besides the data. ``tiny.build`` is the first
        build of a fresh home, ``tiny.full`` a full rebuild of it (``--full-refresh``: every node
        runs again, dbt's parse state saved), ``tiny.noop`` the CLI with nothing new; a fourth build
        (full, like ``tiny.full``) runs under cProfile for where the time goes (``breakdown``, not a
        timing: the profiler slows it). A build again without ``--full-refresh`` would select no
        node at all (nothing landed), so it would measure only the steps around dbt."""
        self.generate()
        self.land()
        for name, flags in (("tiny.build", []), ("tiny.full", ["--full-refresh"])):
            out = self.stage(name, [PYTHON, "-m", "bench.steps", "build", *flags],
                             rows=self.info["rows_landed"])
            self.stages[name].extra = json.loads(out.strip().splitlines()[-1])
        self.noop("tiny.noop")
        profile = self.root / "build.prof"
        _, out = run_stage("tiny.profiled", [PYTHON, "-m", "bench.steps", "build", "--full-refresh",
                                             "--profile", str(profile)],
                           env=self.env(), log=self.log)
        self.info["breakdown"] = json.loads(out.strip().splitlines()[-1])["breakdown"]
        self.info["dbt_nodes"] = dbt_node_times(self.home / "dbt" / "target")

    def run(self, *, per_format: bool, incremental: bool, peer: bool, spark: bool = False,
            floor: bool = True) -> dict:
        self.root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if self.smoke:  # every code path of the harness but the (minutes-long) full build
            self.generate()
            self.land()
            self.floor_land()
            self.smoke_marts()
            self.peer()
            self.info["bench_seconds"] = time.perf_counter() - started
            return {"info": self.info, "stages": {k: v.as_dict() for k, v in self.stages.items()}}
        self.generate()
        self.land()
        if floor:
            self.floor_land()
        detailed = self.sf <= DETAILED_MAX_SCALE
        if per_format and detailed:
            self.land_by_format()
        self.build()
        if spark:
            self.spark_build()
        if not self.quick:
            self.attribution()
            self.publish()
        if floor:
            self.floor_marts()
        if peer and detailed:
            self.peer()
        # The day batch at every scale: its ratio to a full rebuild is a target at SF100 too.
        if incremental:
            self.incremental()
        self.info["bench_seconds"] = time.perf_counter() - started
        return {"info": self.info, "stages": {k: v.as_dict() for k, v in self.stages.items()}}


FIXED_COST_SCALE = 0.01


def fixed_cost(work: Path, log: Path, *, seed: int, memory_limit: str) -> dict:
    """Once per run: the fixed cost of a build, on a home of SF0.01 (bench/run.py Bench.fixed_cost)."""
    print(f"fixed cost (SF{FIXED_COST_SCALE:g}):", flush=True)
    b = Bench(FIXED_COST_SCALE, work / "fixed_cost", log, seed=seed, reuse=False, quick=True, smoke=False,
              memory_limit=memory_limit)
    b.root.mkdir(parents=True, exist_ok=True)
    try:
        b.fixed_cost()
    except Exception as exc:  # noqa: BLE001 — record what got measured, say what failed
        b.info["error"] = str(exc)
        print(f"\n  fixed cost failed: {exc}", flush=True)
    return b.partial()


def solvers(log: Path, *, smoke: bool) -> dict:
    """bench/attribution.py as a child: the Markov and Shapley solvers alone, at 200, 1,000,
    3,000 and 10,000 random-mixing states (smoke: 200 states, 5,000 journeys)."""
    from bench.attribution import table

    argv = [PYTHON, "-m", "bench.attribution", "--json"]
    if smoke:
        argv += ["--states", "200", "--journeys", "5000"]
    print("attribution.solvers …", end="", flush=True)
    m, out = run_stage("attribution.solvers", argv, log=log)
    sizes = json.loads(out.strip().splitlines()[-1])["sizes"]
    print(f" {m.wall_s:.1f}s wall, {m.cpu_s:.1f}s CPU, {m.max_rss_mb:,.0f} MB")
    print("\n".join(table(sizes)), flush=True)
    return {"stage": m.as_dict(), "sizes": sizes}


def log_rows(home: Path, event_types: tuple[str, ...] | None = None) -> int:
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        where = (
            ""
            if event_types is None
            else "where event_type in (" + ", ".join(f"'{e}'" for e in event_types) + ")"
        )
        return int(
            con.execute(f"select coalesce(sum(rows_landed), 0) from meta.batches {where}").fetchone()[0]
        )
    finally:
        con.close()


def publish_costs(destination: Path, top: int = 5) -> list[tuple[str, float]]:
    """The marts that cost the current publication the most CPU (publication.json's
    ``seconds``), heaviest first."""
    from builds.publish import current_publication

    marts = current_publication(destination).get("marts", {})
    costs = [(name, m["seconds"]["cpu"]) for name, m in marts.items() if "seconds" in m]
    return sorted(costs, key=lambda c: -c[1])[:top]


def dbt_node_times(target: Path) -> dict:
    """Seconds per dbt node of the last run, and the attribution part of them."""
    results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    paths = {
        uid: n.get("original_file_path", "")
        for uid, n in {**manifest["nodes"], **manifest.get("unit_tests", {})}.items()
    }
    nodes = {r["unique_id"]: r["execution_time"] for r in results["results"]}

    def is_attr(uid: str) -> bool:
        if uid.startswith(("test.", "unit_test.")):
            deps = manifest["nodes"].get(uid, manifest.get("unit_tests", {}).get(uid, {}))
            dep_nodes = deps.get("depends_on", {}).get("nodes", [])
            return any(paths.get(d, "").startswith(ATTRIBUTION_PATHS) for d in dep_nodes)
        return paths.get(uid, "").startswith(ATTRIBUTION_PATHS)

    by_kind: dict[str, float] = {}
    for uid, s in nodes.items():
        kind = uid.split(".", 1)[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + s
    top = sorted(nodes.items(), key=lambda kv: -kv[1])[:12]
    return {
        "elapsed": results.get("elapsed_time"),
        "sum_by_kind": by_kind,
        "attribution_seconds": sum(s for uid, s in nodes.items() if is_attr(uid)),
        "top": top,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="0.1,1,10", help="comma-separated scale factors (default 0.1,1,10)")
    p.add_argument("--sf100", action="store_true", help="also run SF100 (hours, tens of GB on disk)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("BENCH_WORK", "/tmp/reachloop-bench")),
        help="where data and warehouses go (default /tmp/reachloop-bench or $BENCH_WORK)",
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument(
        "--markdown",
        default=str(REPO / "BENCHMARKS.md"),
        help="render this file from the results ('' to skip)",
    )
    p.add_argument(
        "--section",
        default="",
        help="the named section of --markdown to write, e.g. sf100 for a run kept beside the main one",
    )
    p.add_argument("--reuse-data", action="store_true", help="keep generated data already in --work")
    p.add_argument("--no-per-format", action="store_true", help="skip landing CSV/JSONL/Parquet separately")
    p.add_argument("--no-peer", action="store_true", help="skip the pandas peer")
    p.add_argument("--no-incremental", action="store_true", help="skip the one-day incremental batch")
    p.add_argument("--no-floor", action="store_true",
                   help="skip floor.land and floor.marts (at SF100 they take as long as the build)")
    p.add_argument("--no-spark", action="store_true",
                   help="skip spark.build (the build on Spark; runs when .venv-spark exists: make spark-env)")
    p.add_argument("--quick", action="store_true", help="smoke mode: no separate attribution/publish re-runs")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="CI smoke: generate, land, floor.land, dbt run of the checked marts, peer and check",
    )
    p.add_argument("--keep", action="store_true", help="keep warehouses and data in --work afterwards")
    p.add_argument("--no-fixed-cost", action="store_true",
                   help="skip the fixed cost of a build (builds of an SF0.01 home, a no-op build, a profile)")
    p.add_argument(
        "--no-solvers", action="store_true", help="skip the Markov/Shapley solvers (bench/attribution.py)"
    )
    p.add_argument(
        "--memory-limit",
        default="3GB",
        help="DuckDB memory_limit for every stage (REACHLOOP_MEMORY_LIMIT; default 3GB, the 4 GiB "
        "peak target minus Python's own; '' for DuckDB's default of 80%% of RAM)",
    )
    args = p.parse_args(argv)

    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    if args.sf100 and 100.0 not in scales:
        scales.append(100.0)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / f"{stamp}.log"
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {
        "started": stamp, "command": command.strip(), "machine": machine(),
        "memory_limit": args.memory_limit or "DuckDB default (80% of RAM)", "scales": {},
    }
    out_file = args.out / f"{stamp}.json"
    for sf in scales:
        print(f"SF{sf:g}:", flush=True)
        b = Bench(
            sf, args.work, log, seed=args.seed, reuse=args.reuse_data, quick=args.quick, smoke=args.smoke,
            memory_limit=args.memory_limit,
        )

        def save(partial: dict, key: str = f"{sf:g}") -> None:
            result["scales"][key] = partial
            out_file.write_text(json.dumps(result, indent=2, default=str) + "\n")

        b.on_stage = save
        try:
            result["scales"][f"{sf:g}"] = b.run(
                per_format=not args.no_per_format, incremental=not args.no_incremental, peer=not args.no_peer,
                floor=not args.no_floor,
                spark=not args.no_spark and Path(SPARK_PYTHON).exists()
            )
        except Exception as exc:  # noqa: BLE001 — record what got measured, say what failed
            result["scales"][f"{sf:g}"] = {
                "info": {**b.info, "error": str(exc)},
                "stages": {k: v.as_dict() for k, v in b.stages.items()},
            }
            print(f"\n  SF{sf:g} failed: {exc}", flush=True)
        out_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
        if not args.keep:
            shutil.rmtree(b.root / "by_format", ignore_errors=True)
    if not (args.no_fixed_cost or args.smoke):
        result["fixed_cost"] = fixed_cost(args.work, log, seed=args.seed, memory_limit=args.memory_limit)
        out_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if not args.no_solvers:
        result["solvers"] = solvers(log, smoke=args.smoke)
        out_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
    result["finished"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
    shutil.copy2(out_file, args.out / "latest.json")
    print(report.summary(result))
    if args.markdown:
        md = Path(args.markdown)
        md.write_text(report.markdown(result, md, args.section))
        print(f"wrote {out_file} and {md}")
    failed = [sf for sf, r in result["scales"].items() if "error" in r["info"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
