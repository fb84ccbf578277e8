"""No model's result depends on the order DuckDB delivers rows in.

DuckDB adds the rows of a sum in whatever order its threads deliver them, and a double sum's
last bits depend on that order: a window ``sum() over (partition by deal_id)`` once made two
builds of the same log publish different credits (1e-17 apart; fixed by dividing by the deal's
``exact_sum``). Comparing builds finds such a sum only when the threads happen to reorder the
rows, so this test reads the models instead: every SQL model, compiled as a full build and as
an incremental one, is bound against the warehouse (DuckDB's ``json_serialize_plan``), and

* no aggregate or window function whose float result depends on the order of its terms (sum,
  avg, variance …) may take a float unless it orders them (``exact_sum``, ``exact_avg``);
  integers, decimals and ordered sums add to the same bits in any order;
* no aggregate that keeps its rows' order (``list``, ``string_agg`` …) may go without an
  ``order by``;
* no window function that numbers rows or reads a neighbour (``row_number``, ``lag``, ``lead``,
  ``first_value`` …) may go without an ``order by`` in its window.

Ties in an ``order by`` are data, which no reading of the SQL sees: test_determinism.py and the
incremental-equivalence tests compare builds for those.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from builds.dbt_build import invoke_dbt, manifest_path, project_args, read_artifact, target_path
from eventlog.settings import Settings
from tests.helpers import environ

# Aggregates whose float result depends on the order the terms are added in.
FLOAT_ORDER_SENSITIVE = frozenset({
    "sum", "fsum", "sumkahan", "kahan_sum", "sum_no_overflow", "avg", "mean", "favg", "product",
    "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop",
    "covar_samp", "covar_pop", "corr", "regr_slope", "regr_intercept", "regr_r2", "regr_avgx",
    "regr_avgy", "regr_sxx", "regr_syy", "regr_sxy", "skewness", "kurtosis", "kurtosis_pop",
})
FLOATS = frozenset({"FLOAT", "DOUBLE"})
# Aggregates whose result keeps the rows' order, whatever their type. (first() and any_value()
# are not among them: DuckDB plans every scalar subquery as a first(), and a bound plan does
# not tell those from one a model wrote.)
ROW_ORDER_AGGREGATES = frozenset({"list", "array_agg", "string_agg", "group_concat", "listagg"})
# Window functions that number the rows or read another row: arbitrary without an order by.
ROW_ORDER_WINDOWS = frozenset({
    "WINDOW_ROW_NUMBER", "WINDOW_NTILE", "WINDOW_LAG", "WINDOW_LEAD", "WINDOW_FIRST_VALUE",
    "WINDOW_LAST_VALUE", "WINDOW_NTH_VALUE",
})


def order_dependent_calls(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The aggregates and window functions of ``sql`` (bound against ``con``'s catalog) whose
    result depends on the order rows arrive in, as ``function(argument types)``."""
    plan = json.loads(con.execute("select json_serialize_plan(?)", [sql]).fetchone()[0])
    if plan.get("error"):
        raise AssertionError(f"the statement does not bind: {plan.get('error_message')}")
    found = []
    for call in _function_calls(plan):
        # Aggregates (and aggregates over a window) carry their name; the other window
        # functions only their kind.
        name = call["qname"]["path"][-1] if call.get("qname") else call["type"]
        types = [argument["id"] for argument in call.get("arguments") or ()] or [
            child["return_type"]["id"] for child in call.get("children") or () if "return_type" in child]
        terms_ordered = bool(call.get("order_bys") or call.get("arg_orders"))
        window_ordered = bool(call.get("orders"))
        if (
            (name in FLOAT_ORDER_SENSITIVE and FLOATS.intersection(types) and not terms_ordered)
            or (name in ROW_ORDER_AGGREGATES and not (terms_ordered or window_ordered))
            or (name in ROW_ORDER_WINDOWS and not window_ordered)
        ):
            found.append(f"{name}({', '.join(types)})")
    return found


def _function_calls(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if node.get("expression_class") in ("BOUND_AGGREGATE", "BOUND_WINDOW"):
            yield node
        for value in node.values():
            yield from _function_calls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _function_calls(value)


@pytest.fixture
def table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table t as select range % 3 as g, range / 7 as x, range as n, "
                "cast(range as decimal(18, 2)) as d from range(10)")
    return con


@pytest.mark.parametrize("sql, found", [
    ("select g, sum(x) from t group by g", ["sum(DOUBLE)"]),
    ("select sum(x) over (partition by g) from t", ["sum(DOUBLE)"]),
    ("select avg(x), stddev(x) from t", ["avg(DOUBLE)", "stddev(DOUBLE)"]),
    ("select sum(x order by x), avg(x order by x) from t", []),
    ("select sum(x order by x) over (partition by g) from t", []),
    ("select sum(n), avg(n), sum(d), max(x), min(x), count(x), median(x) from t", []),
    ("with w as (select g, x from t) select g, x / sum(x) over (partition by g) from w", ["sum(DOUBLE)"]),
    ("select g, list(n), string_agg(cast(n as varchar), ',') from t group by g",
     ["list(BIGINT)", "string_agg(VARCHAR, VARCHAR)"]),
    ("select g, list(n order by n), string_agg(cast(n as varchar), ',' order by n) from t group by g", []),
    ("select list(n) over (partition by g order by n) from t", []),
    ("select row_number() over (partition by g), lag(x) over (partition by g) from t",
     ["WINDOW_ROW_NUMBER()", "WINDOW_LAG(DOUBLE, DOUBLE)"]),
    ("select row_number() over (partition by g order by n), lead(x) over (order by n), "
     "rank() over (partition by g) from t", []),
])
def test_a_call_that_depends_on_row_order_is_found(table: duckdb.DuckDBPyConnection, sql: str,
                                                   found: list[str]) -> None:
    assert order_dependent_calls(table, sql) == found


def _compiled_models(settings: Settings) -> dict[str, str]:
    """Every SQL model's compiled select, as the home's last dbt invocation left it."""
    models = {}
    for node in read_artifact(manifest_path(settings))["nodes"].values():
        if node["resource_type"] == "model" and node.get("language") == "sql":
            compiled = target_path(settings) / node["compiled_path"]
            models[node["name"]] = compiled.read_text()
    return models


def test_no_model_depends_on_the_order_rows_arrive_in(published: Settings, tmp_path: Path) -> None:
    full = _compiled_models(published)  # its first build: every model compiled in full
    # The incremental forms: the same project compiled against the built warehouse (a copy:
    # compiling writes the home's dbt target).
    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True, ignore=shutil.ignore_patterns("published", "as_of"))
    copy = Settings(home)
    with environ(REACHLOOP_HOME=str(home)):
        assert invoke_dbt(copy, ["compile", *project_args(copy)]).success
    incremental = _compiled_models(copy)
    assert len(full) >= 70 and full.keys() == incremental.keys()
    assert sum(full[name] != incremental[name] for name in full) >= 30  # the incremental ones

    con = duckdb.connect(str(copy.warehouse), read_only=True)
    try:
        unordered = [
            f"{name} ({form}): {call}"
            for form, models in (("full", full), ("incremental", incremental))
            for name, sql in sorted(models.items())
            for call in order_dependent_calls(con, sql)
        ]
    finally:
        con.close()
    assert unordered == []
