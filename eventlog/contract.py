"""The landing contract: one definition of every event type, used by landing, the
generator, the dbt sources and the quality gates alike (docs/design.md, "Event types").

Each event type lands into its own append-only table ``raw.<event_type>`` whose columns are
the bookkeeping columns below, then every field of the contract in declaration order, typed,
then ``extra`` (unknown fields, as JSON). Fields marked ``pii`` hold pseudonyms, never
clear text.
"""

from __future__ import annotations

from dataclasses import dataclass

# DuckDB column types used by the contract. Money is DECIMAL so that sums are exact.
VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
MONEY = "DECIMAL(18,2)"
# Exchange rates: eight decimals, as FX feeds quote them, exact like money.
RATE = "DECIMAL(18,8)"
TIMESTAMP = "TIMESTAMPTZ"
# ISO 4217 minor units (decimals) of the currencies whose count is not 2; any other currency,
# or none, allows 2 (MONEY's scale: an amount is never stored with more decimals than that).
CURRENCY_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "UGX": 0, "PYG": 0}
DEFAULT_MINOR_UNITS = 2
# How DuckDB names the non-text types above when it describes a relation.
DESCRIBED_TYPES = {
    BIGINT: "BIGINT",
    DOUBLE: "DOUBLE",
    MONEY: "DECIMAL(18,2)",
    RATE: "DECIMAL(18,8)",
    TIMESTAMP: "TIMESTAMP WITH TIME ZONE",
}
NUMERIC_TYPES = (BIGINT, DOUBLE, MONEY, RATE)


@dataclass(frozen=True)
class Field:
    name: str
    type: str = VARCHAR
    required: bool = False
    pii: bool = False
    email: bool = False  # normalized (trimmed, lower-cased) before it is pseudonymized
    allowed: tuple[str, ...] = ()  # enumeration; empty means any value
    upper: bool = False  # normalized to upper case (currency codes)
    # MONEY: the field of the same record naming its currency, whose ISO 4217 minor units
    # bound the decimals an amount may have (more is quarantined, never rounded).
    currency: str = ""
    iso_currency: bool = False  # an ISO 4217 code in circulation (CURRENCIES), else quarantined
    positive: bool = False  # a number that must be > 0 (rates), else quarantined
    non_negative: bool = False  # a number that must be >= 0 (costs), else quarantined
    # Inclusive bounds of a number (BIGINT, DOUBLE): outside them a record is quarantined
    # ('out_of_range'), e.g. an SSI pillar above 25.
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class RecordRule:
    """A rule across fields of one record, checked at landing: ``condition`` is SQL over the
    record's parsed fields, written ``{field}``, true for a bad record (quarantined with
    ``reason`` and ``detail``, SQL text over the same fields)."""

    condition: str
    reason: str
    detail: str


@dataclass(frozen=True)
class EventType:
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # identifies one event; two rows with one key and one content are duplicates
    description: str = ""
    rules: tuple[RecordRule, ...] = ()
    # When an event happened, for gate 1's freshness and future-event checks: "" means the
    # first timestamp field; None, none (a goal's period may well lie in the future).
    event_time: str | None = ""

    @property
    def required(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def time_field(self) -> str | None:
        if self.event_time == "":
            return next(f.name for f in self.fields if f.type == TIMESTAMP)
        return self.event_time

    def get(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def fields_of_own_type(self, column_types: dict[str, str]) -> frozenset[str]:
        """The fields whose column already has the field's (non-text) contract type, given
        DuckDB's described type per field name: those skip the text round trip at landing."""
        return frozenset(
            f.name for f in self.fields if column_types.get(f.name, "") == DESCRIBED_TYPES.get(f.type)
        )


def _req(name: str, type_: str = VARCHAR, **kw) -> Field:
    return Field(name, type_, required=True, **kw)


def _currency(name: str) -> Field:
    return _req(name, upper=True, iso_currency=True)


# ISO 4217 codes of the currencies in circulation (2025): a rate or cost in any other code is
# quarantined (invalid_currency) rather than left to find no rate downstream.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)


NETWORKS = ("linkedin", "twitter", "facebook", "xing", "instagram", "other")
ENGAGEMENT_TYPES = ("reaction", "comment", "reshare")
MEDIA_METRICS = ("cpm", "cpc", "engagement")
COST_CATEGORIES = ("licence", "people", "incentives", "content", "agency", "events", "other")
BOOLEANS = ("true", "false")  # yes/no fields land as text, lower-cased; staging casts them
# What a program goal can measure (mart_goal_progress computes each one; docs/design.md,
# "Program goals"): share-based metrics can be scoped to a department or a network.
GOAL_METRICS = (
    "employee_shares",
    "active_sharers",
    "members_reached",
    "impressions",
    "interactions",
    "engagement_rate",
    "social_sourced_site_visits",
    "page_followers",
    "leads",
    "pipeline",
)
# Goals measured on the company as a whole: a department or network scope means nothing.
UNSCOPED_GOAL_METRICS = ("page_followers", "leads", "pipeline")
DEAL_EVENTS = (
    "created",
    "stage_changed",
    "amount_changed",
    "contact_added",
    "closed_won",
    "closed_lost",
)

EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType(
            "employee",
            (
                _req("employee_id"),
                _req("observed_at", TIMESTAMP),
                _req("network", allowed=NETWORKS),
                # Optional since an HR roster knows who works here but not their network:
                # a snapshot without it says nothing about the network's size.
                Field("network_size", BIGINT),
                # 'reconstructed': a lower bound worked out from a later export (the connections
                # made by then that are still there), used only where no counted size is known.
                Field("network_size_basis", allowed=("counted", "reconstructed")),
                Field("member_id", pii=True),
                Field("department"),
                Field("title"),
                Field("email", pii=True, email=True),
                Field("hired_at", TIMESTAMP),
                Field("left_at", TIMESTAMP),
                # Whether the employee agreed to be suggested as a sharer (the share planner):
                # empty means never asked, which the planner treats as no.
                Field("advocate_opt_in", allowed=("true", "false")),
            ),
            key=("employee_id", "network", "observed_at"),
            description="Roster and network-size snapshot of one employee on one network.",
        ),
        EventType(
            "content",
            (
                _req("content_id"),
                _req("url"),
                _req("published_at", TIMESTAMP),
                Field("title"),
                Field("topic"),
                Field("campaign"),
            ),
            key=("content_id",),
            description="A piece of company content that employees and the page can share.",
        ),
        EventType(
            "share",
            (
                _req("share_id"),
                _req("author_type", allowed=("employee", "page")),
                _req("author_id"),
                _req("network", allowed=NETWORKS),
                _req("posted_at", TIMESTAMP),
                _req("tracking_token"),
                Field("content_id"),
            ),
            key=("share_id",),
            description="A post by an employee or the company page, with its tracking token.",
        ),
        EventType(
            "share_metrics",
            (
                _req("share_id"),
                _req("observed_at", TIMESTAMP),
                _req("impressions", BIGINT),
                _req("reactions", BIGINT),
                _req("comments", BIGINT),
                _req("reshares", BIGINT),
                # Optional since a member's own post analytics count no link clicks: the
                # tracked clicks on the share's token stand in for them downstream.
                Field("clicks", BIGINT),
                Field("unique_impressions", BIGINT),
                Field("saves", BIGINT),
                Field("sends", BIGINT),
                # What an advocacy platform calls reach (the sharer's network size): kept,
                # labelled potential, never taken for members reached.
                Field("potential_reach", BIGINT),
            ),
            key=("share_id", "observed_at"),
            description="Cumulative metrics snapshot of one share.",
        ),
        EventType(
            "engagement",
            (
                _req("engagement_id"),
                _req("share_id"),
                _req("actor_id", pii=True),
                _req("engagement_type", allowed=ENGAGEMENT_TYPES),
                _req("occurred_at", TIMESTAMP),
            ),
            key=("engagement_id",),
            description="One reaction, comment or reshare by a member on a share.",
        ),
        EventType(
            "audience",
            (
                _req("employee_id"),
                _req("member_id", pii=True),
                _req("observed_at", TIMESTAMP),
            ),
            key=("employee_id", "member_id", "observed_at"),
            description="A member of an employee's network, as observed at a moment.",
        ),
        EventType(
            "page_followers",
            (
                _req("page_id"),
                _req("observed_at", TIMESTAMP),
                _req("followers", BIGINT),
            ),
            key=("page_id", "observed_at"),
            description="Follower count snapshot of a company page.",
        ),
        EventType(
            "click",
            (
                _req("click_id"),
                _req("tracking_token"),
                _req("visitor_id"),
                _req("occurred_at", TIMESTAMP),
                Field("user_agent"),
                Field("landing_url"),
                Field("utm_source"),
                Field("utm_medium"),
                Field("utm_campaign"),
                Field("utm_content"),
            ),
            key=("click_id",),
            description="A click on a tracked link; bots are flagged downstream, never deleted.",
        ),
        EventType(
            "form_fill",
            (
                _req("submission_id"),
                _req("visitor_id"),
                _req("email", pii=True, email=True),
                _req("form_id"),
                _req("occurred_at", TIMESTAMP),
            ),
            key=("submission_id",),
            description="A form submission (a lead) by a visitor.",
        ),
        EventType(
            "deal",
            (
                _req("deal_event_id"),
                _req("deal_id"),
                _req("event", allowed=DEAL_EVENTS),
                _req("occurred_at", TIMESTAMP),
                Field("amount", MONEY, currency="currency"),
                Field("currency", upper=True),
                Field("stage"),
                Field("contact_email", pii=True, email=True),
            ),
            key=("deal_event_id",),
            description="One event in a CRM deal's life; deal state is folded from these.",
        ),
        EventType(
            "fx_rate",
            (
                _currency("from_currency"),
                _currency("to_currency"),
                _req("rate", RATE, positive=True),
                _req("observed_at", TIMESTAMP),
            ),
            key=("from_currency", "to_currency", "observed_at"),
            description="An exchange rate: 1 unit of from_currency = rate units of to_currency.",
        ),
        EventType(
            "media_rate",
            (
                _req("network", allowed=NETWORKS),
                _req("metric", allowed=MEDIA_METRICS),
                _req("amount", MONEY, positive=True, currency="currency"),
                _currency("currency"),
                _req("observed_at", TIMESTAMP),
            ),
            key=("network", "metric", "observed_at"),
            description="What paid media costs on a network: per 1,000 impressions, click or engagement.",
        ),
        EventType(
            "program_cost",
            (
                _req("cost_id"),
                _req("period_start", TIMESTAMP),
                _req("period_end", TIMESTAMP),
                _req("amount", MONEY, non_negative=True, currency="currency"),
                _currency("currency"),
                _req("category", allowed=COST_CATEGORIES),
            ),
            key=("cost_id",),
            description="A cost of the program over a period, spread evenly over its days.",
            rules=(
                RecordRule(
                    "{period_end} < {period_start}",
                    "out_of_range",
                    "'period_end before period_start'",
                ),
            ),
        ),
        EventType(
            "profile_snapshot",
            (
                _req("employee_id"),
                _req("observed_at", TIMESTAMP),
                # LinkedIn's Social Selling Index: 0-100, the sum of four pillars of 0-25 each.
                Field("ssi_score", DOUBLE, minimum=0, maximum=100),
                Field("ssi_professional_brand", DOUBLE, minimum=0, maximum=25),
                Field("ssi_find_people", DOUBLE, minimum=0, maximum=25),
                Field("ssi_engage_insights", DOUBLE, minimum=0, maximum=25),
                Field("ssi_build_relationships", DOUBLE, minimum=0, maximum=25),
                Field("has_photo", allowed=BOOLEANS),
                Field("has_headline", allowed=BOOLEANS),
                Field("has_about", allowed=BOOLEANS),
                Field("experience_count", BIGINT, minimum=0),
                Field("skills_count", BIGINT, minimum=0),
                Field("recommendations_count", BIGINT, minimum=0),
            ),
            key=("employee_id", "observed_at"),
            description="An employee's LinkedIn profile and Social Selling Index as observed at a moment.",
        ),
        EventType(
            "company_presence",
            (
                _req("company"),
                _req("observed_at", TIMESTAMP),
                _req("followers", BIGINT, minimum=0),
                _req("employees_on_linkedin", BIGINT, minimum=0),
                _req("posts_30d", BIGINT, minimum=0),
                _req("engagements_30d", BIGINT, minimum=0),
                Field("keyword"),
                Field("keyword_posts_30d", BIGINT, minimum=0),
                # The audit says which row is the company itself: the share of voice is its
                # share of all companies audited (a company is own when its latest row says so).
                Field("is_own_company", allowed=BOOLEANS),
                # Headcount as the audit found it (LinkedIn's company size): the denominator of
                # the employees-on-platform ratio; the own company falls back to its roster.
                Field("employees", BIGINT, minimum=0),
            ),
            key=("company", "observed_at"),
            description="An audit of one company's presence on LinkedIn (own company or a competitor).",
        ),
        EventType(
            "program_goal",
            (
                _req("goal_id"),
                _req("metric", allowed=GOAL_METRICS),
                _req("period_start", TIMESTAMP),
                _req("period_end", TIMESTAMP),
                _req("target", DOUBLE, minimum=0),
                Field("department"),
                Field("network", allowed=NETWORKS),
                # Money goals (pipeline) count deals in this currency only: amounts in different
                # currencies are never added up.
                Field("currency", upper=True, iso_currency=True),
                Field("title"),
            ),
            key=("goal_id",),
            event_time=None,
            description="A target the program set itself for one metric over a period; a later "
            "version of a goal_id replaces it.",
            rules=(
                RecordRule(
                    "{period_end} <= {period_start}", "invalid_period", "'period_end not after period_start'"
                ),
                RecordRule(
                    "{metric} = 'pipeline' and {currency} is null",
                    "missing_field",
                    "'currency: a pipeline goal needs one'",
                ),
                RecordRule(
                    "{metric} in ("
                    + ", ".join(f"'{m}'" for m in UNSCOPED_GOAL_METRICS)
                    + ") and ({department} is not null or {network} is not null)",
                    "invalid_goal_scope",
                    "'a company-wide metric scoped to a department or network'",
                ),
            ),
        ),
    )
}

# Bookkeeping columns every raw table starts with.
BOOKKEEPING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("batch_id", VARCHAR),  # the landed file (meta.batches)
    ("source_line", BIGINT),  # line (CSV, JSON Lines) or row number (Parquet) in that file
    ("ingested_at", TIMESTAMP),  # when the batch landed; builds "as of" filter on it
    ("event_key", VARCHAR),  # the key fields joined: one event
    ("content_hash", "UHUGEINT"),  # MD5 of every field and extra: one version of the event
)


def raw_table(event_type: str) -> str:
    """Where an event type's log lives in the warehouse: ``raw."<event_type>"``."""
    return 'raw."' + event_type.replace('"', '""') + '"'


def did_you_mean(name: str) -> str:
    """" (did you mean 'click'?)" for a near miss of an event type (clicks, Deal, form-fill), else ""."""
    import difflib

    plain = name.lower().replace("-", "_")
    if plain in EVENT_TYPES and plain != name:
        return f" (did you mean {plain!r}?)"
    close = difflib.get_close_matches(plain, EVENT_TYPES, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def event_type_of(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(EVENT_TYPES))
        raise KeyError(f"unknown event type {name!r}{did_you_mean(name)} (known: {known})") from None
