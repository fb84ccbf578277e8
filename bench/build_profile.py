"""Where a build's dbt nodes spend their time, read from dbt's debug log: the SQL statements'
own time, the COMMITs (DuckDB checkpoints its WAL into the file on the commit that crosses the
threshold, so a few commits carry most of it), Python models, and what is left of each node's
time — dbt's own per-node Python (compiling the node's Jinja, its materialization, events).

    DBT_LOG_LEVEL_FILE=debug reachloop build        # debug level logs every statement and its time
    python -m bench.build_profile $REACHLOOP_HOME   # the last dbt invocation in the home's log
    python -m bench.build_profile $REACHLOOP_HOME --json --top 100   # every node's SQL

The bench runs it on a batch of one row per event type (after ``one.build``): what such a build
costs does not follow the change, and this says which part of it is SQL and which is dbt.
Debug logging itself costs dbt CPU (formatting every statement): read the split, not the
stage's CPU, from a profiled build.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from builds.dbt_build import read_artifact

# Every line dbt writes starts with a colour reset and the time; a statement's text follows its
# "On <node>:" line until the next such line.
_LINE = re.compile(r"^(?:\x1b\[0m)?\d\d:\d\d:\d\d\.\d+ \[")
_ON = re.compile(r"\]: On ([\w.-]+): (.*)$")
_STATUS = re.compile(r"\]: SQL status: .* in ([\d.]+) seconds")
_INVOCATION = "Running with dbt="
# A commit this slow wrote a checkpoint (a plain commit of a node's few statements takes ~1 ms).
CHECKPOINT_MIN_S = 0.05


def last_invocation(log: Path) -> list[str]:
    """The lines of the last dbt invocation in a dbt.log (dbt appends every run to it)."""
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if _INVOCATION in line]
    if not starts:
        raise ValueError(f"{log}: no dbt invocation in it")
    return lines[starts[-1]:]


def statement_times(lines: list[str]) -> dict[str, dict[str, float]]:
    """Per node: seconds in SQL statements and in COMMITs, and their counts."""
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    node = statement = None
    for line in lines:
        if not _LINE.match(line):
            continue
        if on := _ON.search(line):
            node, statement = on.group(1), on.group(2).strip()
            continue
        if (status := _STATUS.search(line)) and node is not None:
            seconds = float(status.group(1))
            if statement.upper().startswith("COMMIT"):
                per[node]["commit_s"] += seconds
                per[node]["commits"] += 1
                if seconds >= CHECKPOINT_MIN_S:
                    per[node]["checkpoint_s"] += seconds
                    per[node]["checkpoints"] += 1
            else:
                per[node]["sql_s"] += seconds
                per[node]["statements"] += 1
            node = statement = None
    return per


def node_name(manifest: dict, uid: str) -> str:
    """A node's name as dbt shows it: a data test's unique_id ends in a hash, not its name;
    hooks (not in the manifest's nodes) go by the last part of their unique_id."""
    return manifest["nodes"].get(uid, {}).get("name") or uid.split(".")[-1]


def profile(home: Path, top: int = 10) -> dict:
    """The split of the last build's node time (dbt's run_results.json and debug log in home)."""
    target = home / "dbt" / "target"
    results = read_artifact(target / "run_results.json")["results"]
    manifest = read_artifact(target / "manifest.json")
    per = statement_times(last_invocation(home / "dbt" / "logs" / "dbt.log"))
    python_models = {uid for uid, n in manifest["nodes"].items() if n.get("language") == "python"}

    total = defaultdict(float)
    sql_by_node = []
    for result in results:
        uid, seconds = result["unique_id"], result["execution_time"]
        timed = per.get(uid, {})
        sql, commit = timed.get("sql_s", 0.0), timed.get("commit_s", 0.0)
        total["node_s"] += seconds
        total["sql_s"] += sql
        total["commit_s"] += commit
        total["checkpoint_s"] += timed.get("checkpoint_s", 0.0)
        total["checkpoints"] += timed.get("checkpoints", 0)
        total["statements"] += timed.get("statements", 0) + timed.get("commits", 0)
        # A Python model's own time is its Python (the planner, the Markov solve), not dbt's.
        own = max(seconds - sql - commit, 0.0)
        total["python_model_s" if uid in python_models else "dbt_per_node_s"] += own
        sql_by_node.append((node_name(manifest, uid), round(sql, 3)))
    ran = {r["unique_id"] for r in results}
    outside = sum(v.get("sql_s", 0.0) + v.get("commit_s", 0.0) for k, v in per.items() if k not in ran)
    return {
        "nodes": len(results),
        **{k: round(v, 3) for k, v in total.items()},
        "dbt_per_node_ms": round(1000 * total["dbt_per_node_s"] / max(len(results), 1), 1),
        "sql_outside_nodes_s": round(outside, 3),
        "heaviest_sql": sorted(sql_by_node, key=lambda n: -n[1])[:top],
    }


def describe(p: dict) -> str:
    """One paragraph for BENCHMARKS.md."""
    return (
        f"Of its {p['node_s']:.1f} s of node time ({p['nodes']} nodes, {p['statements']:.0f} statements), "
        f"{p['sql_s']:.1f} s is SQL, {p['commit_s']:.1f} s COMMITs ({p['checkpoint_s']:.1f} s of them "
        f"{p['checkpoints']:.0f} checkpoints), {p['python_model_s']:.1f} s Python models and "
        f"{p['dbt_per_node_s']:.1f} s dbt's own per-node Python "
        f"(about {p['dbt_per_node_ms']:.0f} ms a node). "
        "Most SQL (s): " + ", ".join(f"{n} {s:.2f}" for n, s in p["heaviest_sql"]) + "."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build_profile",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path, help="the reachloop home whose last build was run with "
                        "DBT_LOG_LEVEL_FILE=debug")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="how many nodes heaviest_sql lists, heaviest first (default 10)")
    args = parser.parse_args(argv)
    try:
        p = profile(args.home, top=args.top)
    except (OSError, ValueError, KeyError) as exc:
        print(f"bench.build_profile: {exc}", file=sys.stderr)
        return 1
    if p["statements"] == 0:
        print("bench.build_profile: no SQL statements in the log: was the build run with "
              "DBT_LOG_LEVEL_FILE=debug?", file=sys.stderr)
        return 1
    print(json.dumps(p) if args.json else describe(p))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
