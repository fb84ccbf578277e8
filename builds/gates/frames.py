"""The dataframes the gates validate, computed in DuckDB.

SQL does what SQL is good at (joins against the whole log, per-batch aggregates, medians of
recent batches); pandas receives about one row per batch being gated or per mart. Row-level
rules become counts (``counts``): per batch (gate 1) or per mart (gate 2), how many rows
break each rule, from the same ``Rule`` objects GX would have run on the rows (gate 1's from
``suites``, gate 2's from the marts' yml, through ``manifest``). Every frame
carries ``batch_id`` (gate 1) or the mart (gate 2) so that GX's unexpected rows name what
failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from builds.dbt_build import MARTS_SCHEMA
from builds.gates import counts as cn
from builds.gates import suites
from builds.gates.manifest import GroupSum, MartRules
from eventlog.batches import LATEST_DECISION_SQL, LATEST_GATE_SQL
from eventlog.contract import EVENT_TYPES, EventType, raw_table
from eventlog.sql import quote_ident, quote_idents, quote_str

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
    counts: cn.Counts | None = None  # a frame of violation counts: what it counts
    parts: tuple[Frame, ...] = ()  # a merged frame of violation counts: the frames it holds


# The merged counts frame's columns: which part and check a row is, and its violations by severity.
MERGED_ID_COLUMNS = ("suite", "key", "check")


def merge_counts(suite: str, target: str, parts: list[Frame]) -> Frame:
    """Frames of violation counts as one long frame, a row per (frame, batch or mart, rule).

    GX's cost is per expectation (about 15 ms each, however few the rows): a wide frame per
    event type or mart needs one per rule (about 200 in all), the long frame two, one per
    severity. Each row carries its count in the column of its rule's severity and 0 in the
    other; every count must be zero, and a failure lists (frame, key, rule), so the verdicts
    are told per batch or mart and rule exactly as the wide frames' were (runner)."""
    columns = [*MERGED_ID_COLUMNS, suites.CRITICAL, suites.WARNING]
    # Built as lists, one DataFrame at the end: a DataFrame per (part, rule) cost ~0.5 ms each.
    merged: dict[str, list] = {c: [] for c in columns}
    for part in parts:
        counts = part.counts
        keys = part.df[counts.key].astype(str).tolist()
        for column, rule in counts.rules.items():
            n = part.df[column].astype("int64").tolist()
            zeros = [0] * len(n)
            critical = rule.severity == suites.CRITICAL
            merged["suite"] += [part.suite] * len(n)
            merged["key"] += keys
            merged["check"] += [column] * len(n)
            merged[suites.CRITICAL] += n if critical else zeros
            merged[suites.WARNING] += zeros if critical else n
    df = pd.DataFrame(merged, columns=columns)
    checks = [suites.violation_count_rule(s, s) for s in (suites.CRITICAL, suites.WARNING)]
    return Frame(suite, target, df, checks, MERGED_ID_COLUMNS, parts=tuple(parts))


def _event_time(et: EventType) -> str | None:
    return et.time_field


def ungated_batches(
    con: duckdb.DuckDBPyConnection, log_position: int | None = None
) -> dict[str, list[str]]:
    """Batches gate 1 has not passed yet, by event type, up to a log position (the build's:
    a batch committed later waits for the next build); rejected batches are not checked."""
    rows = con.execute(
        f"""
        select b.event_type, b.batch_id
        from meta.batches b
        left join ({LATEST_GATE_SQL}) g using (batch_id)
        left join ({LATEST_DECISION_SQL}) d using (batch_id)
        where coalesce(g.outcome, 'pending') not in ('passed', 'warned')
          and coalesce(d.action, '') <> 'reject'
          and ($1::bigint is null or b.log_position <= $1::bigint)
        order by b.event_type, b.log_position
        """,
        [log_position],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for et, batch_id in rows:
        out.setdefault(et, []).append(batch_id)
    return out


def _accepted_batches(alias: str) -> str:
    """A predicate: the row's batch is not rejected (references resolve against these only)."""
    return f"""{alias}.batch_id not in (
        select batch_id from ({LATEST_DECISION_SQL}) where action = 'reject')"""


def gate_1_frames(con: duckdb.DuckDBPyConnection, pending: dict[str, list[str]]) -> list[Frame]:
    """For the pending batches: one schema frame, one summary frame (a row per batch) and the
    row-rule violation counts of every event type (a row per batch and rule). Few
    expectations on purpose: GX's cost is per expectation."""
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
        *([merge_counts("gate_1.rows", "raw", frames)] if frames else []),
    ]


def _violation_counts(con: duckdb.DuckDBPyConnection, et: EventType) -> Frame:
    """One row per pending batch of the type: its row count and, per row-level rule, how many
    of its rows break it. An example row shows the raw record (not its bookkeeping hashes)."""
    shown = ("batch_id", "source_line", "ingested_at", *et.names, "extra")
    counts = cn.counts_for(suites.event_rows_rules(et), raw_table(et.name), shown, ("source_line",),
                           per_batch=True)
    return _count_frame(con, f"gate_1.{et.name}.rows", et.name, counts)


def _count_frame(con: duckdb.DuckDBPyConnection, suite: str, target: str, counts: cn.Counts) -> Frame:
    """The counts as a frame. It has no rules of its own: GX checks it as a part of the merged
    frame (merge_counts), where every count must be zero at its rule's severity."""
    df = con.execute(cn.counts_sql(counts, target)).df()
    return Frame(suite, target, df, [], (counts.key,), counts)


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
        if _event_time(et)
    )
    return {k: v for k, v in con.execute(parts).fetchall() if v is not None}


def _batch_summary(con: duckdb.DuckDBPyConnection, et: EventType, newest_overall) -> pd.DataFrame:
    """One row per pending batch of the type: reconciliation, volume, freshness, references."""
    table = raw_table(et.name)
    # A type without an event time (program goals) is neither stale nor early: null passes.
    ts = quote_ident(_event_time(et)) if _event_time(et) else "null::timestamptz"
    row_ts = f"r.{ts}" if _event_time(et) else ts
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
                  and {row_ts} > b.ingested_at + interval {suites.FUTURE_SLACK_HOURS} hour) as future_rows,
               -- the ledger reconciles: every row read is landed, a duplicate, quarantined or
               -- erased, and the log holds exactly the rows the ledger says landed
               abs(b.rows_read - b.rows_landed - b.rows_duplicate - b.rows_quarantined
                   - coalesce(b.rows_erased, 0))
               + abs(b.rows_landed - (select count(*) from {table} r where r.batch_id = b.batch_id))
                 as unreconciled_rows,
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


def _column_types(
    con: duckdb.DuckDBPyConnection, table: str | None = None, schema: str = MARTS_SCHEMA
) -> dict:
    """A table's column → type, in order; without ``table``, every table's of the schema
    (default: the marts) (table → that)."""
    out: dict[str, dict[str, str]] = {}
    for name, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = $1 and ($2::varchar is null or table_name = $2) "
        "order by table_name, ordinal_position",
        [schema, table],
    ).fetchall():
        out.setdefault(name, {})[column] = data_type
    return out.get(table, {}) if table is not None else out


def gate_2_frames(
    con: duckdb.DuckDBPyConnection,
    previous_sizes: dict[str, int],
    marts: dict[str, MartRules],
    rebuilt: set[str] | None = None,
    checked_through: int | None = None,
) -> list[Frame]:
    """For every mart table the build made (``rebuilt``; None: all of them): its columns, its
    row rules as counts and its group sums, as its yml declares them (``marts``, from dbt's
    manifest); and one volume frame, a row per mart, every mart. A mart the build left as it
    was is the table the last successful build checked and published. The staging and
    intermediate models in ``marts`` (their rules) are checked the same way when the build made
    them, their data tests folded in here (manifest.FOLDED); they have no size check.

    ``checked_through``: the log position up to which an incremental model's rows were written
    and checked by earlier builds (the last successful build's, when this build ran a
    selection); its row rules then count only the rows written past it, and its uniqueness
    rules only the keys those rows hold (docs/design.md, "Gate 2 and publish on what changed")."""
    frames, counted, sizes = [], [], []
    every_type = _column_types(con)
    for name in mart_tables(con):
        qualified = f"{MARTS_SCHEMA}.{quote_ident(name)}"
        sizes.append((name, con.execute(f"select count(*) from {qualified}").fetchone()[0]))
        rules = marts.get(name)
        if rules is None or (rebuilt is not None and name not in rebuilt):
            continue
        types = every_type.get(name, {})
        columns, count_frame = _mart_frames(con, name, rules, types, _written_after(rules, types, rebuilt,
                                                                                  checked_through))
        frames += [columns] if columns else []
        counted.append(count_frame)
        frames += [_group_sum_frame(con, name, s) for s in rules.group_sums
                   if {s.column, *s.group_by} <= types.keys()]
    for schema in sorted({r.schema for r in marts.values()} - {MARTS_SCHEMA}):
        every_type = _column_types(con, schema=schema)
        for name, rules in marts.items():
            made = name in every_type and (rebuilt is None or name in rebuilt)
            if rules.schema != schema or not made:
                continue
            types = every_type[name]
            columns, count_frame = _mart_frames(con, name, rules, types, _written_after(rules, types, rebuilt,
                                                                                      checked_through))
            frames += [columns] if columns else []
            counted.append(count_frame)
    volume = pd.DataFrame(sizes, columns=["mart", "rows"])
    volume["previous_rows"] = volume["mart"].map(previous_sizes)
    volume["size_ratio"] = volume["rows"] / volume["previous_rows"].where(volume["previous_rows"] > 0)
    frames.append(Frame("gate_2.mart_volume", "marts", volume, suites.mart_volume_rules(), ("mart",)))
    return [*frames, *([merge_counts("gate_2.rows", "marts", counted)] if counted else [])]


def _written_after(
    rules: MartRules, types: dict[str, str], rebuilt: set[str] | None, checked_through: int | None
) -> tuple[str, int] | None:
    """(watermark column, position) when only the rows an incremental model wrote in this
    (selected) build are to be checked; None: every row."""
    if rebuilt is None or checked_through is None or rules.watermark not in types:
        return None
    return rules.watermark, checked_through


def _mart_frames(
    con: duckdb.DuckDBPyConnection, name: str, rules: MartRules, types: dict[str, str] | None = None,
    written_after: tuple[str, int] | None = None,
) -> tuple[Frame | None, Frame]:
    """The mart's columns against its contract (its header only: GX's column-set rule needs no
    rows; none without a contract) and its row rules as counts, one row for the whole mart. A
    rule on a missing column is not counted: the column-set rule fails for it, critically. A
    model without a contract must have the columns its rules name."""
    qualified = f"{quote_ident(rules.schema)}.{quote_ident(name)}"
    types = types if types is not None else _column_types(con, name, rules.schema)
    ids = tuple(c for c in rules.key if c in types)
    known = (*rules.columns, *types)
    row_rules = [r for r in rules.rows if set(r.columns or cn.expression_columns(r, known)) <= types.keys()]
    floats = frozenset(c for c, t in types.items() if t in cn.FLOAT_TYPES)
    counts = cn.counts_for(row_rules, qualified, ids, ids, per_batch=False, floats=floats,
                           written_after=written_after)
    columns = None
    if rules.required_columns:
        # The header only, from the catalog (a column of a type pandas lacks, e.g. UHUGEINT, is fine).
        header = pd.DataFrame(columns=list(types))
        columns = Frame(f"gate_2.{name}.columns", name, header,
                        [suites.mart_columns_rule(rules.required_columns)], ids)
    return columns, _count_frame(con, f"gate_2.{name}", name, counts)


def _group_sum_frame(con: duckdb.DuckDBPyConnection, name: str, group_sum: GroupSum) -> Frame:
    """One row per group of the mart with its sum (nulls left out, an all-null group's sum null)."""
    by = quote_idents(group_sum.group_by)
    df = con.execute(
        f"""
        select {by}, sum({quote_ident(group_sum.column)})::double as {quote_ident(group_sum.sum_column)}
        from {MARTS_SCHEMA}.{quote_ident(name)} group by {by} order by {by}
        """
    ).df()
    suite = f"gate_2.{name}.{group_sum.sum_column}_by_{'_'.join(group_sum.group_by)}"
    return Frame(suite, name, df, [group_sum.rule], group_sum.group_by)
