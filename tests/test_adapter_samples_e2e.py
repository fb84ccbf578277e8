"""Every sample export lands end to end, and a deal traces back to the shares that touched it.

The samples (ingestion/adapters/samples/) tell one small story; the figures below are counted
by hand from those files, not from the code under test:

- the page posts "Closing the loop" (urn:li:share:…001, token tk-page-001); Ana shares it on
  LinkedIn (tk-ana-001), Ben on X (tk-ben-001); Ana later shares a second article.
- Jane clicks Ana's share (v-1001), and, as j.doe@gmail, the page post (v-1002); she fills
  forms under both addresses; HubSpot merged her two contacts (502 into 501) and deal 702
  into 701. Back on v-1001 she clicks Ben's share, then deal 701 is created: three touches.
- Raj clicks Ben's share (v-1003), fills a form; HubSpot deal 703.
- Mia clicks the page post (v-1004), fills a form; the Salesforce lead converts into contact
  003…1 (merged with 003…2), whose role is on opportunity 006…1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.adapters import land_any
from ingestion.pseudonymize import pseudonym
from tests.helpers import TEST_PII_KEY, query

SAMPLES = Path(__file__).resolve().parents[1] / "ingestion" / "adapters" / "samples"

# The formats scripts/demo_exports.sh lands the samples with.
SPECS = {
    "linkedin": "linkedin",
    "advocacy_shares": "advocacy_shares",
    "web_clicks": "web_clicks",
    "hubspot": "hubspot:tz=America/New_York",
    "salesforce": "salesforce",
}

PAGE_POST = "urn:li:share:7302000000000000001"
ANA_POST = "urn:li:activity:7302100000000000001"
BEN_POST = "https://x.com/ben_acme/status/1896000000000000001"

# A deal's touches: clicks by visitors who filled a form with one of the deal's contact
# addresses, before the deal was created (all within the 90-day lookback here).
TOUCHES = """
    with created as (select deal_id, occurred_at as created_at from raw.deal where event = 'created'),
    contacts as (select distinct deal_id, contact_email from raw.deal where event = 'contact_added'),
    visitors as (
        select distinct c.deal_id, f.visitor_id
        from contacts c join raw.form_fill f on f.email = c.contact_email
    )
    select d.deal_id, k.click_id, s.share_id, s.author_id, k.occurred_at
    from created d
    join visitors v using (deal_id)
    join raw.click k on k.visitor_id = v.visitor_id and k.occurred_at <= d.created_at
    join raw.share s on s.tracking_token = k.tracking_token
    order by d.deal_id, k.occurred_at
"""


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(tmp_path_factory.mktemp("home"))
    with warehouse(settings) as con:
        for folder, spec in SPECS.items():
            results = land_any(con, SAMPLES / folder, TEST_PII_KEY.encode(), spec=spec)
            assert all(r.status == "landed" for r in results), results
    return settings


def test_every_sample_lands_into_the_event_log(landed: Settings) -> None:
    counts = dict(
        query(
            landed.warehouse,
            "select event_type, sum(rows_landed) from meta.batches group by 1 order by 1",
        )
    )
    assert counts == {
        "content": 2,  # c-101, c-102, repeated on every share row
        "share": 4,  # page post + Ana ×2 + Ben (exported twice)
        "share_metrics": 4,  # 2 lifetime pulls + 2 days of time-bound statistics
        "engagement": 4,  # 2 reactions + 1 comment, then 1 new reaction (2 pulled again)
        "page_followers": 4,  # 2 networkSizes totals + 2 days counted back from the first
        "click": 5,  # 6 hits, one without a token
        "form_fill": 4,
        "deal": 16,  # HubSpot 701: 6, 703: 3; Salesforce 006…1: 7
    }
    assert query(landed.warehouse, "select event_type, reason from meta.quarantine") == [
        ("share", "invalid_enum")  # Cem's share on "Myspace"
    ]
    unbalanced = query(
        landed.warehouse,
        "select batch_id from meta.batches where rows_read <> rows_landed + rows_duplicate + rows_quarantined",
    )
    assert unbalanced == []


def test_deal_events_fold_to_the_crm_state(landed: Settings) -> None:
    latest = query(
        landed.warehouse,
        """
        select deal_id, arg_max(amount, occurred_at) filter (where amount is not null)::varchar,
               arg_max(currency, occurred_at) filter (where currency is not null),
               bool_or(event = 'closed_won'), count(*) filter (where event = 'contact_added')
        from raw.deal group by deal_id order by deal_id
        """,
    )
    assert latest == [
        ("006000000000001AAA", "20000.00", "EUR", True, 3),
        ("701", "12500.00", "USD", True, 2),
        ("703", "8000.00", "USD", False, 1),
    ]


def test_each_deal_traces_back_to_the_shares_that_touched_it(landed: Settings) -> None:
    touches = query(landed.warehouse, TOUCHES)
    assert [(deal, click, share, author) for deal, click, share, author, _ in touches] == [
        ("006000000000001AAA", "h-005", PAGE_POST, "urn:li:organization:1001"),
        ("701", "h-001", ANA_POST, "emp-ana"),  # Jane, from her work address
        ("701", "h-003", PAGE_POST, "urn:li:organization:1001"),  # Jane, from the merged contact's
        ("701", "h-006", BEN_POST, "emp-ben"),
        ("703", "h-004", BEN_POST, "emp-ben"),
    ]


def test_the_log_holds_no_clear_text_pii(landed: Settings) -> None:
    jane = pseudonym("jane.doe@globex.example", TEST_PII_KEY.encode(), email=True)
    assert query(landed.warehouse, "select count(*) from raw.form_fill where email = ?", [jane]) == [(1,)]
    for table in ("form_fill", "deal", "engagement", "click", "share"):
        leaks = query(
            landed.warehouse,
            f"select count(*) from raw.{table} t where lower(t::varchar) like '%@%'"
            " or t::varchar like '%urn:li:person%'",
        )
        assert leaks == [(0,)], table


@pytest.mark.slow
def test_marts_from_the_sample_exports(landed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dbt marts built from the sample exports agree with the hand figures."""
    from builds.dbt_build import run_dbt_build

    monkeypatch.setenv("REACHLOOP_HOME", str(landed.home))
    run_dbt_build(landed)
    rate = query(
        landed.warehouse,
        "select impressions, reactions, clicks, round(engagement_rate, 6) from marts.mart_engagement_rate"
        " where share_id = ?",
        [PAGE_POST],
    )
    # the latest lifetime pull wins, reactions went down from 12 to 10: (11 + 10 + 2 + 3) / 560
    assert rate == [(560, 10, 11, round(26 / 560, 6))]
    credits = query(
        landed.warehouse,
        "select deal_id, share_id, credit, attributed_amount, currency, deal_status"
        " from marts.mart_lead_to_deal_attribution where model = 'first_touch' and credit > 0"
        " order by deal_id",
    )
    assert [(d, s, float(c), float(a), cur, st) for d, s, c, a, cur, st in credits] == [
        ("006000000000001AAA", PAGE_POST, 1.0, 20000.0, "EUR", "won"),
        ("701", ANA_POST, 1.0, 12500.0, "USD", "won"),  # Jane's first touch: Ana's share
        ("703", BEN_POST, 1.0, 8000.0, "USD", "open"),
    ]
    linear = query(
        landed.warehouse,
        "select share_id, credit from marts.mart_lead_to_deal_attribution"
        " where deal_id = '701' and model = 'linear' order by touch_number",
    )
    assert [(s, round(float(c), 6)) for s, c in linear] == [
        (ANA_POST, round(1 / 3, 6)), (PAGE_POST, round(1 / 3, 6)), (BEN_POST, round(1 / 3, 6))
    ]
