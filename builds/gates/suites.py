"""The quality gates' expectation suites, kept as code.

Each suite is built for one *frame*: a small pandas dataframe that gate code fills from DuckDB
(see ``frames``). Row-level rules are counted in SQL, per batch (gate 1) or per mart (gate 2),
as the rows that break each rule; GX then expects every count to be zero. Rules about a whole batch
(referential integrity, volume, freshness) run on a one-row-per-batch summary that SQL
computes. Either way pandas never holds millions of rows and the verdict is a real GX
expectation evaluated by GX.

Severity: ``critical`` stops the build before publish; ``warning`` is recorded and shown but
lets the build go on. Tolerances are named constants so a reviewer can argue with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventlog.contract import BIGINT, EVENT_TYPES, MONEY, EventType

CRITICAL, WARNING = "critical", "warning"

# Referential integrity, as the share of a batch's rows whose reference is unknown.
# Metrics and engagements describe shares of our own accounts: every one should be known.
METRICS_ORPHAN_TOLERANCE = 0.01
# Clicks may carry tokens we never issued (typed URLs, scrapers, links from old campaigns):
# a few are normal, many mean the advocacy export is missing or the token format changed.
CLICK_ORPHAN_TOLERANCE = 0.05
# A batch whose row count is outside [median ÷ 10, median × 10] of the recent batches of its
# event type is suspicious (a truncated export, a duplicated one) but not proven wrong.
VOLUME_RATIO_RANGE = (0.1, 10.0)
RECENT_BATCHES = 10
# Events stamped more than a day after their batch landed come from a broken clock.
FUTURE_SLACK_HOURS = 24
# Freshness: a source whose newest event is this far behind the newest event of any source
# has stopped delivering (an expired API token, a silently failing export).
STALE_AFTER_DAYS = 45
# More than half of a file quarantined means the file, not a few records, is broken.
QUARANTINE_RATIO_MAX = 0.5

# Counts and amounts that can never be negative.
NON_NEGATIVE_TYPES = (BIGINT, MONEY)

# Which raw references each event type must resolve, checked per batch (column, frame column).
REFERENCES = {
    "share_metrics": ("share_id", "share", METRICS_ORPHAN_TOLERANCE),
    "engagement": ("share_id", "share", METRICS_ORPHAN_TOLERANCE),
    "click": ("tracking_token", "share", CLICK_ORPHAN_TOLERANCE),
}


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite: the GX class name, its arguments and its severity."""

    expectation: str
    kwargs: dict
    severity: str = CRITICAL

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads, in its own order."""
        kw = self.kwargs
        return tuple(kw["column_list"]) if "column_list" in kw else tuple(
            kw[k] for k in ("column", "column_A", "column_B") if k in kw)

    @property
    def label(self) -> str:
        """What a report names the rule by: its columns, else its description (an expression)."""
        return ",".join(self.columns) or self.kwargs.get("description", "")

    @property
    def type(self) -> str:
        """GX's snake-case name of the expectation (what GX reports), without importing GX."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()

    def build(self):
        import great_expectations.expectations as gxe

        return getattr(gxe, self.expectation)(**self.kwargs, severity=self.severity)


def _rule(expectation: str, severity: str = CRITICAL, **kwargs) -> Rule:
    return Rule(expectation, kwargs, severity)


# --- gate 1: landed batches -------------------------------------------------------------------


def event_rows_rules(et: EventType) -> list[Rule]:
    """Row-level rules for the records of one event type's ungated batches. Gate 1 counts each
    rule's failing rows per batch in SQL (``counts.violation_sql``); the raw tables' columns
    are the schema frame's business."""
    rules = [
        _rule("ExpectColumnValuesToNotBeNull", column="event_key"),
        # Exact duplicates are dropped at landing, so one key twice in a file is two
        # conflicting versions of one event: which one is true is not ours to guess.
        _rule("ExpectCompoundColumnsToBeUnique", column_list=["batch_id", "event_key"]),
    ]
    for f in et.fields:
        if f.required:
            rules.append(_rule("ExpectColumnValuesToNotBeNull", column=f.name))
        if f.allowed:
            rules.append(_rule("ExpectColumnValuesToBeInSet", column=f.name, value_set=list(f.allowed)))
        if f.minimum is not None or f.maximum is not None:
            bounds = {k: v for k, v in (("min_value", f.minimum), ("max_value", f.maximum)) if v is not None}
            rules.append(_rule("ExpectColumnValuesToBeBetween", column=f.name, **bounds))
        elif f.type in NON_NEGATIVE_TYPES:
            rules.append(_rule("ExpectColumnValuesToBeBetween", column=f.name, min_value=0))
        if f.upper:
            rules.append(_rule("ExpectColumnValuesToMatchRegex", WARNING, column=f.name, regex=r"^[A-Z]{3}$"))
    if et.name == "share_metrics":
        rules.append(
            _rule("ExpectColumnPairValuesAToBeGreaterThanB", WARNING, column_A="impressions",
                  column_B="unique_impressions", or_equal=True, ignore_row_if="either_value_is_missing")
        )
    return rules


def violation_count_rule(column: str, severity: str) -> Rule:
    """On counts of rows that break row-level rules (of one severity): none may."""
    return _rule("ExpectColumnValuesToBeBetween", severity, column=column, min_value=0, max_value=0)


def schema_rules() -> list[Rule]:
    """The raw tables' columns against the contract (event_type, column, actual, expected type)."""
    return [
        _rule("ExpectColumnValuesToNotBeNull", column="actual_type"),
        _rule("ExpectColumnPairValuesToBeEqual", column_A="actual_type", column_B="expected_type"),
    ]


def batch_summary_rules() -> list[Rule]:
    """Rules on one row per batch: reconciliation, references, volume, freshness."""
    rules = [
        _rule("ExpectColumnValuesToBeBetween", column="quarantine_ratio", max_value=QUARANTINE_RATIO_MAX),
        _rule("ExpectColumnValuesToBeBetween", column="future_rows", max_value=0),
        _rule("ExpectColumnValuesToBeBetween", column="unreconciled_rows", max_value=0),
        _rule("ExpectColumnValuesToBeBetween", WARNING, column="volume_ratio",
              min_value=VOLUME_RATIO_RANGE[0], max_value=VOLUME_RATIO_RANGE[1]),
        _rule("ExpectColumnValuesToBeBetween", WARNING, column="source_lag_days", max_value=STALE_AFTER_DAYS),
    ]
    for event_type, (_, _, tolerance) in REFERENCES.items():
        rules.append(
            _rule("ExpectColumnValuesToBeBetween", column="orphan_ratio", max_value=tolerance,
                  row_condition=f'event_type=="{event_type}"', condition_parser="pandas")
        )
    return rules


# --- gate 2: the marts ------------------------------------------------------------------------
# Each mart's rules are its yml's (contract and data tests), read from dbt's manifest by
# ``builds.gates.manifest``; here only the GX form of what that module maps, and what dbt
# cannot check: the marts' size against the last publish.

# A mart that shrinks to less than half its last published size has probably lost an input.
MART_SHRINK_RATIO = 0.5
# A dbt expression_is_true test as GX states it: the rows its query returns are unexpected.
UNEXPECTED_ROWS_QUERY = "select * from {{batch}} where not ({expression})"


def mart_columns_rule(columns: tuple[str, ...]) -> Rule:
    """The mart has (at least) its contract's columns."""
    return _rule("ExpectTableColumnsToMatchSet", column_set=list(columns), exact_match=False)


def expression_rule(expression: str, severity: str = CRITICAL) -> Rule:
    """Every row satisfies a SQL expression (dbt's expression_is_true): the rows where it is
    false are unexpected, a null verdict passes. Counted in SQL (``counts``); GX's own
    UnexpectedRowsExpectation needs a SQL data source, which GX 1.24 cannot use on DuckDB."""
    return _rule("UnexpectedRowsExpectation", severity, description=expression,
                 unexpected_rows_query=UNEXPECTED_ROWS_QUERY.format(expression=expression))


def expression_of(rule: Rule) -> str:
    """The SQL expression of an expression_rule (checked: its query says the same)."""
    expression = rule.kwargs.get("description", "")
    if rule.kwargs.get("unexpected_rows_query") != UNEXPECTED_ROWS_QUERY.format(expression=expression):
        raise ValueError(f"{rule} is not an expression rule")
    return expression


def group_sum_rule(column: str, value: float, tolerance: float, severity: str = CRITICAL) -> Rule:
    """On one row per group: the group's sum (``column``) equals value, within tolerance."""
    return _rule("ExpectColumnValuesToBeBetween", severity, column=column,
                 min_value=value - tolerance, max_value=value + tolerance)


def mart_volume_rules() -> list[Rule]:
    """On one row per mart: its size against the last published build."""
    return [_rule("ExpectColumnValuesToBeBetween", WARNING, column="size_ratio", min_value=MART_SHRINK_RATIO)]


def event_types() -> list[EventType]:
    return list(EVENT_TYPES.values())
