"""The Spark engine gives the DuckDB engine's numbers (issue: the same project on Spark).

Two landings, each landed once and built twice, a copy of the warehouse with ``--engine
duckdb`` and another with ``--engine spark`` (dbt-spark, a local pyspark), through the command
line: an SF0.01 workload, and the attribution's worked textbook cases (tests/scenarios.py
textbook_scenario). Every published mart must be equal row for row: the same marts, columns
and types, and values equal (doubles within 1e-9 relative); the textbook cases' credits on
Spark must also be the ones worked out by hand. Then what else a Spark build must do as a
DuckDB one does: gate 2's checks, the Python models' dbt tests (a planted bad row fails the
build and publishes nothing), ``reachloop plan --start`` from the build's own planner inputs.
Runs in ``make test-spark`` (the Spark environment, .venv-spark, and Java 17), not in
``make test``: a local Spark build costs minutes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.scenarios import Landing, textbook_scenario

pytest.importorskip("pyspark", reason="the spark engine's tests run in make test-spark (.venv-spark)")

pytestmark = pytest.mark.spark

BIN = Path(sys.executable).parent


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "REACHLOOP_HOME": str(home), "REACHLOOP_PII_KEY": "parity-test-key"}


def _reachloop(home: Path, *args: str) -> str:
    done = subprocess.run([str(BIN / "reachloop"), *args], env=_env(home), capture_output=True, text=True)
    assert done.returncode == 0, f"reachloop {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def _land_and_build_on_both(root: Path, landing: Path) -> dict[str, Path]:
    """Land once, then build a copy of the warehouse on each engine."""
    _reachloop(root / "duck", "land", str(landing))
    (root / "spark").mkdir()
    shutil.copy(root / "duck" / "warehouse.duckdb", root / "spark" / "warehouse.duckdb")
    _reachloop(root / "duck", "build", "--engine", "duckdb")
    _reachloop(root / "spark", "build", "--engine", "spark")
    return {"duckdb": root / "duck", "spark": root / "spark"}


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark-parity")
    _reachloop(root / "duck", "generate", "--scale", "0.01", "--seed", "42", "--out", str(root / "workload"))
    return _land_and_build_on_both(root, root / "workload" / "landing")


def _with_a_planned_item(land: Landing) -> Landing:
    """Two opted-in employees with observed audiences, and an item published four days before
    the newest post (the plan moment): mart_share_plan plans it, so `reachloop plan` can plan it
    again. No clicks: the attribution cases stay as they are."""
    for employee, members in (("p1", range(1, 5)), ("p2", range(3, 7))):
        land.tables["employee"].append(
            dict(employee_id=employee, observed_at="2026-01-01T00:00:00+00:00", network="linkedin",
                 network_size=100, department="Sales", member_id=f"m_{employee}", advocate_opt_in="true")
        )
        land.tables.setdefault("audience", []).extend(
            dict(employee_id=employee, member_id=f"a{m}", observed_at="2026-02-01T00:00:00+00:00") for m in members
        )
    land.tables["content"].append(
        dict(content_id="pc1", url="https://acme.example/pc1", published_at="2026-03-05T09:00:00+00:00", title="pc1")
    )
    land.share("ps1", "p2", None, posted_at="2026-03-09T20:00:00+00:00")
    return land


@pytest.fixture(scope="module")
def textbook_homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark-textbook")
    landing = _with_a_planned_item(textbook_scenario()).write(root / "landing")
    return _land_and_build_on_both(root, landing)


def _published(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "reachloop.duckdb"), read_only=True)


def _marts(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'main' and table_name <> '_publication' order by table_name, ordinal_position"
    ).fetchall()
    marts: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        marts.setdefault(table, []).append((column, kind))
    return marts


def _sort_key(row: tuple) -> tuple:
    # Doubles sort by 8 significant digits: two engines' last bits must not reorder the rows.
    return tuple(
        (1, f"{v:.8e}") if isinstance(v, float) else (0, "") if v is None else (1, str(v)) for v in row
    )


def _equal(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def mart_differences(duck: duckdb.DuckDBPyConnection, spark: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Mart → what differs (nothing for an equal mart)."""
    left, right = _marts(duck), _marts(spark)
    differences = {m: "missing on spark" for m in left.keys() - right.keys()}
    differences |= {m: "only on spark" for m in right.keys() - left.keys()}
    for mart in sorted(left.keys() & right.keys()):
        if left[mart] != right[mart]:
            differences[mart] = f"columns differ: {sorted(set(left[mart]) ^ set(right[mart]))[:6]}"
            continue
        a = sorted(duck.execute(f'select * from main."{mart}"').fetchall(), key=_sort_key)
        b = sorted(spark.execute(f'select * from main."{mart}"').fetchall(), key=_sort_key)
        if len(a) != len(b):
            differences[mart] = f"{len(a)} rows on duckdb, {len(b)} on spark"
            continue
        for x, y in zip(a, b, strict=True):
            if not all(_equal(u, v) for u, v in zip(x, y, strict=True)):
                differences[mart] = f"first differing row: duckdb {x} vs spark {y}"
                break
    return differences


def test_every_published_mart_is_equal_on_both_engines(homes: dict[str, Path]) -> None:
    duck, spark = _published(homes["duckdb"]), _published(homes["spark"])
    try:
        marts = _marts(duck)
        nonempty = [m for m in marts if duck.execute(f'select count(*) from main."{m}"').fetchone()[0]]
        assert len(nonempty) >= 20, f"too few marts with rows to compare: {nonempty}"
        assert mart_differences(duck, spark) == {}
    finally:
        duck.close()
        spark.close()


def test_the_comparison_sees_a_changed_value(homes: dict[str, Path], tmp_path: Path) -> None:
    """The parity check can fail: one double nudged by 1e-6 relative is a difference."""
    copy = tmp_path / "changed.duckdb"
    shutil.copy(homes["spark"] / "published" / "reachloop.duckdb", copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute("update main.fct_shares set reach_ratio = reach_ratio * (1 + 1e-6) where reach_ratio > 0")
    duck, changed = _published(homes["duckdb"]), duckdb.connect(str(copy), read_only=True)
    try:
        assert set(mart_differences(duck, changed)) == {"fct_shares"}
    finally:
        duck.close()
        changed.close()


def test_the_lake_holds_every_batch_once_and_is_not_rewritten(homes: dict[str, Path]) -> None:
    from eventlog.lake import export_lake
    from eventlog.settings import Settings
    from eventlog.warehouse import warehouse

    home = homes["spark"]
    lake = home / "lake"
    folders = sorted(lake.glob("events/event_type=*/batch_id=*"))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        batches = con.execute("select count(*) from meta.batches").fetchone()[0]
        rows = con.execute(
            "select count(*) from read_parquet(?, hive_partitioning = true)",
            [str(lake / "events" / "event_type=share" / "*" / "*.parquet")],
        ).fetchone()[0]
        landed = con.execute("select count(*) from raw.share").fetchone()[0]
    assert len(folders) == batches and rows == landed > 0
    stamps = {p: p.stat().st_mtime_ns for p in lake.glob("events/**/*.parquet")}
    settings = Settings(home)
    with warehouse(settings) as con:
        assert export_lake(con, settings).batches == 0
    assert {p: p.stat().st_mtime_ns for p in lake.glob("events/**/*.parquet")} == stamps


def _credits(con: duckdb.DuckDBPyConnection, deal_id: str, model: str) -> list[float]:
    rows = con.execute(
        "select credit from main.mart_lead_to_deal_attribution where deal_id = ? and model = ? order by touch_number",
        [deal_id, model],
    ).fetchall()
    return [r[0] for r in rows]


def test_the_textbook_cases_are_equal_on_both_engines_and_as_worked_by_hand(
    textbook_homes: dict[str, Path],
) -> None:
    """Worked by hand in tests/test_attribution_dbt.py (three touches; the Shapley game)."""
    duck, spark = _published(textbook_homes["duckdb"]), _published(textbook_homes["spark"])
    try:
        assert mart_differences(duck, spark) == {}
        models = {m for (m,) in spark.execute("select distinct model from main.mart_lead_to_deal_attribution").fetchall()}
        assert {"markov", "shapley", "time_decay"} <= models
        assert _credits(spark, "three-touches", "first_touch") == [1, 0, 0]
        assert _credits(spark, "three-touches", "position_based") == pytest.approx([0.4, 0.2, 0.4], rel=1e-12)
        weights = [2 ** (-10 / 7), 2 ** (-5 / 7), 2 ** (-1 / 7)]
        assert _credits(spark, "three-touches", "time_decay") == pytest.approx(
            [w / sum(weights) for w in weights], rel=1e-12
        )
        assert _credits(spark, "deal-bcb", "shapley") == pytest.approx([3 / 8, 1 / 4, 3 / 8], rel=1e-12)
        assert _credits(spark, "deal-twelve", "shapley") == pytest.approx([7 / 19] + [1 / 19] * 12, rel=1e-12)
    finally:
        duck.close()
        spark.close()


PYTHON_MODELS_TESTS = {
    "in_range_int_markov_removal_effects_removal_effect__1__0",
    "not_null_int_markov_removal_effects_state",
    "unique_int_markov_removal_effects_state",
    "in_range_int_shapley_values_shapley_value__0",
    "not_null_int_shapley_values_shapley_value",
    "not_null_int_shapley_values_state",
    "unique_int_shapley_values_state",
}


def _dbt_tests_run(home: Path) -> set[str]:
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())
    return {r["unique_id"] for r in results["results"] if r["unique_id"].startswith("test.")}


def test_a_spark_build_runs_every_dbt_test_a_duckdb_build_runs(textbook_homes: dict[str, Path]) -> None:
    """Its two dbt invocations together, the Python models' own tests included; and the tests
    of staging and intermediate models that gate 2 checks on DuckDB (their tables stay in Spark,
    so dbt tests them there)."""
    home = textbook_homes["spark"]
    duck, spark = _dbt_tests_run(textbook_homes["duckdb"]), _dbt_tests_run(home)
    assert PYTHON_MODELS_TESTS <= {uid.split(".")[2] for uid in spark}
    assert duck and duck <= spark
    nodes = json.loads((home / "dbt" / "target" / "manifest.json").read_text())["nodes"]
    folders = {nodes[uid]["original_file_path"].split("/")[1] for uid in spark - duck}
    assert folders == {"staging", "intermediate"}


def _gate_2_checks(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select suite, target, expectation, coalesce(column_name, ''), success, element_count, unexpected_count"
            " from meta.gate_results where gate = 'gate_2'"
            " and build_id = (select build_id from meta.builds where status = 'succeeded'"
            " order by started_at desc limit 1)"
            " order by all"
        ).fetchall()


def test_gate_2_checks_as_much_on_spark(textbook_homes: dict[str, Path]) -> None:
    """Gate 2 runs on the marts copied from Spark (what publish ships): the same checks of the
    marts, with the same counts and verdicts, as after the DuckDB build. On DuckDB it also
    checks the staging and intermediate models' tests, which on Spark dbt ran (see above)."""
    duck, spark = set(_gate_2_checks(textbook_homes["duckdb"])), set(_gate_2_checks(textbook_homes["spark"]))
    assert len(spark) > 100 and spark <= duck
    assert {target[:4] for _, target, *_ in duck - spark} <= {"stg_", "int_"}


def test_a_plan_computed_again_reads_what_the_spark_build_made(textbook_homes: dict[str, Path]) -> None:
    """`reachloop plan --start` plans one item again from the build's planner inputs: on a Spark
    home, the ones the Spark build made (this home's warehouse never had a DuckDB build). pc1
    (see _with_a_planned_item), a day after the plan moment: p1 adds a1-a4, then p2 a5, a6."""
    plans = {
        engine: json.loads(_reachloop(home, "plan", "pc1", "--start", "2026-03-10T20:00:00+00:00", "--json"))
        for engine, home in textbook_homes.items()
    }
    assert plans["spark"]["computed"] == "again, for this item"
    assert [(s["employee_id"], s["expected_new_members"]) for s in plans["spark"]["suggestions"]] == [
        ("p1", 4), ("p2", 2)
    ]
    assert plans["spark"] == plans["duckdb"]


# Wraps the Shapley step of a Spark build: its table gets a second row for one state.
PLANT_A_DUPLICATE = """
import sys
import builds.spark_engine as engine
from reachloop.cli import main

real = engine.PYTHON_STEPS["int_shapley_values"]

def planted(spark, manifest):
    real(spark, manifest)
    spark.sql("insert into intermediate.int_shapley_values select * from intermediate.int_shapley_values limit 1")

engine.PYTHON_STEPS["int_shapley_values"] = planted
sys.exit(main(["build", "--engine", "spark", "--force"]))
"""


def test_a_bad_row_from_a_python_step_fails_the_spark_build(textbook_homes: dict[str, Path]) -> None:
    """The Python models' own dbt tests run on Spark too: a duplicated state in
    int_shapley_values fails the build at unique_int_shapley_values_state, and the last good
    publication stays, byte for byte."""
    home = textbook_homes["spark"]
    published = home / "published" / "reachloop.duckdb"
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    done = subprocess.run([sys.executable, "-c", PLANT_A_DUPLICATE], env=_env(home), capture_output=True, text=True)
    assert done.returncode != 0, done.stdout
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())["results"]
    failed = {r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")}
    assert "unique_int_shapley_values_state" in failed, done.stderr[-2000:]
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        status, error = con.execute(
            "select status, error from meta.builds order by started_at desc limit 1"
        ).fetchone()
    assert status == "failed" and error.startswith("dbt build:")
