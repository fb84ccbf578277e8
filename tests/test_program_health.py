"""Program health through real landing and dbt: adoption, networks, profiles and SSI, share of
voice and goals, on a hand-made company small enough to work every figure out by hand (the
expected numbers below are worked out in the comments, not recomputed with the code under test).

The company (min_group_size 2): e1, e2, e3 in Sales and e4 in Finance on the roster from
January; e5 joins Sales in February. Content c1 is published 2025-01-05 00:00, c2 2025-02-01
00:00. Employee shares (LinkedIn, network size 100 each; metrics: impressions / unique /
interactions):
    s1  e1  c1  Jan 5 02:00   100 / 50 / 10      (2 h after c1)
    s2  e2  c1  Jan 5 10:00   200 / 80 / 20      (10 h)
    s3  e4  c1  Jan 6 00:00    50 / 20 /  2      (24 h)
    s7  e3  c1  Jan 7 06:00   100 / 40 /  4      (54 h)
    s4  e1  c2  Feb 1 04:00   300 / 150 / 30     (4 h)
    s5  e5  c2  Feb 2 00:00   100 / 30 /  5      (24 h)
    s6  e2  own Feb 3 00:00   X (twitter, no network size): 40 impressions, 4 interactions
and the page's p1 (c1, Jan 5 00:00, 100 / 60 / 2; 1,000 followers).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from reachloop.cli import main
from tests.helpers import build_once, dbt_build, environ, shared_root, write_csv

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("program_health")]

KEY = "program-health-test-key"
SELECT = (
    "+mart_program_adoption +mart_profile_reach_by_band +mart_share_of_voice +mart_goal_progress"
    " +mart_network_monthly +mart_engagement_bubble"
)
ALL = "(all departments)"


def _landing(folder: Path) -> None:
    roster = [("e1", "Sales"), ("e2", "Sales"), ("e3", "Sales"), ("e4", "Finance")]
    write_csv(folder, "employee", [
        *(dict(employee_id=e, observed_at="2025-01-01T00:00:00Z", network="linkedin", network_size=100,
               department=d) for e, d in roster),
        dict(employee_id="e5", observed_at="2025-02-01T00:00:00Z", network="linkedin", network_size=100,
             department="Sales"),
    ])
    write_csv(folder, "content", [
        dict(content_id="c1", url="https://acme.example/c1", published_at="2025-01-05T00:00:00Z"),
        dict(content_id="c2", url="https://acme.example/c2", published_at="2025-02-01T00:00:00Z"),
    ])
    shares = [  # share, author, content, posted_at, network, (impressions, unique, reactions, clicks)
        ("s1", "e1", "c1", "2025-01-05T02:00:00Z", "linkedin", (100, 50, 5, 4, 1)),
        ("s2", "e2", "c1", "2025-01-05T10:00:00Z", "linkedin", (200, 80, 10, 10, 0)),
        ("s3", "e4", "c1", "2025-01-06T00:00:00Z", "linkedin", (50, 20, 1, 1, 0)),
        ("s7", "e3", "c1", "2025-01-07T06:00:00Z", "linkedin", (100, 40, 3, 1, 0)),
        ("s4", "e1", "c2", "2025-02-01T04:00:00Z", "linkedin", (300, 150, 20, 0, 10)),
        ("s5", "e5", "c2", "2025-02-02T00:00:00Z", "linkedin", (100, 30, 4, 1, 0)),
        ("s6", "e2", "", "2025-02-03T00:00:00Z", "twitter", (40, None, 2, 2, 0)),
        ("p1", "page:acme", "c1", "2025-01-05T00:00:00Z", "linkedin", (100, 60, 1, 1, 0)),
    ]
    write_csv(folder, "share", [
        dict(share_id=s, author_type="page" if s == "p1" else "employee", author_id=a, network=n,
             posted_at=t, tracking_token=f"tok-{s}", content_id=c)
        for s, a, c, t, n, _ in shares
    ])
    # interactions = clicks + reactions + comments + reshares; comments and reshares go in the
    # last number (s1: 1 comment; s4: 5 comments and 5 reshares)
    write_csv(folder, "share_metrics", [
        dict(share_id=s, observed_at="2025-03-01T00:00:00Z", impressions=i, unique_impressions=u,
             reactions=r, clicks=k, comments=cr if s != "s4" else 5, reshares=0 if s != "s4" else 5)
        for s, _, _, _, _, (i, u, r, k, cr) in shares
    ])
    write_csv(folder, "page_followers", [
        dict(page_id="page:acme", observed_at="2025-01-01T00:00:00Z", followers=1000),
        dict(page_id="page:acme", observed_at="2025-02-20T00:00:00Z", followers=1100),
    ])
    write_csv(folder, "click", [
        dict(click_id="k1", tracking_token="tok-s1", visitor_id="v1", occurred_at="2025-01-10T00:00:00Z",
             user_agent="Mozilla/5.0"),
    ])
    write_csv(folder, "profile_snapshot", [
        # 20 + 15 + 15 + 2×10 + 5×3 + 15 = 100; the SSI only as its pillars: 80
        dict(employee_id="e1", observed_at="2025-01-01T00:00:00Z", has_photo="true", has_headline="true",
             has_about="TRUE", experience_count=3, skills_count=10, recommendations_count=2,
             ssi_professional_brand=20, ssi_find_people=20, ssi_engage_insights=20, ssi_build_relationships=20),
        # the SSI only: no completeness
        dict(employee_id="e1", observed_at="2025-02-01T00:00:00Z", ssi_score=70),
        # 20 + 0 + (unstated) 0 + 10 + 2×3 + 0 = 36
        dict(employee_id="e2", observed_at="2025-01-01T00:00:00Z", has_photo="true", has_headline="false",
             experience_count=1, skills_count=2, recommendations_count=0, ssi_score=40),
        # 0 + 15 + 15 + 0 + 0 + 0 = 30
        dict(employee_id="e3", observed_at="2025-01-01T00:00:00Z", has_photo="false", has_headline="true",
             has_about="true", experience_count=0, skills_count=0, recommendations_count=0, ssi_score=30),
        # 20 + 15 + 0 + 20 + 15 + 0 = 70
        dict(employee_id="e4", observed_at="2025-01-01T00:00:00Z", has_photo="true", has_headline="true",
             has_about="false", experience_count=2, skills_count=5, recommendations_count=0, ssi_score=55.5),
        # a pillar out of 0-25: quarantined
        dict(employee_id="e5", observed_at="2025-01-01T00:00:00Z", ssi_find_people=30),
    ])
    write_csv(folder, "company_presence", [
        dict(company="Acme", observed_at="2025-01-02T00:00:00Z", followers=990, employees_on_linkedin=3,
             posts_30d=9, engagements_30d=90, is_own_company="true"),
        dict(company="Acme", observed_at="2025-01-15T00:00:00Z", followers=1000, employees_on_linkedin=3,
             posts_30d=10, engagements_30d=100, keyword="advocacy", keyword_posts_30d=2,
             is_own_company="true"),
        dict(company="Globex", observed_at="2025-01-15T00:00:00Z", followers=2000, employees_on_linkedin=50,
             posts_30d=30, engagements_30d=300, keyword="advocacy", keyword_posts_30d=6, employees=100,
             is_own_company="false"),
        dict(company="Acme", observed_at="2025-02-15T00:00:00Z", followers=1100, employees_on_linkedin=4,
             posts_30d=20, engagements_30d=100, keyword="advocacy", keyword_posts_30d=3),
        dict(company="Globex", observed_at="2025-02-15T00:00:00Z", followers=2100, employees_on_linkedin=50,
             posts_30d=20, engagements_30d=300, keyword="advocacy", keyword_posts_30d=1, employees=100),
    ])
    write_csv(folder, "program_goal", [
        dict(goal_id="g1", metric="employee_shares", period_start="2025-01-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=10),
        dict(goal_id="g2", metric="engagement_rate", period_start="2025-01-01T00:00:00Z",
             period_end="2025-02-01T00:00:00Z", target=0.07, network="linkedin"),
        dict(goal_id="g3", metric="employee_shares", period_start="2025-01-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=2, department="Finance"),
        dict(goal_id="g4", metric="page_followers", period_start="2025-01-01T00:00:00Z",
             period_end="2025-04-01T00:00:00Z", target=1300),
        dict(goal_id="g5", metric="employee_shares", period_start="2025-03-01T00:00:00Z",
             period_end="2025-04-01T00:00:00Z", target=5),
        dict(goal_id="g6", metric="interactions", period_start="2025-02-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=8, network="twitter"),
        # each quarantined, for its own reason
        dict(goal_id="bad-metric", metric="followers_total", period_start="2025-01-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=1),
        dict(goal_id="bad-period", metric="leads", period_start="2025-03-01T00:00:00Z",
             period_end="2025-01-01T00:00:00Z", target=1),
        dict(goal_id="bad-scope", metric="leads", period_start="2025-01-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=1, department="Sales"),
        dict(goal_id="bad-currency", metric="pipeline", period_start="2025-01-01T00:00:00Z",
             period_end="2025-03-01T00:00:00Z", target=1000),
    ])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_root(tmp_path_factory, "reachloop-program-health")

    def build() -> None:
        _landing(root / "landing")
        with environ(REACHLOOP_HOME=str(root / "home"), REACHLOOP_PII_KEY=KEY):
            assert main(["land", str(root / "landing")]) == 0
        # fct_deals is built (pipeline goals), the attribution marts' own singular test is not theirs
        dbt_build(root / "home", SELECT, "--vars", '{"min_group_size": 2}',
                  "--exclude", "assert_attributed_deals_credited_under_every_model")

    build_once(root, build)
    return root / "home"


@pytest.fixture(scope="module")
def con(home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    rel = con.execute(sql)
    names = [d[0] for d in rel.description]
    return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]


def test_bad_records_are_quarantined_with_their_reason(con) -> None:
    found = dict(con.execute(
        "select coalesce(json_extract_string(raw, '$.goal_id'), json_extract_string(raw, '$.employee_id')),"
        " reason from meta.quarantine where event_type in ('program_goal', 'profile_snapshot')"
    ).fetchall())
    assert found == {
        "bad-metric": "invalid_enum",
        "bad-period": "invalid_period",
        "bad-scope": "invalid_goal_scope",
        "bad-currency": "missing_field",
        "e5": "out_of_range",
    }


def test_adoption_by_month_and_department(con) -> None:
    got = {(str(r["month_start"]), r["department"]): r for r in rows(con, "select * from marts.mart_program_adoption")}
    jan, feb = "2025-01-01", "2025-02-01"
    # January, the company: 4 enrolled, all 4 shared (their first shares: all new); c1's
    # employee shares came 2, 10, 24 and 54 h after it: first 2 h, median (10 + 24) / 2 = 17 h.
    r = got[(jan, ALL)]
    assert (r["enrolled_employees"], r["active_sharers"], r["new_sharers"], r["returning_sharers"]) == (4, 4, 4, 0)
    assert r["activation_rate"] == 1.0 and r["shares_per_active_sharer"] == 1.0
    assert (r["median_hours_to_first_share"], r["median_hours_to_median_share"]) == (2.0, 17.0)
    # January, Sales: e1, e2, e3 enrolled and sharing; c1 by Sales 2, 10, 54 h: 2 and 10.
    r = got[(jan, "Sales")]
    assert (r["enrolled_employees"], r["active_sharers"], r["activation_rate"]) == (3, 3, 1.0)
    assert (r["median_hours_to_first_share"], r["median_hours_to_median_share"]) == (2.0, 10.0)
    # Finance has one employee (< 2): the row stays, every figure null.
    for month in (jan, feb):
        r = got[(month, "Finance")]
        assert r["is_suppressed"] and r["enrolled_employees"] is None and r["active_sharers"] is None
    # February, the company: e5 joined (5 enrolled); e1, e2, e5 shared, e5 for the first time;
    # c2's shares 4 and 24 h after it: first 4, median 14.
    r = got[(feb, ALL)]
    assert (r["enrolled_employees"], r["active_sharers"], r["new_sharers"], r["returning_sharers"]) == (5, 3, 1, 2)
    assert r["activation_rate"] == pytest.approx(0.6) and r["shares_per_active_sharer"] == 1.0
    assert (r["median_hours_to_first_share"], r["median_hours_to_median_share"]) == (4.0, 14.0)
    r = got[(feb, "Sales")]
    assert (r["enrolled_employees"], r["active_sharers"], r["activation_rate"]) == (4, 3, 0.75)
    assert not r["is_suppressed"] and not r["sharer_figures_suppressed"]


def test_network_rollup(con) -> None:
    got = {(str(r["month_start"]), r["network"]): r for r in rows(con, "select * from marts.mart_network_monthly")}
    assert set(got) == {("2025-01-01", "linkedin"), ("2025-02-01", "linkedin"), ("2025-02-01", "twitter")}
    r = got[("2025-01-01", "linkedin")]
    # s1, s2, s3, s7 and the page's p1; reach ratios .5, .8, .2, .4 → median .45
    assert (r["employee_shares"], r["page_shares"], r["active_sharers"]) == (4, 1, 4)
    assert (r["potential_reach"], r["employee_members_reached"]) == (400, 190)
    assert r["median_employee_reach_ratio"] == pytest.approx(0.45)
    # interactions 10 + 20 + 2 + 4 + 2 (p1) = 38 over 550 impressions
    assert (r["impressions"], r["interactions"]) == (550, 38)
    assert r["engagement_rate"] == pytest.approx(38 / 550)
    assert r["social_sourced_site_visits"] == 1 and r["median_hours_since_previous_post"] is None
    r = got[("2025-02-01", "linkedin")]
    # s4 (1.5) and s5 (.3); s4 came 27 days 2 h after e1's s1: 650 h (s5 is e5's first post)
    assert r["median_employee_reach_ratio"] == pytest.approx(0.9)
    assert r["median_hours_since_previous_post"] == pytest.approx(650)
    r = got[("2025-02-01", "twitter")]
    # s6: no X network size, so no potential reach nor ratio; 28 days 14 h after e2's s2
    assert (r["employee_shares"], r["impressions"], r["interactions"], r["potential_reach"]) == (1, 40, 4, None)
    assert r["median_hours_since_previous_post"] == pytest.approx(686)
    bubble = dict(con.execute("select share_id, network from marts.mart_engagement_bubble").fetchall())
    assert bubble["s6"] == "twitter" and bubble["s1"] == "linkedin"


def test_profile_readiness_over_time(con) -> None:
    got = {(r["employee_id"], str(r["observed_at"])[:10]): r for r in rows(
        con, "select * from marts.mart_profile_readiness")}
    assert set(got) == {("e1", "2025-01-01"), ("e1", "2025-02-01"), ("e2", "2025-01-01"),
                        ("e3", "2025-01-01"), ("e4", "2025-01-01")}
    r = got[("e1", "2025-01-01")]
    assert (r["profile_completeness"], r["completeness_band"], r["ssi_score"]) == (100, "4 complete (90-100)", 80.0)
    assert str(r["valid_until"])[:10] == "2025-02-01"
    assert (r["shares"], r["members_reached"], r["median_reach_ratio"], r["interactions"]) == (1, 50, 0.5, 10)
    r = got[("e1", "2025-02-01")]  # the SSI only: no completeness; s4 posted after it
    assert (r["profile_completeness"], r["completeness_band"], r["ssi_score"]) == (None, None, 70.0)
    assert (r["shares"], r["median_reach_ratio"]) == (1, 1.5)
    r = got[("e2", "2025-01-01")]  # s2 (reach .8) and s6 (no reach ratio): median .8
    assert (r["profile_completeness"], r["completeness_band"]) == (36, "1 low (0-39)")
    assert (r["shares"], r["members_reached"], r["median_reach_ratio"], r["interactions"]) == (2, 120, 0.8, 24)
    assert (got[("e3", "2025-01-01")]["profile_completeness"], got[("e4", "2025-01-01")]["profile_completeness"]) \
        == (30, 70)
    assert got[("e4", "2025-01-01")]["completeness_band"] == "3 good (70-89)"


def test_do_better_profiles_reach_further(con) -> None:
    got = {r["completeness_band"]: r for r in rows(con, "select * from marts.mart_profile_reach_by_band")}
    # low: e2 (s2 .8, s6 none) and e3 (s7 .4): 2 sharers, 3 shares, median .6; SSI 40, 40, 30
    low = got["1 low (0-39)"]
    assert (low["is_suppressed"], low["sharers"], low["shares"]) == (False, 2, 3)
    assert low["median_reach_ratio"] == pytest.approx(0.6)
    assert low["median_engagement_rate"] == pytest.approx(0.1)
    assert low["mean_ssi_score"] == pytest.approx(110 / 3)
    # one sharer each (e4; e1; e1's SSI-only snapshot): suppressed
    for band in ("3 good (70-89)", "4 complete (90-100)", None):
        assert got[band]["is_suppressed"] and got[band]["shares"] is None, band


def test_share_of_voice(con) -> None:
    got = {(str(r["month_start"]), r["company"]): r for r in rows(con, "select * from marts.mart_share_of_voice")}
    r = got[("2025-01-01", "Acme")]  # its latest January audit; 4 enrolled on the roster
    assert (r["is_own_company"], r["followers"], r["follower_growth"], r["headcount"]) == (True, 1000, None, 4)
    assert r["share_of_voice_posts"] == pytest.approx(10 / 40)
    assert r["share_of_voice_engagement"] == pytest.approx(100 / 400)
    assert r["share_of_voice_keyword"] == pytest.approx(2 / 8)
    assert r["employees_on_platform_ratio"] == pytest.approx(3 / 4)
    r = got[("2025-02-01", "Acme")]  # no flag in February: own by its latest flagged row
    assert (r["is_own_company"], r["follower_growth"], r["headcount"]) == (True, 100, 5)
    assert r["follower_growth_rate"] == pytest.approx(0.1)
    assert r["share_of_voice_posts"] == pytest.approx(0.5)
    assert r["share_of_voice_keyword"] == pytest.approx(0.75)
    assert r["employees_on_platform_ratio"] == pytest.approx(0.8)
    r = got[("2025-02-01", "Globex")]
    assert (r["is_own_company"], r["follower_growth"], r["employees_on_platform_ratio"]) == (False, 100, 0.5)
    assert r["share_of_voice_engagement"] == pytest.approx(0.75)


def test_goal_progress(con) -> None:
    got = {r["goal_id"]: r for r in rows(con, "select * from marts.mart_goal_progress")}
    assert set(got) == {"g1", "g2", "g3", "g4", "g5", "g6"}
    # The log's newest event is the follower snapshot of Feb 20.
    g1 = got["g1"]  # 7 employee shares in 50 of 59 days: forecast 7 × 59/50
    assert str(g1["measured_through"])[:10] == "2025-02-20"
    assert g1["elapsed_share"] == pytest.approx(50 / 59)
    assert (g1["actual"], g1["pct_of_target"]) == (7.0, 0.7)
    assert g1["forecast"] == pytest.approx(7 * 59 / 50) and g1["status"] == "behind"
    g2 = got["g2"]  # January on LinkedIn: 36 interactions ÷ 450 impressions = .08 ≥ .07, over
    assert g2["elapsed_share"] == 1.0 and g2["actual"] == pytest.approx(0.08)
    assert g2["forecast"] == pytest.approx(0.08) and g2["status"] == "achieved"
    g3 = got["g3"]  # Finance has one employee
    assert g3["is_suppressed"] and g3["actual"] is None and g3["status"] is None
    g4 = got["g4"]  # 1,000 at the start, 1,100 after 50 of 90 days: 1,000 + 100 × 90/50
    assert g4["actual"] == 1100.0 and g4["forecast"] == pytest.approx(1180) and g4["status"] == "behind"
    g5 = got["g5"]
    assert (g5["elapsed_share"], g5["actual"], g5["forecast"], g5["status"]) == (0.0, 0.0, None, "not_started")
    g6 = got["g6"]  # X in February: s6's 4 interactions in 19 of 28 days
    assert g6["actual"] == 4.0 and g6["forecast"] == pytest.approx(4 * 28 / 19) and g6["status"] == "behind"


def _goal_rows(home: Path) -> dict[str, dict]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {r["goal_id"]: r for r in rows(con, "select * from marts.mart_goal_progress")}


def test_goal_progress_recomputes_the_goals_late_events_touch(tmp_path: Path) -> None:
    """Late events land after the company's first build, in three batches, each built
    incrementally: only the goals whose periods hold them (and those always recomputed) are
    written again, with the figures worked out below, and the last build equals a full one.
    January's goals are closed (the log's newest event stays the follower snapshot of Feb 20):
    g7 visits and g8 leads on the whole company, g9 Sales's active sharers."""
    _landing(tmp_path / "first")
    write_csv(tmp_path / "first" / "more", "program_goal", [
        dict(goal_id=g, metric=m, period_start="2025-01-01T00:00:00Z", period_end="2025-02-01T00:00:00Z",
             target=2, department=d)
        for g, m, d in [("g7", "social_sourced_site_visits", ""), ("g8", "leads", ""),
                        ("g9", "active_sharers", "Sales")]
    ])
    # Batch 2: a share s8 by e2 on Jan 8 (50 impressions, 10 reactions + 4 clicks), a click on
    # s2's link on Jan 12, and v1's form fill on Jan 15 (v1 clicked s1's link on Jan 10).
    write_csv(tmp_path / "second", "share", [
        dict(share_id="s8", author_type="employee", author_id="e2", network="linkedin",
             posted_at="2025-01-08T00:00:00Z", tracking_token="tok-s8", content_id="c1"),
    ])
    write_csv(tmp_path / "second", "share_metrics", [
        dict(share_id="s8", observed_at="2025-03-01T00:00:00Z", impressions=50, unique_impressions=25,
             reactions=10, clicks=4, comments=0, reshares=0),
    ])
    write_csv(tmp_path / "second", "click", [
        dict(click_id="k2", tracking_token="tok-s2", visitor_id="v2", occurred_at="2025-01-12T00:00:00Z",
             user_agent="Mozilla/5.0"),
    ])
    write_csv(tmp_path / "second", "form_fill", [
        dict(submission_id="f1", visitor_id="v1", email="ann@example.com", form_id="demo",
             occurred_at="2025-01-15T00:00:00Z"),
    ])
    # Batch 3: e6 joins Finance, and shares nothing: only the department's size moves.
    # Batch 4: k1's new version names another visitor: v1 no longer clicked before the fill.
    write_csv(tmp_path / "third", "employee", [
        dict(employee_id="e6", observed_at="2025-02-10T00:00:00Z", network="linkedin", network_size=100,
             department="Finance"),
    ])
    write_csv(tmp_path / "fourth", "click", [
        dict(click_id="k1", tracking_token="tok-s1", visitor_id="v3", occurred_at="2025-01-10T00:00:00Z",
             user_agent="Mozilla/5.0"),
    ])
    home = tmp_path / "home"
    build_args = ("+mart_goal_progress", "--vars", '{"min_group_size": 2}',
                  "--exclude", "assert_attributed_deals_credited_under_every_model")

    def land_and_build(folder: str, *extra: str) -> dict[str, dict]:
        if folder:
            with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY):
                assert main(["land", str(tmp_path / folder)]) == 0
        dbt_build(home, *build_args, *extra)
        return _goal_rows(home)

    first = land_and_build("first")
    assert (first["g2"]["actual"], first["g7"]["actual"], first["g8"]["actual"]) == (pytest.approx(0.08), 1.0, 0.0)
    assert first["g9"]["actual"] == 3.0 and first["g3"]["is_suppressed"]

    second = land_and_build("second")
    written = {g for g, r in second.items() if r["log_position_through"] > first[g]["log_position_through"]}
    # g5 (March) and g6 (X in February) hold none of the late events
    assert written == {"g1", "g2", "g3", "g4", "g7", "g8", "g9"}
    assert second["g2"]["actual"] == pytest.approx(50 / 500)  # (36 + 14) ÷ (450 + 50)
    assert (second["g7"]["actual"], second["g8"]["actual"], second["g9"]["actual"]) == (2.0, 1.0, 3.0)

    third = land_and_build("third")
    written = {g for g, r in third.items() if r["log_position_through"] > second[g]["log_position_through"]}
    assert written == {"g3", "g4", "g9"}  # the department goals (and followers)
    g3 = third["g3"]  # Finance has two employees now, and its one share (s3, e4) shows
    assert not g3["is_suppressed"] and g3["actual"] == 1.0

    fourth = land_and_build("fourth")
    assert fourth["g8"]["actual"] == 0.0  # v1's click is v3's now

    full = land_and_build("", "--full-refresh")
    strip = lambda goals: {g: {**r, "log_position_through": None} for g, r in goals.items()}  # noqa: E731
    assert strip(fourth) == strip(full)
