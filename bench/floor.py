"""The floor: what plain DuckDB does with the same inputs, with none of our work around it.

    python -m bench.floor land LANDING DB [--formats csv,jsonl,parquet]
        every landing file straight into one table per event type and format
        (``create table … as select * from read_csv/read_json/read_parquet([files])``):
        no contract checks, no hashing, no pseudonyms, no ledger, no dedup;
    python -m bench.floor marts WAREHOUSE MANIFEST
        the dbt project's compiled SQL (``dbt compile --full-refresh``) run straight in DuckDB
        in dependency order, each model ``create or replace table/view … as <compiled SQL>``:
        no dbt, no tests, no orchestration.

Each prints one JSON object (rows and seconds per part) and is run as a child by bench.run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from builds.dbt_build import PROJECT_DIR
from eventlog.contract import EVENT_TYPES
from eventlog.sql import quote_str
from eventlog.warehouse import apply_resource_limits
from ingestion.landing import event_type_for, landing_files

READERS = {
    "csv": "read_csv({files}, all_varchar=true, union_by_name=true, ignore_errors=true)",
    "jsonl": "read_json({files}, format='newline_delimited', union_by_name=true, ignore_errors=true)",
    "parquet": "read_parquet({files}, union_by_name=true)",
}


def files_by_type_and_format(root: Path) -> dict[tuple[str, str], list[Path]]:
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in landing_files(root):
        et = event_type_for(path, root)
        fmt = path.suffix.lstrip(".").lower()
        if et in EVENT_TYPES and fmt in READERS:
            groups.setdefault((et, fmt), []).append(path)
    return groups


def land_floor(root: Path, db: Path, formats: list[str]) -> dict:
    con = duckdb.connect(str(db))
    apply_resource_limits(con)  # the same memory cap as our landing, for a fair comparison
    parts = {}
    started = time.perf_counter()
    for (et, fmt), files in sorted(files_by_type_and_format(root).items()):
        if fmt not in formats:
            continue
        listed = "[" + ", ".join(quote_str(str(f)) for f in files) + "]"
        t0 = time.perf_counter()
        con.execute(
            f"create or replace table {et}_{fmt} as select * from {READERS[fmt].format(files=listed)}"
        )
        rows = con.execute(f"select count(*) from {et}_{fmt}").fetchone()[0]
        parts[f"{et}.{fmt}"] = {"rows": rows, "seconds": time.perf_counter() - t0, "files": len(files)}
    con.execute("checkpoint")
    con.close()
    by_format: dict[str, dict] = {}
    for key, p in parts.items():
        f = by_format.setdefault(key.split(".")[1], {"rows": 0, "seconds": 0.0})
        f["rows"] += p["rows"]
        f["seconds"] += p["seconds"]
    return {
        "seconds": time.perf_counter() - started,
        "rows": sum(p["rows"] for p in parts.values()),
        "by_format": by_format,
        "parts": parts,
    }


def _order(manifest: dict) -> list[str]:
    """Models and seeds in dependency order (a topological sort of the manifest's graph)."""
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            visit(dep)
        done.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return done


def marts_floor(warehouse: Path, manifest_path: Path) -> dict:
    manifest = json.loads(manifest_path.read_text())
    con = duckdb.connect(str(warehouse))
    apply_resource_limits(con)
    con.execute("set timezone = 'UTC'")
    models = {}
    order = _order(manifest)
    # Start from the log alone, as a full build does (seeds stay: a static lookup dbt loaded).
    built = {
        manifest["nodes"][u]["relation_name"].rsplit(".", 1)[0]
        for u in order
        if manifest["nodes"][u]["resource_type"] == "model"
    }
    for schema in built:
        con.execute(f"drop schema if exists {schema} cascade")
    import attribution.markov  # noqa: F401 — imported before the clock starts, as dbt has it loaded
    import attribution.shapley  # noqa: F401

    started = time.perf_counter()
    for uid in order:
        node = manifest["nodes"][uid]
        if node["resource_type"] == "seed":
            continue  # loaded once by dbt; a static lookup, not part of the work
        relation = node["relation_name"]
        con.execute(f"create schema if not exists {relation.rsplit('.', 1)[0]}")
        t0 = time.perf_counter()
        if node["language"] == "python":
            _python_model(con, node, manifest, relation)
        else:
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create {kind} {relation} as {node['compiled_code']}")
        models[node["name"]] = time.perf_counter() - t0
    con.execute("checkpoint")
    con.close()
    return {"seconds": time.perf_counter() - started, "models": models}


def _python_model(con: duckdb.DuckDBPyConnection, node: dict, manifest: dict, relation: str) -> None:
    """A dbt Python model (Markov, Shapley, the planner) run as dbt-duckdb runs it: its own
    ``model(dbt, session)`` with ``dbt.ref`` answered from this connection and its config meta
    (the vars it reads), so the floor follows the models without knowing them by name."""
    namespace: dict = {}
    source = PROJECT_DIR / node["original_file_path"]
    exec(compile(source.read_text(), str(source), "exec"), namespace)  # noqa: S102 - our own model file
    result = namespace["model"](_DbtContext(con, node, manifest), con)
    con.register("result", result)
    con.execute(f"create or replace table {relation} as select * from result")
    con.unregister("result")


class _Config:
    """``dbt.config(...)`` (ignored: the floor makes tables) and ``dbt.config.meta_get(key)``."""

    def __init__(self, meta: dict) -> None:
        self._meta = meta

    def __call__(self, **_: object) -> None:
        pass

    def meta_get(self, key: str) -> object:
        return self._meta[key]


@dataclass(frozen=True)
class _Relation:
    """dbt's ``this``: the model's own table (the floor rebuilds it whole: it does not exist yet)."""

    database: str
    schema: str
    identifier: str
    name: str  # as written in SQL

    def __str__(self) -> str:
        return self.name


class _DbtContext:
    """The part of dbt's Python model context our models use: ``ref``, ``config`` and ``this``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, node: dict, manifest: dict) -> None:
        self._con = con
        self._relations = {
            manifest["nodes"][uid]["name"]: manifest["nodes"][uid]["relation_name"]
            for uid in node["depends_on"]["nodes"]
        }
        self.config = _Config(node["config"].get("meta", {}))
        self.this = _Relation(node["database"], node["schema"], node.get("alias") or node["name"],
                              node["relation_name"])

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        return self._con.sql(f"select * from {self._relations[name]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.floor")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("land")
    a.add_argument("landing", type=Path)
    a.add_argument("db", type=Path)
    a.add_argument("--formats", default="csv,jsonl,parquet")
    b = sub.add_parser("marts")
    b.add_argument("warehouse", type=Path)
    b.add_argument("manifest", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "land":
        out = land_floor(args.landing, args.db, args.formats.split(","))
    else:
        out = marts_floor(args.warehouse, args.manifest)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
