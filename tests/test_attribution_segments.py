"""The segmented attribution marts (the report's filters reach attribution through them), on the
hand-made scenario tests/scenarios.py segments_scenario, built with real dbt + DuckDB at
min_group_size 2 (and once more at 5, for suppression). Every expected number is worked out by
hand from the scenario's docstring.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.scenarios import SEGMENTS_SELECT, land_and_build, rebuild, segments_scenario

pytestmark = [pytest.mark.slow]

MAR, APR = "2025-03-01", "2025-04-01"
OTHER, PAGE, NONE = "(other departments)", "(company page)", "(no campaign)"
D = Decimal


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return land_and_build(
        segments_scenario(), tmp_path_factory.mktemp("segments"), SEGMENTS_SELECT, {"min_group_size": 2}
    )


def rows(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_revenue_follows_the_touched_share(home: Path) -> None:
    """Linear: won-a 500 + 500 (s1, s2); open-b 200 × 3 (s3, p1, s1); won-c 150 + 150 (s1, s4).
    Sales touched deals through e1 and e2 (2 ≥ min_group_size) and is named; Marketing only
    through e3, so its credit joins the pool with Legal's e5 — two employees, not suppressed."""
    got = rows(home, """
        select month::varchar, department, network, campaign, content_id, is_suppressed, employees,
               deals_touched, won_deals_touched, round(attributed_deals, 6), won_revenue, open_pipeline,
               won_revenue_reporting, currency, reporting_currency
        from marts.mart_attribution_segments where model = 'linear' order by all""")
    assert got == [
        (MAR, PAGE, "linkedin", NONE, "c3", False, 0, 1, 0, 0.333333, D("0.00"), D("200.00"), D("0.00"), "USD", "USD"),
        (MAR, "Sales", "linkedin", "launch", "c1", False, 1, 3, 2, 1.333333, D("650.00"), D("200.00"), D("650.00"),
         "USD", "USD"),
        (APR, OTHER, "linkedin", "launch", "c1", False, 1, 1, 0, 0.333333, D("0.00"), D("200.00"), D("0.00"),
         "USD", "USD"),
        (APR, OTHER, "twitter", "webinar", "c2", False, 1, 1, 1, 0.5, D("500.00"), D("0.00"), D("500.00"),
         "USD", "USD"),
        (APR, "Sales", "linkedin", NONE, "(own post)", False, 1, 1, 1, 0.5, D("150.00"), D("0.00"), D("150.00"),
         "USD", "USD"),
    ]
    # First touch: won-a → s1, open-b → s3, won-c → s1: Sales, March, launch earns 1300.00 won.
    assert rows(home, """
        select month::varchar, department, campaign, won_revenue, open_pipeline from marts.mart_attribution_segments
        where model = 'first_touch' and (won_revenue > 0 or open_pipeline > 0) order by all""") == [
        (MAR, "Sales", "launch", D("1300.00"), D("0.00")),
        (APR, OTHER, "launch", D("0.00"), D("600.00")),
    ]


def test_segments_add_up_to_the_rollups(home: Path) -> None:
    """Per model, the segments add up to the rollups' attributed content groups: 3 deals, 1300.00
    won (won-a 1000.00 + won-c 300.00), 600.00 open."""
    got = rows(home, """
        with s as (select model, sum(attributed_deals) as deals, sum(won_revenue) as won, sum(open_pipeline) as open
                   from marts.mart_attribution_segments group by model),
             r as (select model, sum(attributed_deals) as deals, sum(won_revenue) as won, sum(open_pipeline) as open
                   from marts.mart_attribution_rollups where dimension = 'content' and group_key <> '(unattributed)'
                   group by model)
        select s.model, round(s.deals, 9), s.won, s.open, round(r.deals, 9), r.won, r.open
        from s join r using (model) order by 1""")
    assert len(got) == 7
    for model, *figures in got:
        assert figures == [3.0, D("1300.00"), D("600.00")] * 2, model


def test_funnel_by_segment(home: Path) -> None:
    got = rows(home, """
        select month::varchar, department, network, campaign, shares, human_clicks, bot_clicks, leads, deals, won_deals
        from marts.mart_attribution_funnel_segments order by all""")
    assert got == [
        (MAR, PAGE, "linkedin", NONE, 1, 1, 0, 1, 1, 0),
        (MAR, "Marketing", "linkedin", "webinar", 1, 0, 0, 0, 0, 0),
        (MAR, "Sales", "linkedin", "launch", 1, 3, 0, 3, 3, 2),
        (APR, OTHER, "linkedin", "launch", 1, 1, 0, 1, 1, 0),
        (APR, "Marketing", "twitter", "webinar", 1, 2, 1, 2, 1, 1),
        (APR, "Sales", "linkedin", NONE, 1, 1, 0, 1, 1, 1),
    ]
    # Shares and clicks add up to the monthly funnel.
    assert rows(home, """
        select f.month::varchar, any_value(f.shares), any_value(f.human_clicks), any_value(f.bot_clicks),
               sum(s.shares), sum(s.human_clicks), sum(s.bot_clicks)
        from marts.mart_attribution_funnel as f join marts.mart_attribution_funnel_segments as s using (month)
        group by 1 order by 1""") == [(MAR, 3, 4, 0, 3, 4, 0), (APR, 3, 4, 1, 3, 4, 1)]


def test_deal_segments_count_each_deal_once(home: Path) -> None:
    def deals(where: str) -> list[str]:
        return [r[0] for r in rows(home, f"select distinct deal_id from marts.mart_deal_segments where {where} order by 1")]

    assert deals("true") == ["open-b", "won-a", "won-c"]
    assert deals("campaign = 'launch'") == ["open-b", "won-a", "won-c"]
    assert deals("department = 'Marketing'") == ["won-a"]
    assert deals(f"month = date '{APR}' and campaign = 'launch'") == ["open-b"]
    assert deals("network = 'twitter'") == ["won-a"]
    assert rows(home, """
        select deal_id, count(*), sum(touches), any_value(deal_status), any_value(amount_reporting)
        from marts.mart_deal_segments group by deal_id order by 1""") == [
        ("open-b", 3, 3, "open", D("600.00")),
        ("won-a", 2, 2, "won", D("1000.00")),
        ("won-c", 2, 2, "won", D("300.00")),
    ]


def test_a_pool_too_small_is_suppressed(home: Path) -> None:
    """At min_group_size 5 no department is named (two sharers each) and the pool credits four
    employees (e1, e2, e3, e5): its rows keep no figure; the page's own posts stay shown."""
    rebuild(home, SEGMENTS_SELECT, {"min_group_size": 5})
    got = rows(home, """
        select department, bool_and(is_suppressed), count(won_revenue), sum(open_pipeline)
        from marts.mart_attribution_segments where model = 'linear' group by 1 order by 1""")
    assert got == [(PAGE, False, 1, D("200.00")), (OTHER, True, 0, None)]
    assert rows(home, "select distinct department from marts.mart_deal_segments order by 1") == [(PAGE,), (OTHER,)]
