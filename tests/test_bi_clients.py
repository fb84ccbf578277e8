"""Every way a BI tool reads the publication, on the session's published build (conftest.py
``published``): a DuckDB 1.x client opens the file; SQLAlchemy reflection works as Superset
calls it (in the BI client environment of requirements-bi.lock, ``make bi-env``); dates are
dates and money reads as numbers in pandas; the names dbt docs show resolve in the file; the
file is read-only on disk."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from builds.dbt_build import MARTS_SCHEMA, manifest_path
from eventlog.settings import Settings
from tests.helpers import REPO

BI_PYTHON = REPO / ".venv-bi" / "bin" / "python"

# Run by the BI environment's Python: what Superset does when a dataset is added (list the
# tables, then for one: columns, primary key, foreign keys, unique constraints, indexes), then
# a chart's query through pandas.
REFLECT = r"""
import json, sys, warnings
import duckdb, pandas as pd, sqlalchemy
from sqlalchemy import create_engine, inspect, text

warnings.simplefilter("ignore")  # duckdb_engine warns that it cannot reflect indexes
path = sys.argv[1]
engine = create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
insp = inspect(engine)
out = {"duckdb": duckdb.__version__, "sqlalchemy": sqlalchemy.__version__, "tables": {}}
for name in insp.get_table_names():
    out["tables"][name] = {
        "columns": {c["name"]: str(c["type"]) for c in insp.get_columns(name)},
        "pk": insp.get_pk_constraint(name)["constrained_columns"],
        "fks": insp.get_foreign_keys(name),
        "unique": insp.get_unique_constraints(name),
        "indexes": insp.get_indexes(name),
    }
out["schemas"] = insp.get_schema_names()
with engine.connect() as conn:
    frame = pd.read_sql(text("select deal_id, amount, created_at from fct_deals"), conn)
out["amount_dtype"] = str(frame["amount"].dtype)
out["amount_sum"] = float(frame["amount"].sum())
engine.dispose()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def bi_python() -> Path:
    """The BI client environment; `make test` installs it, a bare pytest run makes it here."""
    if not BI_PYTHON.exists():
        subprocess.run(["make", "-s", "bi-env"], cwd=REPO, check=True, timeout=600)
    return BI_PYTHON


def test_superset_reflection_with_a_duckdb_1x_client(published: Settings, bi_python: Path) -> None:
    done = subprocess.run([str(bi_python), "-c", REFLECT, str(published.published_duckdb)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["duckdb"].startswith("1.") and out["sqlalchemy"].startswith("2.0.")
    tables = out["tables"]
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        expected = {name: cols for name, cols in con.execute(
            "select table_name, list(column_name order by column_index) from duckdb_columns() "
            "where schema_name = 'main' and table_name in (select table_name from duckdb_tables() "
            "where schema_name = 'main') group by 1").fetchall()}
        amount_sum = float(con.execute("select sum(amount) from fct_deals").fetchone()[0])
    assert set(tables) == set(expected) and "fct_deals" in tables
    for name, cols in expected.items():
        assert list(tables[name]["columns"]) == cols, name
        assert tables[name]["pk"] == [] and tables[name]["fks"] == [] and tables[name]["unique"] == []
    assert tables["mart_attribution_funnel"]["columns"]["month"] == "DATE"
    assert tables["_publication"]["columns"]["as_of"] == "TIMESTAMP"  # with time zone, as SQLAlchemy names it
    # Money reaches pandas as numbers, with the same total as in SQL.
    assert out["amount_dtype"] == "float64"
    assert out["amount_sum"] == pytest.approx(amount_sum)


def test_types_are_stable_and_money_is_numeric_in_pandas(published: Settings) -> None:
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        types = dict(con.execute(
            "select table_name || '.' || column_name, data_type from duckdb_columns() "
            "where schema_name = 'main'").fetchall())
        deals = con.execute("select amount from fct_deals").df()
    assert types["mart_attribution_funnel.month"] == "DATE"
    assert types["mart_reach_by_period.period_start"] == "DATE"
    assert types["_publication.as_of"] == "TIMESTAMP WITH TIME ZONE"
    assert types["_publication.build_id"] == "VARCHAR"
    assert deals["amount"].dtype == "float64"
    # Parquet keeps the exact DECIMAL for every engine; pandas' default reader gives numbers (the
    # files name a float dtype for it), each amount to the cent; the pyarrow backend the decimal.
    with duckdb.connect() as con:
        exact = con.execute(
            f"select deal_id, amount, amount_reporting from read_parquet('{published.published_parquet}/fct_deals/*.parquet') "
            "order by deal_id").fetchall()
        parquet_type = con.execute(
            f"select column_type from (describe select amount from read_parquet('{published.published_parquet}/fct_deals/*.parquet'))"
        ).fetchone()[0]
    assert parquet_type == "DECIMAL(18,2)" and exact
    frame = pd.read_parquet(published.published_parquet / "fct_deals").sort_values("deal_id")
    for column in ("amount", "amount_reporting"):
        assert pd.api.types.is_float_dtype(frame[column]), frame[column].dtype
        read = [None if pd.isna(x) else Decimal(str(round(x, 2))).quantize(Decimal("0.01")) for x in frame[column]]
        assert read == [r[1 if column == "amount" else 2] for r in exact]
    assert float(frame["amount"].sum()) == pytest.approx(float(deals["amount"].sum()))
    exact_frame = pd.read_parquet(published.published_parquet / "fct_deals", dtype_backend="pyarrow")
    assert str(exact_frame["amount"].dtype) == "decimal128(18, 2)[pyarrow]"


def test_names_in_dbt_docs_resolve_in_the_published_file(published: Settings) -> None:
    """dbt docs show a mart as marts.<name>: the file answers to that name as well as main.<name>."""
    nodes = json.loads(manifest_path(published).read_text())["nodes"].values()
    marts = sorted(n.get("alias") or n["name"] for n in nodes
                   if n["resource_type"] == "model" and n["schema"] == MARTS_SCHEMA)
    assert "fct_deals" in marts
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        for name in marts:
            a = con.execute(f'select count(*) from {MARTS_SCHEMA}."{name}"').fetchone()[0]
            b = con.execute(f'select count(*) from main."{name}"').fetchone()[0]
            assert a == b, name


def test_the_published_file_is_read_only_on_disk(published: Settings) -> None:
    real = Path(os.path.realpath(published.published_duckdb))
    assert stat.S_IMODE(real.stat().st_mode) == 0o444
    if os.geteuid() != 0:  # root writes anyway; everyone else is refused
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(published.published_duckdb))
