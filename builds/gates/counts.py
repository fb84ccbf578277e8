"""Row-level rules as counts of the rows that break them, computed by DuckDB.

GX's fixed and per-row costs are in pandas: run on every landed row (gate 1) or every row of
a big mart (gate 2), it held millions of rows in memory. Instead each row-level ``Rule`` is
translated here, once, into a SQL condition that is true for a row GX would count as
unexpected; one grouped query counts every rule's rows per batch (or per mart), and GX then
expects each count to be zero. The same condition finds a failure's example rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb

from builds.gates import suites
from eventlog.sql import quote_ident, quote_idents, quote_str

# The batches gate 1 checks (a temp table that frames.gate_1_frames fills).
PENDING = "batch_id in (select batch_id from _gate_batches)"
# DuckDB's floating-point types: pandas, hence GX, takes their NaN for a missing value.
FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL"})
# The alias of the checked table in the counting and example queries.
ROWS = "_t"


@dataclass(frozen=True)
class Counts:
    """What a frame of violation counts counts, and where the counted rows live."""

    rules: dict[str, suites.Rule]  # count column → the row-level rule it counts
    table: str  # the SQL table (or view) the rows are in
    shown: tuple[str, ...]  # the columns an example row shows, besides the rule's own
    order: tuple[str, ...]  # of example rows
    per_batch: bool  # gate 1: a row per pending batch; gate 2: one row for the whole table
    floats: frozenset[str] = frozenset()  # columns whose NaN counts as missing
    # Gate 2 on an incremental mart: (watermark column, position) — only rows written past the
    # position are checked, and a uniqueness rule only the keys those rows hold. None: all rows.
    written_after: tuple[str, int] | None = None

    def written(self, alias: str | None = None) -> str:
        """The condition on a row that it is checked (true: every row)."""
        if self.written_after is None:
            return "true"
        column, position = self.written_after
        prefix = f"{alias}." if alias else ""
        return f"{prefix}{quote_ident(column)} > {int(position)}"

    def keys_written(self, rule: suites.Rule) -> str:
        """The condition on a row that its key (a uniqueness rule's columns) is one a checked
        row holds: every duplicate a run can have made includes a row it wrote."""
        if self.written_after is None:
            return "true"
        same = " and ".join(f"_w.{c} is not distinct from {ROWS}.{c}" for c in map(quote_ident, rule.columns))
        return f"exists (select 1 from {self.table} as _w where {self.written('_w')} and {same})"

    @property
    def key(self) -> str:
        """The frame's id column: what a failure blames."""
        return "batch_id" if self.per_batch else "target"


def count_column(rule: suites.Rule) -> str:
    return f"{rule.type}({rule.label})"


def counts_for(rules: list[suites.Rule], table: str, shown: tuple[str, ...], order: tuple[str, ...], *,
               per_batch: bool, floats: frozenset[str] = frozenset(),
               written_after: tuple[str, int] | None = None) -> Counts:
    by_column: dict[str, suites.Rule] = {}
    for rule in rules:
        # Two rules of one kind on one column (a range and a stricter warning) get #2, #3 ….
        name = count_column(rule)
        taken = sum(1 for c in by_column if c == name or c.startswith(name + " #"))
        by_column[f"{name} #{taken + 1}" if taken else name] = rule
    return Counts(by_column, table, shown, order, per_batch, floats, written_after)


def counts_sql(counts: Counts, label: str) -> str:
    """Every rule counted over the table's rows (gate 1: the pending batches' rows, grouped by
    batch). A uniqueness rule breaks on groups of rows, not on a row: it gets its own
    aggregate over just its columns (cheaper than a window over every row), joined on."""
    key = "batch_id" if counts.per_batch else quote_str(label)
    where = PENDING if counts.per_batch else counts.written()
    group = " group by batch_id" if counts.per_batch else ""  # without: one row, even if empty
    per_row = {c: r for c, r in counts.rules.items() if not _is_unique(r)}
    grouped = {c: r for c, r in counts.rules.items() if _is_unique(r)}
    flags = "".join(f", count(*) filter (where {violation_sql(r, counts.floats)}) as {quote_ident(c)}"
                    for c, r in per_row.items())
    fl = counts.floats
    joins = "".join(
        f"""
        left join (
            select {key} as {counts.key}, sum(n) as {quote_ident(c)}
            from (select {quote_idents(_unique_columns(r, counts.per_batch))}, count(*) as n
                  from {counts.table} as {ROWS}
                  where {PENDING if counts.per_batch else counts.keys_written(r)}{_skipped_rows(r, fl)}
                  group by all having count(*) > 1){group}
        ) using ({counts.key})"""
        for c, r in grouped.items()
    )
    columns = [counts.key, "rows", *map(quote_ident, per_row),
               *(f"coalesce({quote_ident(c)}, 0)::bigint as {quote_ident(c)}" for c in grouped)]
    return f"""
        select {", ".join(columns)}
        from (select {key} as {counts.key}, count(*) as rows{flags}
              from {counts.table} where {where}{group}){joins}
        order by {counts.key}
    """


def violating_rows(
    con: duckdb.DuckDBPyConnection, counts: Counts, key: str, rule: suites.Rule, limit: int
) -> list[dict]:
    """Up to ``limit`` rows that break a rule (of batch ``key`` in gate 1), for the report;
    rows sharing a repeated key come out side by side."""
    unique = _is_unique(rule)
    order = dict.fromkeys([*(c for c in rule.columns if c != "batch_id" and unique), *counts.order])
    shown = dict.fromkeys([*counts.shown, *(rule.columns or _expression_columns(con, counts.table, rule))])
    rows = counts.keys_written(rule) if unique else counts.written()
    df = con.execute(
        f"""
        select {quote_idents(shown)} from {counts.table} as {ROWS}
        where {"batch_id = $1" if counts.per_batch else rows}
        {"qualify" if unique else "and"} {violation_sql(rule, counts.floats)}
        {f"order by {quote_idents(order)}" if order else ""} limit {int(limit)}
        """,
        [key] if counts.per_batch else [],
    ).df()
    return json.loads(df.to_json(orient="records", date_format="iso"))


_UNIQUE = ("ExpectCompoundColumnsToBeUnique", "ExpectColumnValuesToBeUnique")
# The row-level expectations violation_sql translates, and the arguments it understands.
_ROW_RULE_ARGS = {
    "ExpectColumnValuesToNotBeNull": {"column", "where"},
    "ExpectColumnValuesToBeInSet": {"column", "value_set", "where"},
    "ExpectColumnValuesToBeBetween": {"column", "min_value", "max_value", "where"},
    "ExpectColumnValuesToMatchRegex": {"column", "regex", "where"},
    "ExpectColumnPairValuesAToBeGreaterThanB": {"column_A", "column_B", "or_equal", "ignore_row_if", "where"},
    "ExpectColumnValuesToBeUnique": {"column", "where"},
    "ExpectCompoundColumnsToBeUnique": {"column_list", "ignore_row_if", "where"},
    "UnexpectedRowsExpectation": {"unexpected_rows_query", "description", "where"},
}
# The only pair-rule mode reproduced: a row with a missing side is skipped.
_EITHER_MISSING = "either_value_is_missing"
# Compound uniqueness: GX's default skips rows missing every value; "never" (dbt's group by)
# counts them like any other rows.
_ALL_MISSING, _NEVER = "all_values_are_missing", "never"


def violation_sql(rule: suites.Rule, floats: frozenset[str] = frozenset()) -> str:
    """A SQL condition true for a row that breaks a row-level rule, as GX judges rows in pandas:
    its column-map expectations skip missing values (null, and NaN in a float column), and
    ExpectCompoundColumnsToBeUnique skips rows missing every value (unless ignore_row_if is
    "never"). An expression rule (dbt's expression_is_true) is its own SQL: a row breaks it
    where ``not (expression)`` is true, as dbt's test selects rows. A rule or an argument
    this cannot translate is an error, never a silent pass."""
    kw = rule.kwargs
    unknown = set(kw) - _ROW_RULE_ARGS.get(rule.expectation, set())
    if rule.expectation not in _ROW_RULE_ARGS or unknown:
        raise ValueError(f"no SQL for {rule.expectation} with {sorted(unknown or kw)}")
    if kw.get("where"):  # a dbt test's where config: only the rows it selects are tested
        plain = suites.Rule(rule.expectation, {k: v for k, v in kw.items() if k != "where"}, rule.severity)
        if _is_unique(rule):  # the copies of a key are counted among the selected rows only
            return violation_sql(plain, floats).replace(
                "partition by ", f"partition by coalesce(({kw['where']}), false), ", 1).replace(
                "(true", f"(coalesce(({kw['where']}), false)", 1)
        return f"(coalesce(({kw['where']}), false) and {violation_sql(plain, floats)})"
    col = quote_ident(kw.get("column", ""))
    present = f"not {_missing(kw.get('column', ''), floats)}"
    match rule.expectation:
        case "ExpectColumnValuesToNotBeNull":
            return _missing(kw["column"], floats)
        case "ExpectColumnValuesToBeInSet":
            return f"({present} and {col} not in ({', '.join(map(_literal, kw['value_set']))}))"
        case "ExpectColumnValuesToBeBetween":
            low, high = kw.get("min_value"), kw.get("max_value")
            bounds = [f"{col} < {_literal(low)}"] if low is not None else []
            bounds += [f"{col} > {_literal(high)}"] if high is not None else []
            return f"({present} and ({' or '.join(bounds)}))"
        case "ExpectColumnValuesToMatchRegex":
            # RE2 and Python agree on the contract's patterns; both search, like GX.
            return f"({present} and not regexp_matches({col}, {_literal(kw['regex'])}))"
        case "ExpectColumnPairValuesAToBeGreaterThanB" if kw.get("ignore_row_if") == _EITHER_MISSING:
            a, b = kw["column_A"], kw["column_B"]
            op = ">=" if kw.get("or_equal") else ">"
            return (f"(not {_missing(a, floats)} and not {_missing(b, floats)}"
                    f" and not ({quote_ident(a)} {op} {quote_ident(b)}))")
        case "ExpectColumnValuesToBeUnique" | "ExpectCompoundColumnsToBeUnique":
            # A window, to find examples in one batch or mart; counting uses counts_sql's
            # grouped form. Every copy of a repeated key is unexpected, as in GX.
            return (f"(true{_skipped_rows(rule, floats)}"
                    f" and count(*) over (partition by {quote_idents(rule.columns)}) > 1)")
        case "UnexpectedRowsExpectation":
            return f"(not ({suites.expression_of(rule)}))"
    raise ValueError(f"no SQL for {rule}")


def _is_unique(rule: suites.Rule) -> bool:
    return rule.expectation in _UNIQUE


def _skipped_rows(rule: suites.Rule, floats: frozenset[str]) -> str:
    """The condition a uniqueness rule adds to leave out the rows GX skips, and those a dbt
    test's where config leaves out (empty: none)."""
    where = f" and coalesce(({rule.kwargs['where']}), false)" if rule.kwargs.get("where") else ""
    ignore = rule.kwargs.get("ignore_row_if", _ALL_MISSING)
    if ignore == _NEVER:
        return where
    if ignore != _ALL_MISSING:
        raise ValueError(f"no SQL for {rule.expectation} with ignore_row_if {ignore!r}")
    return f"{where} and not {_all_missing(rule.columns, floats)}"


def expression_columns(rule: suites.Rule, columns) -> tuple[str, ...]:
    """The columns (of ``columns``) an expression rule's SQL names: what an example row shows,
    and what must exist for the rule to be counted. A word that is a column counts as naming it."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", suites.expression_of(rule)))
    return tuple(c for c in columns if c in words)


def _expression_columns(con: duckdb.DuckDBPyConnection, table: str, rule: suites.Rule) -> tuple[str, ...]:
    if rule.expectation != "UnexpectedRowsExpectation":
        return ()
    return expression_columns(rule, [d[0] for d in con.execute(f"select * from {table} limit 0").description])


def _unique_columns(rule: suites.Rule, per_batch: bool) -> tuple[str, ...]:
    # Grouped per batch, a key must include batch_id: GX's verdict on all pending batches
    # at once would otherwise also catch a key repeated across two batches.
    if per_batch and "batch_id" not in rule.columns:
        raise ValueError(f"{rule} does not hold per batch: its columns lack batch_id")
    return rule.columns


def _missing(column: str, floats: frozenset[str]) -> str:
    col = quote_ident(column)
    return f"({col} is null or isnan({col}))" if column in floats else f"({col} is null)"


def _all_missing(columns: tuple[str, ...], floats: frozenset[str]) -> str:
    return "(" + " and ".join(_missing(c, floats) for c in columns) + ")"


def _literal(value) -> str:
    if isinstance(value, str):
        return quote_str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise ValueError(f"no SQL literal for {value!r}")
