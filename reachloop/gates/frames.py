"""The dataframes the gates validate, computed in DuckDB.

SQL does what SQL is good at (joins against the whole log, per-batch aggregates, medians of
recent batches); pandas receives one row per batch being gated, or the marts' checked
columns. Gate 1's row-level rules become counts: for each batch, how many of its rows break
each rule, computed by one grouped query per event type from the same ``Rule`` objects GX
would have run on the rows. Every frame carries ``batch_id`` (gate 1) or the mart's grain
(gate 2) so that GX's unexpected rows name what failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from ingestion.contract import EVENT_TYPES, TIMESTAMP, EventType, raw_table
from reachloop.batches import LATEST_DECISION_SQL, LATEST_GATE_SQL
from reachloop.dbt_build import MARTS_SCHEMA
from reachloop.gates import suites
from reachloop.sql import quote_ident, quote_str

# information_schema spells some contract types differently.
_TYPE_NAMES = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


@dataclass
class Frame:
    """One dataframe and the rules GX checks it against."""

    suite: str  # e.g. gate_1.share_metrics.rows
    target: str  # the event type or mart
    df: pd.DataFrame
    rules: list[suites.Rule]
    id_columns: tuple[str, ...]  # identify a row in failure reports
    # A frame of violation counts: each count column and the row-level rule it counts.
    counts: dict[str, suites.Rule] = field(default_factory=dict)


def _event_time(et: EventType) -> str:
    return next(f.name for f in et.fields if f.type == TIMESTAMP)


def ungated_batches(con: duckdb.DuckDBPyConnection, as_of: str | None = None) -> dict[str, list[str]]:
    """Batches gate 1 has not passed yet, by event type; rejected batches are not checked."""
    rows = con.execute(
        f"""
        select b.event_type, b.batch_id
        from meta.batches b
        left join ({LATEST_GATE_SQL}) g using (batch_id)
        left join ({LATEST_DECISION_SQL}) d using (batch_id)
        where coalesce(g.outcome, 'pending') not in ('passed', 'warned')
          and coalesce(d.action, '') <> 'reject'
          and ($1::timestamptz is null or b.ingested_at <= $1::timestamptz)
        order by b.event_type, b.ingested_at, b.batch_id
        """,
        [as_of],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for et, batch_id in rows:
        out.setdefault(et, []).append(batch_id)
    return out


def _accepted_batches(alias: str) -> str:
    """A predicate: the row's batch is not rejected (references resolve against these only)."""
    return f"""{alias}.batch_id not in (
        select batch_id from ({LATEST_DECISION_SQL}) where action = 'reject')"""


# The batches gate 1 checks (a temp table gate_1_frames fills).
_PENDING = "batch_id in (select batch_id from _gate_batches)"


def gate_1_frames(con: duckdb.DuckDBPyConnection, pending: dict[str, list[str]]) -> list[Frame]:
    """For the pending batches: one schema frame, one summary frame (a row per batch) and one
    frame of row-rule violation counts per event type (a row per batch). Few frames on
    purpose: GX's fixed cost is per validation."""
    con.execute("create or replace temp table _gate_batches (batch_id varchar)")
    con.executemany("insert into _gate_batches values (?)", [[b] for ids in pending.values() for b in ids])
    newest = _newest_events(con)
    schemas, summaries, frames = [], [], []
    for event_type in pending:
        et = EVENT_TYPES[event_type]
        schemas.append(_schema(con, et))
        summaries.append(_batch_summary(con, et, max(newest.values(), default=None)))
        frames.append(_violation_counts(con, et))
    return [
        Frame("gate_1.schema", "raw", pd.concat(schemas, ignore_index=True), suites.schema_rules(),
              ("event_type", "column_name")),
        Frame("gate_1.batches", "batches", pd.concat(summaries, ignore_index=True),
              suites.batch_summary_rules(), ("batch_id", "event_type")),
        *frames,
    ]


def _violation_counts(con: duckdb.DuckDBPyConnection, et: EventType) -> Frame:
    """One row per pending batch of the type: its row count and, per row-level rule, how many
    of its rows break it. GX expects each count to be zero, with the rule's severity."""
    rules = suites.event_rows_rules(et)
    counts = {_count_column(r): r for r in rules}
    if len(counts) < len(rules):
        raise ValueError(f"two row rules of {et.name} would share a count column")
    df = con.execute(_counts_sql(raw_table(et.name), counts)).df()
    checks = [suites.violation_count_rule(c, r.severity) for c, r in counts.items()]
    return Frame(f"gate_1.{et.name}.rows", et.name, df, checks, ("batch_id",), counts)


def _count_column(rule: suites.Rule) -> str:
    return f"{rule.type}({','.join(rule.columns)})"


def _counts_sql(table: str, counts: dict[str, suites.Rule]) -> str:
    """Every rule counted in one pass over the pending batches' rows, grouped by batch. A
    uniqueness rule breaks on groups of rows, not on a row: it gets its own aggregate over
    just the key columns (cheaper than a window over every row), joined on batch_id."""
    per_row = {c: r for c, r in counts.items() if r.expectation != _UNIQUE}
    grouped = {c: r for c, r in counts.items() if r.expectation == _UNIQUE}
    columns = ["batch_id", "rows", *map(quote_ident, per_row),
               *(f"coalesce({quote_ident(c)}, 0)::bigint as {quote_ident(c)}" for c in grouped)]
    flags = "".join(f", count(*) filter (where {violation_sql(r)}) as {quote_ident(c)}"
                    for c, r in per_row.items())
    joins = "".join(
        f"""
        left join (
            select batch_id, sum(n) as {quote_ident(c)}
            from (select {_idents(r.columns)}, count(*) as n from {table} where {_PENDING}
                  group by all having count(*) > 1)
            group by batch_id
        ) using (batch_id)"""
        for c, r in grouped.items()
    )
    return f"""
        select {", ".join(columns)}
        from (select batch_id, count(*) as rows{flags}
              from {table} where {_PENDING} group by batch_id){joins}
        order by batch_id
    """


def _idents(names) -> str:
    return ", ".join(quote_ident(n) for n in names)


def _literal(value) -> str:
    if isinstance(value, str):
        return quote_str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise ValueError(f"no SQL literal for {value!r}")


_UNIQUE = "ExpectCompoundColumnsToBeUnique"
# The row-level expectations violation_sql translates, and the arguments it understands.
_ROW_RULE_ARGS = {
    "ExpectColumnValuesToNotBeNull": {"column"},
    "ExpectColumnValuesToBeInSet": {"column", "value_set"},
    "ExpectColumnValuesToBeBetween": {"column", "min_value", "max_value"},
    "ExpectColumnValuesToMatchRegex": {"column", "regex"},
    "ExpectColumnPairValuesAToBeGreaterThanB": {"column_A", "column_B", "or_equal", "ignore_row_if"},
    _UNIQUE: {"column_list"},
}
# The only pair-rule mode SQL's null logic reproduces: a row with a missing side is skipped.
_EITHER_MISSING = "either_value_is_missing"


def violation_sql(rule: suites.Rule) -> str:
    """A SQL condition true for a raw row that breaks a row-level rule, as GX judges rows in
    pandas. GX's column-map expectations skip missing values; so does this SQL, because a
    comparison with null is null and a filter keeps only true. A rule or an argument it cannot
    translate is an error, never a silent pass."""
    kw = rule.kwargs
    unknown = set(kw) - _ROW_RULE_ARGS.get(rule.expectation, set())
    if rule.expectation not in _ROW_RULE_ARGS or unknown:
        raise ValueError(f"gate 1 has no SQL for {rule.expectation} with {sorted(unknown or kw)}")
    col = quote_ident(kw.get("column", ""))
    match rule.expectation:
        case "ExpectColumnValuesToNotBeNull":
            return f"({col} is null)"
        case "ExpectColumnValuesToBeInSet":
            return f"({col} not in ({', '.join(map(_literal, kw['value_set']))}))"
        case "ExpectColumnValuesToBeBetween":
            low, high = kw.get("min_value"), kw.get("max_value")
            bounds = [f"{col} < {_literal(low)}"] if low is not None else []
            bounds += [f"{col} > {_literal(high)}"] if high is not None else []
            return f"({' or '.join(bounds)})"
        case "ExpectColumnValuesToMatchRegex":
            # RE2 and Python agree on the contract's patterns; both search, like GX.
            return f"(not regexp_matches({col}, {_literal(kw['regex'])}))"
        case "ExpectColumnPairValuesAToBeGreaterThanB" if kw.get("ignore_row_if") == _EITHER_MISSING:
            op = ">=" if kw.get("or_equal") else ">"
            return f"(not ({quote_ident(kw['column_A'])} {op} {quote_ident(kw['column_B'])}))"
        case "ExpectCompoundColumnsToBeUnique" if "batch_id" in kw["column_list"]:
            # Every copy of a repeated key is unexpected, as in GX. A window: it serves to
            # find one batch's examples; counts use the grouped form in _counts_sql.
            return f"(count(*) over (partition by {_idents(kw['column_list'])}) > 1)"
    raise ValueError(f"gate 1 has no SQL for {rule}")


def violating_rows(
    con: duckdb.DuckDBPyConnection, event_type: str, batch_id: str, rule: suites.Rule, limit: int = 5
) -> list[dict]:
    """Up to ``limit`` raw records of one batch that break a row-level rule, for the report;
    the records sharing a repeated key come out side by side."""
    unique = rule.expectation == _UNIQUE
    order = [*(c for c in rule.columns if c != "batch_id" and unique), "source_line"]
    df = con.execute(
        f"""
        select * exclude (content_hash, event_key) from {raw_table(event_type)}
        where batch_id = $1 {"qualify" if unique else "and"} {violation_sql(rule)}
        order by {_idents(order)} limit {int(limit)}
        """,
        [batch_id],
    ).df()
    return json.loads(df.to_json(orient="records", date_format="iso"))


def _schema(con: duckdb.DuckDBPyConnection, et: EventType) -> pd.DataFrame:
    """The raw table's columns against the contract's: column, expected and actual type."""
    expected = pd.DataFrame(
        [(et.name, n, _TYPE_NAMES.get(t, t)) for n, t in
         [("batch_id", "VARCHAR"), ("source_line", "BIGINT"), ("event_key", "VARCHAR"),
          *((f.name, f.type) for f in et.fields)]],
        columns=["event_type", "column_name", "expected_type"],
    )
    actual = con.execute(
        "select column_name, data_type as actual_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?",
        [et.name],
    ).df()
    return expected.merge(actual, on="column_name", how="left")


def _newest_events(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The newest event time per event type in the log (rejected batches included: cheap)."""
    parts = " union all ".join(
        f"select {quote_str(et.name)}, max({quote_ident(_event_time(et))}) from {raw_table(et.name)}"
        for et in EVENT_TYPES.values()
    )
    return {k: v for k, v in con.execute(parts).fetchall() if v is not None}


def _batch_summary(con: duckdb.DuckDBPyConnection, et: EventType, newest_overall) -> pd.DataFrame:
    """One row per pending batch of the type: reconciliation, volume, freshness, references."""
    table = raw_table(et.name)
    ts = quote_ident(_event_time(et))
    orphan = "null::double"
    if et.name in suites.REFERENCES:
        column, ref_type, _ = suites.REFERENCES[et.name]
        ref = quote_ident(column)
        orphan = f"""(
            select avg(case when s.{ref} is null then 1.0 else 0.0 end)
            from {table} r
            left join (select distinct {ref} from {raw_table(ref_type)} s
                       where {_accepted_batches("s")}) s on s.{ref} = r.{ref}
            where r.batch_id = b.batch_id)"""
    return con.execute(
        f"""
        with recent as (
            select median(rows_landed) as median_rows
            from (
                select b.rows_landed from meta.batches b
                join ({LATEST_GATE_SQL}) g using (batch_id)
                where b.event_type = {quote_str(et.name)} and g.outcome in ('passed', 'warned')
                order by b.ingested_at desc limit {suites.RECENT_BATCHES}
            )
        ),
        newest as (select max({ts}) as at from {table} where {_accepted_batches(table)})
        select b.batch_id, b.event_type, b.rows_read, b.rows_landed,
               b.rows_quarantined / nullif(b.rows_read, 0) as quarantine_ratio,
               b.rows_landed / nullif(recent.median_rows, 0) as volume_ratio,
               (select count(*) from {table} r where r.batch_id = b.batch_id
                  and r.{ts} > b.ingested_at + interval {suites.FUTURE_SLACK_HOURS} hour) as future_rows,
               date_diff('day', newest.at, $1::timestamptz) as source_lag_days,
               {orphan} as orphan_ratio
        from meta.batches b cross join recent cross join newest
        where b.batch_id in (select batch_id from _gate_batches) and b.event_type = {quote_str(et.name)}
        order by b.batch_id
        """,
        [newest_overall],
    ).df()


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_type = 'BASE TABLE' order by table_name",
            [MARTS_SCHEMA],
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = ? order by ordinal_position",
            [MARTS_SCHEMA, table],
        ).fetchall()
    ]


def gate_2_frames(
    con: duckdb.DuckDBPyConnection, previous_sizes: dict[str, int]
) -> list[Frame]:
    frames = []
    tables = mart_tables(con)
    sizes = []
    for name in tables:
        qualified = f"{MARTS_SCHEMA}.{quote_ident(name)}"
        sizes.append((name, con.execute(f"select count(*) from {qualified}").fetchone()[0]))
        spec = suites.MARTS.get(name)
        if spec is None:
            continue
        # Only the checked columns travel to pandas; a missing one fails the column-set rule.
        present = _columns(con, name)
        wanted = [c for c in spec.columns if c in present]
        df = con.execute(f"select {', '.join(quote_ident(c) for c in wanted)} from {qualified}").df()
        # The column-set rule sees the mart's real columns, not just the fetched ones.
        for c in present:
            if c not in df.columns:
                df[c] = pd.Series(dtype="object")
        frames.append(Frame(f"gate_2.{name}", name, df, suites.mart_rules(name, spec),
                            spec.grain or spec.columns[:1]))
        if name == "mart_lead_to_deal_attribution" and {"credit", "deal_id", "model"} <= set(present):
            credits = con.execute(
                f"""
                select deal_id, model, sum(credit) as credit_sum
                from {qualified} where credit is not null
                group by deal_id, model order by deal_id, model
                """
            ).df()
            frames.append(Frame("gate_2.attribution_credits", name, credits, suites.credit_sum_rules(),
                                ("deal_id", "model")))
    volume = pd.DataFrame(sizes, columns=["mart", "rows"])
    volume["previous_rows"] = volume["mart"].map(previous_sizes)
    volume["size_ratio"] = volume["rows"] / volume["previous_rows"].where(volume["previous_rows"] > 0)
    frames.append(Frame("gate_2.mart_volume", "marts", volume, suites.mart_volume_rules(), ("mart",)))
    return frames
