"""Gate 2's rules per model, read from dbt's manifest of the build that just ran.

The marts' data tests, and those of the staging and intermediate models (``FOLDED``), are
checked by gate 2 rather than by dbt: one set-based query per model instead of a dbt node per
test (see ``checked_by_gate_2_selector``).

Each mart's interface is stated once, in its yml: dbt enforces the contract and runs the data
tests during the build; gate 2 checks the built marts again right before publish, against
the same declarations, as GX expectations (on counts computed in SQL, see ``counts``). What a
declaration becomes:

==================  ===========================================================================
contract            ExpectTableColumnsToMatchSet, the contract's columns (exact_match False)
not_null            ExpectColumnValuesToNotBeNull
unique              ExpectColumnValuesToBeUnique
accepted_values     ExpectColumnValuesToBeInSet (quoted values, dbt's default)
in_range            ExpectColumnValuesToBeBetween (numeric bounds)
unique_combination  ExpectCompoundColumnsToBeUnique, ignore_row_if "never" (dbt's group by
                    counts rows of nulls as equal)
expression_is_true  UnexpectedRowsExpectation: the rows where ``not (expression)``, as dbt's test
                    selects them, counted in SQL
group_sum_equals    ExpectColumnValuesToBeBetween on one sum per group (value ± tolerance)
==================  ===========================================================================

Severity comes from the test's config: ``warn`` is a gate warning, ``error`` critical. A test
gate 2 cannot reproduce faithfully is left to dbt rather than checked differently, and listed
in ``MartRules.left_to_dbt`` with the reason: tests of another table (relationships),
singular tests, tests of a package, tests with a ``where`` or a non-default ``fail_calc``,
``warn_if`` or ``error_if``, and arguments holding Jinja other than ``var()``. A ``where``
config (plain SQL) is kept: the rule counts only the rows it selects, as dbt's test does. Arguments that
use ``var()`` are rendered as dbt renders them (natively: a var holding a list is a list), from
the project's vars and those the build was invoked with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from builds.dbt_build import MARTS_SCHEMA, PROJECT_DIR, WATERMARK, read_artifact
from builds.gates import suites
from eventlog.errors import ReachloopError

# dbt's defaults for how a test's failing rows become a verdict: gate 2 counts failing rows
# and fails on any.
_DEFAULT_VERDICT = {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"}
_SEVERITIES = {"warn": suites.WARNING, "error": suites.CRITICAL}
# A test argument dbt renders as a call although it has no braces (dbt.clients.jinja).
_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")
_JINJA = re.compile(r"{[{%#]")
# An incremental staging model's watermark (the others': WATERMARK): the log position of the
# batch its row (an event's current version) came from (macros/event_log.sql). A row at or
# before a build's position was written by that build or an earlier one: a newer version
# replaces the row, with its newer position.
STAGING_WATERMARK = "log_position"


@dataclass(frozen=True)
class GroupSum:
    """One group_sum_equals test: the column's sum per group, and the rule on that sum."""

    column: str
    group_by: tuple[str, ...]
    rule: suites.Rule  # on the frame column ``sum_column``

    @property
    def sum_column(self) -> str:
        return f"{self.column}_sum"


@dataclass(frozen=True)
class MartRules:
    """What gate 2 checks of one mart, all of it declared in the mart's yml."""

    name: str
    columns: tuple[str, ...]  # the enforced contract's columns, in order (empty: no contract)
    key: tuple[str, ...]  # identifies a row in failure reports: the narrowest unique key
    rows: tuple[suites.Rule, ...]  # row-level rules, counted in SQL
    group_sums: tuple[GroupSum, ...] = ()
    left_to_dbt: tuple[tuple[str, str], ...] = ()  # (test, why gate 2 does not check it)
    schema: str = MARTS_SCHEMA
    # An incremental model's column of the log position that wrote each row (None: a table,
    # rebuilt whole): gate 2 checks the rows an incremental run wrote (see frames).
    watermark: str | None = None

    @property
    def sort_key(self) -> tuple[str, ...] | None:
        """The narrowest key this gate holds every row of the mart to, critically and nulls
        included (a unique combination, or a unique column that is also not null), so that no
        two rows tie on it: sorted on it alone, the rows have one order (publish sorts the
        Parquet on it). None: the mart has no such key."""
        critical = [r for r in self.rows if r.severity == suites.CRITICAL and "where" not in r.kwargs]
        not_null = {r.column for r in critical if r.expectation == "ExpectColumnValuesToNotBeNull"}
        keys = [r.columns for r in critical if (r.expectation == "ExpectCompoundColumnsToBeUnique"
                                                 and r.kwargs.get("ignore_row_if") == "never")
                or (r.expectation == "ExpectColumnValuesToBeUnique" and r.column in not_null)]
        return min(keys, key=len) if keys else None

    @property
    def required_columns(self) -> tuple[str, ...]:
        """The columns the model must have: its contract's, else those its rules name (a
        model without a contract must still have them: dbt's test would fail on a missing one)."""
        named = (c for r in (*self.rows, *(s.rule for s in self.group_sums)) for c in r.columns)
        sums = (c for s in self.group_sums for c in (s.column, *s.group_by))
        return self.columns or tuple(dict.fromkeys(
            c for c in (*named, *sums) if not any(c == s.sum_column for s in self.group_sums)))


class _NotReproducible(Exception):
    """A test gate 2 leaves to dbt; the message says why."""


def mart_rules(manifest_path: Path, schemas: tuple[str, ...] = (MARTS_SCHEMA,)) -> dict[str, MartRules]:
    """Every model of the schemas (default: marts) in the manifest, with the rules its yml declares."""
    if not manifest_path.exists():
        raise ReachloopError(
            f"gate 2 found no dbt manifest at {manifest_path}: run the dbt build first (reachloop "
            f"build); the marts' contracts and data tests gate 2 checks are read from it"
        )
    manifest = read_artifact(manifest_path)
    variables = _dbt_vars(manifest, manifest_path.parent)
    marts = {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] in schemas
    }
    tests: dict[str, list[dict]] = {uid: [] for uid in marts}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node") in tests:
            tests[node["attached_node"]].append(node)
    return {
        node["name"]: _mart(node, sorted(tests[uid], key=lambda t: t["unique_id"]), variables)
        for uid, node in sorted(marts.items(), key=lambda kv: kv[1]["name"])
    }


def _mart(node: dict, tests: list[dict], variables: dict[str, Any]) -> MartRules:
    columns = tuple(node["columns"]) if node["config"]["contract"]["enforced"] else ()
    rows: list[suites.Rule] = []
    sums: list[GroupSum] = []
    keys: list[tuple[str, ...]] = []
    skipped: list[tuple[str, str]] = []
    for test in tests:
        try:
            rule = _rule(test, variables)
        except _NotReproducible as why:
            skipped.append((test["name"], str(why)))
            continue
        if isinstance(rule, GroupSum):
            sums.append(rule)
            continue
        rows.append(rule)
        if rule.expectation in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
            keys.append(rule.columns)
    key = min(keys, key=len) if keys else tuple(node["columns"])[:1]
    return MartRules(node["name"], columns, key, tuple(rows), tuple(sums), tuple(skipped), node["schema"],
                     _watermark(node))


def _watermark(node: dict) -> str | None:
    """The column of an incremental model that holds the log position that wrote each row (the
    rule of macros/incremental.sql's watermark_column); None for a table, rebuilt whole. Gate 2
    uses it only where the built table has the column (frames._written_after)."""
    if node["config"].get("materialized") != "incremental":
        return None
    return STAGING_WATERMARK if node["name"].startswith("stg_") else WATERMARK


def _rule(test: dict, variables: dict[str, Any]) -> suites.Rule | GroupSum:
    """The GX rule of one generic test, or _NotReproducible."""
    meta = test.get("test_metadata")
    if not meta:
        raise _NotReproducible("a singular test (SQL of its own)")
    if meta.get("namespace"):
        raise _NotReproducible(f"a test of package {meta['namespace']}")
    config = test["config"]
    where = config.get("where")
    if where and (not isinstance(where, str) or _JINJA.search(where)):
        raise _NotReproducible(f"runs on a subset that is not plain SQL (where: {where})")
    for option, default in _DEFAULT_VERDICT.items():
        if str(config.get(option, default)).strip() != default:
            raise _NotReproducible(f"{option} {config[option]!r}: gate 2 fails on any failing row")
    severity = _SEVERITIES.get(str(config.get("severity", "error")).strip().lower())
    if severity is None:
        raise _NotReproducible(f"severity {config.get('severity')!r}")
    name = meta["name"]
    if name not in _MAPPINGS:
        raise _NotReproducible(f"gate 2 has no counterpart of {name}")
    kwargs = {k: v for k, v in meta["kwargs"].items() if k != "model"}
    column = kwargs.pop("column_name", None) or test.get("column_name")
    kwargs = _render(kwargs, variables)
    try:
        rule = _MAPPINGS[name](column, kwargs, severity)
    except (KeyError, TypeError, ValueError) as error:
        raise _NotReproducible(f"{name} with arguments {sorted(kwargs)}: {error!r}") from None
    if where and isinstance(rule, GroupSum):
        raise _NotReproducible(f"{name} on a subset (where: {where})")
    return suites.Rule(rule.expectation, {**rule.kwargs, "where": where}, rule.severity) if where else rule


def _only(kwargs: dict, *allowed: str) -> dict:
    extra = set(kwargs) - set(allowed)
    if extra:
        raise ValueError(f"arguments {sorted(extra)} not reproduced")
    return kwargs


def _need(column: str | None) -> str:
    if not column:
        raise ValueError("no column")
    return column


def _number(value: Any) -> int | float | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise ValueError(f"bound {value!r} is not a number")


def _not_null(column, kwargs, severity):
    _only(kwargs)
    return suites.Rule("ExpectColumnValuesToNotBeNull", {"column": _need(column)}, severity)


def _unique(column, kwargs, severity):
    _only(kwargs)
    return suites.Rule("ExpectColumnValuesToBeUnique", {"column": _need(column)}, severity)


def _accepted_values(column, kwargs, severity):
    kwargs = _only(kwargs, "values", "quote")
    if not kwargs.get("quote", True):
        raise ValueError("unquoted values are SQL expressions")
    values = kwargs["values"]
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"values {values!r} are not a list")
    # dbt quotes every value ('{{ value }}'): strings, whatever YAML made of them.
    return suites.Rule("ExpectColumnValuesToBeInSet",
                       {"column": _need(column), "value_set": [str(v) for v in values]}, severity)


def _in_range(column, kwargs, severity):
    kwargs = _only(kwargs, "min_value", "max_value")
    bounds = {k: _number(kwargs.get(k)) for k in ("min_value", "max_value") if kwargs.get(k) is not None}
    return suites.Rule("ExpectColumnValuesToBeBetween", {"column": _need(column), **bounds}, severity)


def _unique_combination(column, kwargs, severity):
    columns = _only(kwargs, "columns")["columns"]
    if isinstance(columns, str) or not columns:
        raise ValueError(f"columns {columns!r} are not a list")
    return suites.Rule("ExpectCompoundColumnsToBeUnique",
                       {"column_list": list(columns), "ignore_row_if": "never"}, severity)


def _expression_is_true(column, kwargs, severity):
    expression = _only(kwargs, "expression")["expression"]
    if not isinstance(expression, str) or _JINJA.search(expression):
        raise ValueError(f"expression {expression!r} is not plain SQL")
    return suites.expression_rule(expression, severity)


def _group_sum_equals(column, kwargs, severity):
    kwargs = _only(kwargs, "group_by", "value", "tolerance")
    group_by = kwargs["group_by"]
    if isinstance(group_by, str) or not group_by:
        raise ValueError(f"group_by {group_by!r} is not a list")
    value, tolerance = _number(kwargs["value"]), _number(kwargs.get("tolerance", 0))
    sum_column = f"{_need(column)}_sum"
    return GroupSum(column, tuple(group_by), suites.group_sum_rule(sum_column, value, tolerance, severity))


_MAPPINGS = {
    "not_null": _not_null,
    "unique": _unique,
    "accepted_values": _accepted_values,
    "in_range": _in_range,
    "unique_combination": _unique_combination,
    "expression_is_true": _expression_is_true,
    "group_sum_equals": _group_sum_equals,
}


# --- which mart tests dbt leaves to gate 2 ----------------------------------------------------

# Where the marts' yml (hence their data tests) live, relative to the dbt project.
MARTS_PATH = "models/marts"
# The folders whose models' data tests gate 2 checks instead of dbt, and their schemas.
FOLDED = {"models/staging": "staging", "models/intermediate": "intermediate", MARTS_PATH: MARTS_SCHEMA}
FOLDED_SCHEMAS = tuple(FOLDED.values())
# The dbt project's name (dbt_project.yml): the first part of its nodes' fqn.
PROJECT_NAME = "reachloop"


def checked_by_gate_2_selector(schemas: tuple[str, ...] = FOLDED_SCHEMAS) -> str:
    """The data tests of the kinds gate 2 reproduces, of the models of the schemas (default:
    every folded one: staging, intermediate, marts), as a dbt selection: a production
    build excludes them from ``dbt build`` (``builds.steps.run_dbt``), because gate 2 checks
    all of them again, right after, in one set-based query per mart, before publish. dbt's node
    for each costs about 20 ms of overhead beside its query. A test of such a kind that gate 2
    cannot reproduce after all (a ``where``, a ``warn_if`` …) is caught by
    ``tests_checked_nowhere`` and fails gate 2: it is never silently skipped.

    A folder is selected by the tests' fqn (the project, then the folders of the yml that
    declares them), not ``path:``: dbt evaluates ``path:`` by globbing the folder and comparing
    every node's file and its parents, several times slower, and each of the 21 criteria scans
    the whole graph in every build."""
    return " ".join(f"fqn:{PROJECT_NAME}.{'.'.join(Path(path).parts[1:])},test_name:{name}"
                    for path, schema in FOLDED.items() if schema in schemas for name in sorted(_MAPPINGS))


def tests_checked_nowhere(manifest_path: Path, marts: dict[str, MartRules]) -> list[str]:
    """The data tests of the models gate 2 checks (``marts``) that gate 2 leaves to dbt but
    that the dbt build which wrote the manifest did not run (it excluded them). Empty when the
    build's run_results are not of that invocation (a ``dbt parse``): then nothing says what dbt ran."""
    run_results = manifest_path.parent / "run_results.json"
    if not run_results.exists():
        return []
    results = read_artifact(run_results)
    manifest = read_artifact(manifest_path)
    if (results["metadata"].get("invocation_id") != manifest["metadata"].get("invocation_id")
            or results.get("args", {}).get("which") != "build"):
        return []
    ran = {r["unique_id"].split(".")[2] for r in results["results"] if r["unique_id"].startswith("test.")}
    return sorted(f"{name} ({why})" for rules in marts.values() for name, why in rules.left_to_dbt
                  if name not in ran)


# --- test arguments that use var() -------------------------------------------------------------


def _dbt_vars(manifest: dict, target: Path) -> dict[str, Any]:
    """The vars dbt had: the project's (global, then scoped to the project), overridden by those
    of the invocation that wrote the manifest (run_results.json of the same invocation)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()) or {}
    declared = project.get("vars") or {}
    name = manifest["metadata"].get("project_name") or project.get("name")
    variables = {k: v for k, v in declared.items() if not (k == name and isinstance(v, dict))}
    variables.update(declared.get(name) or {})
    run_results = target / "run_results.json"
    if run_results.exists():
        results = read_artifact(run_results)
        if results["metadata"].get("invocation_id") == manifest["metadata"].get("invocation_id"):
            cli = results.get("args", {}).get("vars") or {}
            variables.update(yaml.safe_load(cli) if isinstance(cli, str) else cli)
    return variables


def _render(value: Any, variables: dict[str, Any]) -> Any:
    """A test argument as dbt renders it (natively), when its only Jinja is ``var()``."""
    if isinstance(value, dict):
        return {k: _render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, variables) for v in value]
    if not isinstance(value, str):
        return value
    if _LOOKS_LIKE_CALL.match(value):
        value = "{{ " + value + " }}"
    if not _JINJA.search(value):
        return value
    from jinja2 import StrictUndefined, TemplateError
    from jinja2.nativetypes import NativeEnvironment

    missing = object()

    def var(name: str, default: Any = missing) -> Any:
        if name in variables:
            return variables[name]
        if default is missing:
            raise _NotReproducible(f"var {name!r} is not set")
        return default

    try:
        return NativeEnvironment(undefined=StrictUndefined).from_string(value).render(var=var)
    except TemplateError as error:
        raise _NotReproducible(f"argument {value!r} uses Jinja beyond var(): {error}") from None
