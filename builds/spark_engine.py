"""The dbt step of a build on Spark (``reachloop build --engine spark``).

The other steps are the same on both engines: gate 1 checks landed batches in the DuckDB
warehouse (landing stays DuckDB, the embedded default), and gate 2 and publish read the marts
from the warehouse's ``marts`` schema. This step fills that schema from Spark:

1. export the batches not in the lake yet (eventlog/lake.py) and register the lake in the
   process's Spark session (builds/spark_session.py) as the schemas ``raw`` and ``meta``;
2. ``dbt build --target spark`` of every model up to the three Python models (dbt-spark runs
   Python models only on Databricks);
3. those three as steps here, on the same libraries as the dbt Python models: their inputs
   (small: transitions counted, journeys' distinct states, the planner's candidates) are
   collected from Spark, the exact solvers run (attribution/, planner/), and the results are
   written back as Spark tables of the same names;
4. ``dbt build --target spark`` of everything downstream of them, and of their own tests;
5. the marts, Parquet files in Spark's warehouse, copied into the warehouse's ``marts``
   schema with the column types their contracts declare, for gate 2 and publish; and the
   planner's inputs into its ``intermediate`` schema, for ``reachloop plan --start``.

Every Spark build is a full build: models that are incremental on DuckDB build as tables
(dbt_project/macros/spark.sql). No DuckDB runs on Spark's side of the step: DuckDB only writes
the lake (from the landing store) and receives the built marts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from builds.dbt_build import MARTS_SCHEMA, DbtBuildResult, manifest_path, run_dbt_build
from builds.spark_session import spark_session
from eventlog.errors import ReachloopError
from eventlog.lake import export_lake, lake_dir
from eventlog.settings import Settings
from eventlog.sql import quote_ident, quote_str
from eventlog.warehouse import warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_TARGET = "spark"
# Schemas dbt builds on Spark, rebuilt from scratch by every Spark build.
BUILT_SCHEMAS = ("staging", "intermediate", MARTS_SCHEMA)


def run_spark_dbt(
    settings: Settings, *, as_of: str | None = None, exclude: str | None = None
) -> DbtBuildResult:
    """Build every model on Spark and copy the marts into the warehouse (see the module)."""
    with warehouse(settings) as con:
        export_lake(con, settings)
        registration = (lake_dir(settings) / "register.sql").read_text()
    spark = spark_session(settings)
    _reset(spark, settings)
    for statement in registration.split(";\n"):
        if statement.strip():
            spark.sql(statement)
    steps = " ".join(PYTHON_STEPS)
    downstream = " ".join(f"{name}+" for name in PYTHON_STEPS)
    first = run_dbt_build(
        settings, as_of=as_of, full_refresh=True, exclude=" ".join(x for x in (exclude, downstream) if x),
        target=SPARK_TARGET,
    )
    manifest = json.loads(manifest_path(settings).read_text())
    first_results = json.loads(run_results_path(settings).read_text())
    for step in PYTHON_STEPS.values():
        step(spark, manifest)
    # Everything downstream of the steps, and the steps' own tests (the tables they wrote):
    # with dbt's default (eager) indirect selection, excluding a model excludes its tests too;
    # with none, `x+` selects x's tests directly as its children and the exclusion takes the
    # model only. A failing test there fails the build before gate 2, as on DuckDB.
    second = run_dbt_build(
        settings, as_of=as_of, full_refresh=True, select=downstream,
        exclude=" ".join(x for x in (exclude, steps) if x), target=SPARK_TARGET,
        indirect_selection="empty",
    )
    _merge_run_results(settings, first_results)
    copy_marts_to_warehouse(settings, manifest)
    copy_planner_inputs_to_warehouse(settings)
    return _combined(first, second)


def run_results_path(settings: Settings) -> Path:
    return manifest_path(settings).parent / "run_results.json"


def _merge_run_results(settings: Settings, earlier: dict) -> None:
    """One build, two dbt invocations: run_results.json lists the nodes of both (under the
    second's invocation id, the manifest's), so that gate 2 sees every test dbt ran."""
    path = run_results_path(settings)
    results = json.loads(path.read_text())
    results["results"] = earlier["results"] + results["results"]
    path.write_text(json.dumps(results))


def _reset(spark: SparkSession, settings: Settings) -> None:
    """Drop what an earlier Spark build left: every build is full, and a table's folder that
    outlived its catalog entry (another process) would make Spark refuse to create it."""
    for schema in BUILT_SCHEMAS:
        spark.sql(f"drop database if exists `{schema}` cascade")
    for table in spark.catalog.listTables("default"):  # the seeds
        spark.sql(f"drop table if exists `default`.`{table.name}`")
    shutil.rmtree(settings.home.absolute() / "spark" / "warehouse", ignore_errors=True)


def spark_table_dir(settings: Settings, schema: str, table: str | None = None) -> Path:
    """Where a managed table of the local session keeps its Parquet files."""
    folder = settings.home.absolute() / "spark" / "warehouse" / f"{schema}.db"
    return folder / table if table else folder


def _combined(first: DbtBuildResult, second: DbtBuildResult) -> DbtBuildResult:
    result = DbtBuildResult(as_of=first.as_of, full_refresh=True)
    for part in (first, second):
        for name in ("models", "models_failed", "tests", "tests_failed", "warnings", "skipped", "seconds"):
            setattr(result, name, getattr(result, name) + getattr(part, name))
        result.nodes.update(part.nodes)
    result.models += len(PYTHON_STEPS)
    return result


# ---------------------------------------------------------------- the Python models' steps


def _frame(spark: SparkSession, table: str, columns: str = "*", distinct: bool = False) -> pd.DataFrame:
    """A Spark table as pandas, instants as UTC-aware timestamps (as DuckDB hands them to the
    dbt Python models)."""
    frame = spark.sql(f"select {'distinct ' if distinct else ''}{columns} from {table}").toPandas()
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_datetime64_dtype(dtype) and getattr(dtype, "tz", None) is None:
            frame[name] = frame[name].dt.tz_localize("UTC")
    return frame


def _write(spark: SparkSession, frame: pd.DataFrame, table: str) -> None:
    """Through Arrow, whose schema the frame's dtypes give even when it has no rows."""
    import pyarrow as pa

    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    spark.createDataFrame(arrow).write.mode("overwrite").format("parquet").saveAsTable(table)


def _markov(spark: SparkSession, manifest: dict) -> None:
    """int_markov_removal_effects: the transitions counted on Spark, the exact solver here."""
    from attribution.markov import removal_effects

    transitions = _frame(spark, "intermediate.int_markov_transitions_counted")
    if transitions.empty:
        spark.sql(
            "create table intermediate.int_markov_removal_effects (state string, reach_probability double,"
            " conversion_probability double, removal_effect double, p_conversion double) using parquet"
        )
        return
    _write(spark, removal_effects(transitions), "intermediate.int_markov_removal_effects")


def _shapley(spark: SparkSession, manifest: dict) -> None:
    """int_shapley_values: one row per journey × distinct state, the exact game here."""
    from attribution.shapley import shapley_values

    journeys = _frame(spark, "intermediate.int_journey_touches_sequenced", "journey_id, state, is_converting",
                      distinct=True)
    if journeys.empty:
        spark.sql(
            "create table intermediate.int_shapley_values (state string, shapley_value double,"
            " coalitions bigint, journeys bigint) using parquet"
        )
        return
    _write(spark, shapley_values(journeys), "intermediate.int_shapley_values")


def _share_plan(spark: SparkSession, manifest: dict) -> None:
    """int_share_plan_suggestions: the planner on the inputs built on Spark, with the vars the
    dbt Python model reads (its config meta, rendered in the manifest)."""
    from planner.cadence import Cadence
    from planner.plan import PlanSettings, number_members, plan_shares

    meta = manifest["nodes"]["model.reachloop.int_share_plan_suggestions"]["config"]["meta"]
    settings = PlanSettings(
        sharers=int(meta["plan_sharers"]),
        cadence=Cadence(
            min_hours_between_posts=float(meta["min_hours_between_posts"]),
            max_posts_per_week=int(meta["max_posts_per_week"]),
        ),
        horizon_days=int(meta["plan_horizon_days"]),
        default_hour=int(meta["plan_default_hour"]),
    )
    contents = _frame(spark, "intermediate.int_share_plan_contents", "content_id, published_at, plan_at")
    candidates = _frame(
        spark, "intermediate.int_share_plan_candidates", "employee_id, usual_hour, audience_basis"
    )
    # member_number is the member id itself on Spark (macro member_number)
    audiences, reached = number_members(
        _frame(spark, "intermediate.int_share_plan_audiences", "employee_id, member_number"),
        _frame(spark, "intermediate.int_share_plan_reached", "content_id, member_number"),
        ["member_number"],
    )
    posts = _frame(spark, "intermediate.int_share_plan_posts", "employee_id, posted_at, content_id")
    start = contents["plan_at"].iloc[0] if not contents.empty else None
    _write(spark, plan_shares(contents, candidates, audiences, reached, posts, start, settings),
           "intermediate.int_share_plan_suggestions")


PYTHON_STEPS: dict[str, Callable[[SparkSession, dict], None]] = {
    "int_markov_removal_effects": _markov,
    "int_shapley_values": _shapley,
    "int_share_plan_suggestions": _share_plan,
}


# ---------------------------------------------------------------- marts into the warehouse


def copy_marts_to_warehouse(settings: Settings, manifest: dict) -> list[str]:
    """Replace the warehouse's marts with Spark's, each column cast to the type its contract
    declares (Spark has no TIMESTAMPTZ or VARCHAR; the values are the same). Marts Spark did
    not build are dropped: publish would otherwise ship a stale one."""
    marts = {
        n["name"]: n for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == MARTS_SCHEMA
    }
    copied = []
    with warehouse(settings) as con:
        con.execute(f"create schema if not exists {MARTS_SCHEMA}")
        existing = {
            name for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [MARTS_SCHEMA]
            ).fetchall()
        }
        for name, node in sorted(marts.items()):
            folder = spark_table_dir(settings, MARTS_SCHEMA, node.get("alias") or name)
            target = f"{MARTS_SCHEMA}.{quote_ident(name)}"
            if not any(folder.glob("*.parquet")):
                if name in existing:
                    con.execute(f"drop table if exists {target}")
                continue
            columns = [c for c in node["columns"].values() if c.get("data_type")]
            source = f"read_parquet({quote_str(str(folder / '*.parquet'))})"
            built = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()]
            declared = [c["name"] for c in columns]
            if columns and sorted(built) != sorted(declared):
                raise ReachloopError(
                    f"{name} built on Spark breaks its contract: columns "
                    f"{sorted(set(built) - set(declared))} not declared, "
                    f"{sorted(set(declared) - set(built))} declared but not built"
                )
            select = (
                ", ".join(f"cast({quote_ident(c['name'])} as {c['data_type']}) as {quote_ident(c['name'])}"
                          for c in columns)
                if columns else "*"
            )
            con.execute(f"create or replace table {target} as select {select} from {source}")
            copied.append(name)
    return copied


# The planner's inputs: `reachloop plan` with another start, cadence or more sharers plans one
# item again from them (reports/share_plan.py reads them from the warehouse).
PLANNER_INPUTS = (
    "int_share_plan_contents",
    "int_share_plan_candidates",
    "int_share_plan_audiences",
    "int_share_plan_reached",
    "int_share_plan_posts",
)


def copy_planner_inputs_to_warehouse(settings: Settings) -> None:
    """Replace the warehouse's planner inputs with the ones this Spark build made, so that a
    plan computed again reads the same build as the published plan (not an older DuckDB one)."""
    with warehouse(settings) as con:
        con.execute("create schema if not exists intermediate")
        for name in PLANNER_INPUTS:
            folder = spark_table_dir(settings, "intermediate", name)
            if not any(folder.glob("*.parquet")):  # not built (excluded): no stale copy either
                con.execute(f"drop table if exists intermediate.{quote_ident(name)}")
                continue
            source = f"read_parquet({quote_str(str(folder / '*.parquet'))})"
            con.execute(f"create or replace table intermediate.{quote_ident(name)} as select * from {source}")
