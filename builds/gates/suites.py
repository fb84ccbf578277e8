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
        if f.type in NON_NEGATIVE_TYPES:
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


@dataclass(frozen=True)
class MartSpec:
    """What gate 2 knows about a published mart: its public columns and grain (docs/design.md)."""

    columns: tuple[str, ...]
    grain: tuple[str, ...]
    non_negative: tuple[str, ...] = ()
    unit_interval: tuple[str, ...] = ()  # ratios that must lie in [0, 1]
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    warnings: tuple[Rule, ...] = ()


ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay", "markov")

MARTS: dict[str, MartSpec] = {
    "mart_reach_vs_network": MartSpec(
        ("share_id", "author_type", "author_id", "posted_at", "members_reached", "reach_basis",
         "network_size", "reach_ratio"),
        grain=("share_id",),
        non_negative=("members_reached", "network_size", "reach_ratio"),
        allowed=(("author_type", ("employee", "page")),),
    ),
    "mart_engagement_rate": MartSpec(
        ("share_id", "impressions", "clicks", "reactions", "comments", "reshares", "engagement_rate", "ctr"),
        grain=("share_id",),
        non_negative=("impressions", "clicks", "reactions", "comments", "reshares", "engagement_rate", "ctr"),
        # More clicks than impressions happens (clicks from reshares): odd, not wrong.
        warnings=(_rule("ExpectColumnValuesToBeBetween", WARNING, column="ctr", min_value=0, max_value=1),),
    ),
    "mart_engagement_bubble": MartSpec(
        ("share_id", "engagements_known_actor", "colleague_engagements", "colleague_engagement_share"),
        grain=("share_id",),
        non_negative=("engagements_known_actor", "colleague_engagements"),
        unit_interval=("colleague_engagement_share",),
    ),
    "mart_bubble_overlap": MartSpec(
        ("content_id", "sharers", "audience_sum", "audience_union", "overlap_ratio"),
        grain=("content_id",),
        non_negative=("sharers", "audience_sum", "audience_union"),
        unit_interval=("overlap_ratio",),
    ),
    "mart_audience_pairs": MartSpec(
        ("employee_a", "employee_b", "shared_contents", "jaccard"),
        grain=("employee_a", "employee_b"),
        non_negative=("shared_contents",),
        unit_interval=("jaccard",),
    ),
    "mart_lead_to_deal_attribution": MartSpec(
        ("deal_id", "model", "touch_number", "click_id", "share_id", "author_id", "touch_at", "credit",
         "attributed_amount", "currency", "deal_status"),
        grain=("deal_id", "model", "touch_number"),
        unit_interval=("credit",),
        allowed=(("model", ATTRIBUTION_MODELS), ("deal_status", ("won", "open", "lost"))),
    ),
    "fct_deal_journey": MartSpec(
        ("deal_id", "step_at", "step_type", "share_id", "employee_id", "visitor_id", "detail"),
        grain=(),
    ),
}

# Credits of one deal under one model sum to 1, up to floating-point noise.
CREDIT_SUM_TOLERANCE = 1e-6
# A mart that shrinks to less than half its last published size has probably lost an input.
MART_SHRINK_RATIO = 0.5


def mart_columns_rule(spec: MartSpec) -> Rule:
    return _rule("ExpectTableColumnsToMatchSet", column_set=list(spec.columns), exact_match=False)


def mart_row_rules(spec: MartSpec) -> list[Rule]:
    """Row-level rules on a mart; gate 2 counts each rule's failing rows in SQL, as gate 1 does."""
    rules = []
    if len(spec.grain) == 1:
        rules += [
            _rule("ExpectColumnValuesToNotBeNull", column=spec.grain[0]),
            _rule("ExpectColumnValuesToBeUnique", column=spec.grain[0]),
        ]
    elif spec.grain:
        rules += [_rule("ExpectColumnValuesToNotBeNull", column=c) for c in spec.grain]
        rules.append(_rule("ExpectCompoundColumnsToBeUnique", column_list=list(spec.grain)))
    else:
        rules.append(_rule("ExpectColumnValuesToNotBeNull", column=spec.columns[0]))
    rules += [_rule("ExpectColumnValuesToBeBetween", column=c, min_value=0) for c in spec.non_negative]
    rules += [
        _rule("ExpectColumnValuesToBeBetween", column=c, min_value=0, max_value=1) for c in spec.unit_interval
    ]
    rules += [_rule("ExpectColumnValuesToBeInSet", column=c, value_set=list(v)) for c, v in spec.allowed]
    return rules + list(spec.warnings)


def credit_sum_rules() -> list[Rule]:
    """On one row per (deal, model) with touches: the credits' sum."""
    return [
        _rule("ExpectColumnValuesToBeBetween", column="credit_sum",
              min_value=1 - CREDIT_SUM_TOLERANCE, max_value=1 + CREDIT_SUM_TOLERANCE),
    ]


def mart_volume_rules() -> list[Rule]:
    """On one row per mart: its size against the last published build."""
    return [_rule("ExpectColumnValuesToBeBetween", WARNING, column="size_ratio", min_value=MART_SHRINK_RATIO)]


def event_types() -> list[EventType]:
    return list(EVENT_TYPES.values())
