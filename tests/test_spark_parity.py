"""The Spark engine gives the DuckDB engine's numbers (issue: the same project on Spark).

One SF0.01 workload is landed once; a copy of the warehouse is built with ``--engine duckdb``
and another with ``--engine spark`` (dbt-spark, a local pyspark), each through the command
line, and every published mart must be equal row for row: the same marts, columns and types,
and values equal (doubles within 1e-9 relative). Runs in ``make test-spark`` (the Spark
environment, .venv-spark, and Java 17), not in ``make test``: a local Spark build costs minutes.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pyspark", reason="the spark engine's tests run in make test-spark (.venv-spark)")

pytestmark = pytest.mark.spark

BIN = Path(sys.executable).parent


def _reachloop(home: Path, *args: str) -> str:
    env = {**os.environ, "REACHLOOP_HOME": str(home), "REACHLOOP_PII_KEY": "parity-test-key"}
    done = subprocess.run([str(BIN / "reachloop"), *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"reachloop {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark-parity")
    _reachloop(root / "duck", "generate", "--scale", "0.01", "--seed", "42", "--out", str(root / "workload"))
    _reachloop(root / "duck", "land", str(root / "workload" / "landing"))
    (root / "spark").mkdir()
    shutil.copy(root / "duck" / "warehouse.duckdb", root / "spark" / "warehouse.duckdb")
    _reachloop(root / "duck", "build", "--engine", "duckdb")
    _reachloop(root / "spark", "build", "--engine", "spark")
    return {"duckdb": root / "duck", "spark": root / "spark"}


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
