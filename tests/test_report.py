"""``reachloop report`` opened in real headless Chromium: every chart drawn, no console errors,
a screenshot kept as an artifact; and the report's privacy rule (small groups suppressed)."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import pytest

from eventlog.settings import Settings
from reports import charts as ch
from reports import queries as q
from reports.browser import find_chromium, render_check
from reports.html_report import build_report

pytestmark = pytest.mark.slow

EXPECTED_CHARTS = {
    "chart-reach-month", "chart-reach-spread", "chart-reach-volume", "chart-engagement-week",
    "chart-bubble-week", "chart-overlap-content", "chart-cadence", "chart-funnel",
    "chart-revenue-content", "chart-revenue-department", "chart-deal-paths", "chart-value-monthly",
    "chart-adoption-month", "chart-network-month", "chart-goals", "chart-share-of-voice",
}


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return find_chromium()
    except Exception as exc:  # a clear message, not a skip: the browser test is part of the suite
        pytest.fail(f"{exc}", pytrace=False)


@pytest.fixture(scope="module")
def report(published: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(published, tmp_path_factory.mktemp("report") / "report.html")


def test_report_is_one_self_contained_file(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    # Nothing to fetch: no external scripts, styles, fonts or images.
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page, re.I)
    assert "@import" not in page
    assert "Plotly" in page  # plotly.js itself is inlined
    assert set(re.findall(r'id="(chart-[a-z-]+)" data-chart', page)) == EXPECTED_CHARTS
    assert "Not in this publication" not in page, "a section is missing its marts"


def test_every_chart_renders_in_headless_chromium(report: Path, chromium: str, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = render_check(report, shot, chromium=chromium)
    assert set(result.charts) == EXPECTED_CHARTS
    assert not result.empty_charts, f"charts without SVG/canvas: {result.empty_charts}"
    # Plotly draws each chart as at least one main SVG (plus one for the hover layer).
    assert all(n >= 2 for n in result.charts.values()), result.charts
    assert not result.console_errors, result.console_errors
    assert result.title.startswith("reachloop")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    # Kept as an artifact beside the report (and under the test's tmp dir).
    shutil.copy(shot, report.with_suffix(".png"))


def test_cli_writes_the_default_path_and_checks_it(published: Settings, chromium: str, capsys) -> None:
    from reachloop.cli import main

    assert main(["--home", str(published.home), "report", "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(published.home / "report.html")
    assert (published.home / "report.html").exists() and (published.home / "report.png").exists()
    assert f"{len(EXPECTED_CHARTS)} charts rendered" in out[1]


def test_value_section_is_labelled_an_estimate_and_adds_up(report: Path, published: Settings) -> None:
    page = report.read_text(encoding="utf-8")
    start = page.index('id="value"')
    section = page[start : page.index("</section>", start)]
    assert "estimate" in section and "ROI" in section
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        emv, currency = con.execute(
            "select sum(emv), any_value(reporting_currency) from mart_program_value"
            " where dimension = 'month' and model = 'linear'"
        ).fetchone()
    assert f"{emv:,.0f} {currency}" in page  # the KPI tile: the months' EMV, in the reporting currency


def test_report_refuses_without_a_publication(tmp_path: Path) -> None:
    from reachloop.cli import main

    assert main(["--home", str(tmp_path / "empty"), "report"]) == 1


def test_group_figures_stay_suppressed(published: Settings) -> None:
    """Departments below min_group_size never get a figure in the report's queries, and the
    cadence buckets follow the same rule."""
    min_group = q.min_group_size()
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        currency = q.fetch(con, q.REPORTING)[0]["currency"]
        depts = q.fetch(con, q.REVENUE_BY_DEPARTMENT, {"currency": currency})
        suppressed_in_mart = {
            r[0] for r in con.execute(
                "select group_key from mart_attribution_rollups where dimension = 'department' and is_suppressed"
            ).fetchall()
        }
        cadence = q.fetch(con, q.CADENCE, {"min_group": min_group})
    for r in depts:
        if r["is_suppressed"]:
            assert r["won_revenue"] is None and r["employees"] is None
    assert {r["department"] for r in depts if r["is_suppressed"]} == suppressed_in_mart
    for r in cadence:
        assert r["is_suppressed"] == (r["employees"] < min_group)
        if r["is_suppressed"]:
            assert r["median_reach_ratio"] is None and r["p25"] is None and r["p75"] is None


# --- the dashboard: filters recompute KPIs and charts in the page -----------------------------



def _summary(spec: dict) -> tuple[int, float]:
    """Values drawn and their sum, as the page's script counts them (reports.script summary)."""
    n, total = 0, 0.0
    for t in spec["data"]:
        if t.get("type") == "box":
            values = t.get("median")
        elif t.get("type") == "funnel" or t.get("orientation") == "h":
            values = t.get("x")
        else:
            values = t.get("y")
        for v in values or []:
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                n, total = n + 1, total + v
    return n, total


def _select(element: str, value: str) -> str:
    return (f"(() => {{ const s = document.getElementById('{element}'); s.value = '{value}'; "
            "s.dispatchEvent(new Event('change', {bubbles: true})); })()")


def _employee_posts(con: duckdb.DuckDBPyConnection, where: str, params: list) -> int:
    """Employee posts counted straight from fct_shares, independently of the report's cells."""
    return con.execute(
        "select count(*) from fct_shares s join dim_employees e on e.employee_id = s.author_id "
        "left join dim_contents c using (content_id) "
        f"where s.author_type = 'employee' and {where}", params
    ).fetchone()[0]


def _data(page: str) -> dict:
    return json.loads(re.search(r'id="report-data">(.*?)</script>', page).group(1).replace("<\\/", "</"))


def test_filters_redraw_kpis_and_charts(report: Path, published: Settings, chromium: str) -> None:
    page = report.read_text(encoding="utf-8")
    data = _data(page)
    department = data["department_options"][0]
    campaign = next(c for c in data["dims"]["campaign"] if c != q.NO_CAMPAIGN)
    months = sorted({(date(1970, 1, 1) + timedelta(days=d)).isoformat()[:7] for d in data["shares"]["day"]})
    i = len(months) // 2
    first, last, previous = months[i], months[i + 1], [months[i - 2], months[i - 1]]
    result = render_check(report, chromium=chromium, actions=(
        _select("f-department", department),
        f"location.hash = '{urlencode({'from': first, 'to': last, 'department': department})}'",
        f"location.hash = '{urlencode({'campaign': campaign})}'",
    ))
    assert not result.console_errors, result.console_errors
    everything, by_department, by_period, by_campaign = result.views

    # Unfiltered, the page's own arithmetic gives exactly what Python drew from the marts.
    tiles = re.findall(r'data-kpi="([a-z_]+)"><div class="v">([^<]*)</div><div class="l">[^<]*</div>'
                       r'<div class="h">([^<]*)</div>', page)
    assert len(tiles) == 12
    for kpi, value, hint in tiles:
        assert everything["kpis"][kpi]["value"] == html.unescape(value), kpi
        assert everything["kpis"][kpi]["hint"] == html.unescape(hint), kpi
    for chart, spec in re.findall(r'id="(chart-[a-z-]+)-spec">(.*?)</script>', page):
        n, total = _summary(json.loads(spec.replace("<\\/", "</")))
        drawn = everything["charts"][chart]
        assert drawn["values"] == n and drawn["sum"] == pytest.approx(total, rel=1e-9), chart

    month = "strftime(s.posted_at, '%Y-%m')"
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        in_department = _employee_posts(con, "e.department = ?", [department])
        where = f"{month} between ? and ? and e.department = ?"
        now = _employee_posts(con, where, [first, last, department])
        before = _employee_posts(con, where, [*previous, department])

    # A department: the KPI and the charts change, to the count SQL gives.
    assert by_department["active"] == ["department"]
    assert by_department["kpis"]["employee_posts"]["value"] == f"{in_department:,}"
    assert in_department < int(everything["kpis"]["employee_posts"]["value"].replace(",", ""))
    for chart in ("chart-reach-volume", "chart-engagement-week", "chart-bubble-week"):
        assert by_department["charts"][chart] != everything["charts"][chart], chart
    # What a filter cannot apply to says so; every other chart and tile follows it. The overlap
    # chart picks the department's items and says its figures are every sharer's.
    assert by_department["notes"]["chart-overlap-content"] == ""
    assert by_department["series"]["chart-overlap-content"]["note"].startswith(f"Items shared by employees of {department}")
    for chart in EXPECTED_CHARTS & {"chart-reach-month", "chart-cadence", "chart-funnel", "chart-revenue-content",
                                    "chart-revenue-department", "chart-deal-paths"}:
        assert by_department["notes"][chart] == "", chart
    for kpi, _, _ in tiles:   # the tiles of the reach, closed-loop and program-health sections
        expected = "not filtered by department" if kpi in ("share_of_voice", "roi") else ""
        assert by_department["kpis"][kpi]["note"] == expected, kpi
    assert by_department["tables"]["employees"]["rows"] < everything["tables"]["employees"]["rows"]
    # Cadence buckets are suppressed within the filter too: by the department's own employees.
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        employees = dict(con.execute(
            "select case when hours_since_previous_post is null then 0 when hours_since_previous_post < 24 then 1 "
            "when hours_since_previous_post < 72 then 2 when hours_since_previous_post < 168 then 3 "
            "when hours_since_previous_post < 336 then 4 else 5 end, count(distinct c.employee_id) "
            "from mart_posting_cadence c join dim_employees e using (employee_id) "
            "where e.department = ? and c.reach_ratio is not null group by 1", [department]).fetchall())
    gap = by_department["series"]["chart-cadence"]["gap"]
    assert gap["x"] == [ch.GAP_LABELS[k] for k in sorted(employees)]
    for k, median, text in zip(sorted(employees), gap["y"], gap["text"], strict=True):
        assert (text == "suppressed") == (employees[k] < q.min_group_size()) == (median is None), k

    # A period (set through the URL): counts and the change against the two months before.
    assert by_period["filters"]["from"] == first and by_period["filters"]["department"] == department
    posts = by_period["kpis"]["employee_posts"]
    assert posts["value"] == f"{now:,}"
    arrow = "▲" if now >= before else "▼"
    assert posts["change"].startswith(f"{arrow} {abs(100 * (now / before - 1)):.0f}% vs "), posts
    assert by_period["charts"]["chart-funnel"]["sum"] < everything["charts"]["chart-funnel"]["sum"]
    assert by_period["charts"]["chart-reach-month"]["values"] < everything["charts"]["chart-reach-month"]["values"]

    # A campaign: the content rankings follow it, ranked as the SQL ranks them.
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        ranked = con.execute(
            "select o.content_id from mart_bubble_overlap o join dim_contents c using (content_id) "
            "where o.sharers >= 2 and o.audience_sum > 0 and c.campaign = ? "
            "order by o.audience_sum desc, o.content_id limit 15", [campaign]).fetchall()
    assert by_campaign["notes"]["chart-overlap-content"] == by_campaign["notes"]["chart-revenue-content"] == ""
    assert len(by_campaign["series"]["chart-overlap-content"]["union"]["y"]) == len(ranked)
    assert by_campaign["notes"]["chart-revenue-department"] == by_campaign["notes"]["chart-funnel"] == ""


def _attribution_filters(con: duckdb.DuckDBPyConnection, options: list[str]) -> tuple[str, str]:
    """A named department and a campaign its posts touched deals with: the pair with the most
    deals, so the filtered charts have something to show."""
    return con.execute(
        "select department, campaign from mart_deal_segments "
        "where department = any($options) and campaign <> $none "
        "group by all order by count(distinct deal_id) desc, 1, 2 limit 1",
        {"options": [o for o in options if o != q.OTHER_DEPARTMENTS], "none": q.NO_CAMPAIGN}).fetchone()


def _credit(con: duckdb.DuckDBPyConnection, department: str, campaign: str | None) -> dict[str, float]:
    """Won revenue credited per model to a department's posts (of a campaign), from the mart."""
    label = "(other departments)" if department == q.OTHER_DEPARTMENTS else department
    return dict(con.execute(
        "select model, sum(won_revenue_reporting)::double from mart_attribution_segments "
        "where department = $department and ($campaign is null or campaign = $campaign) and not is_suppressed "
        "group by model", {"department": label, "campaign": campaign}).fetchall())


def test_department_and_campaign_reach_the_attribution_charts(
    report: Path, published: Settings, chromium: str
) -> None:
    """A department and a campaign set together: the revenue-by-department chart, the funnel and
    the top deals (chart and table) change, and agree with SQL on the published segment marts.
    A department whose credit is pooled (too few credited employees) shows no bar and says where
    its credit went; the pool's bar holds it and names it."""
    data = _data(report.read_text(encoding="utf-8"))
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        department, campaign = _attribution_filters(con, data["department_options"])
        where = {"department": department, "campaign": campaign}
        clicks, leads = con.execute(
            "select sum(human_clicks), sum(leads) from mart_attribution_funnel_segments "
            "where department = $department and campaign = $campaign", where).fetchone()
        deals, won = con.execute(
            "select count(distinct deal_id), count(distinct deal_id) filter (where deal_status = 'won') "
            "from mart_deal_segments where department = $department and campaign = $campaign", where).fetchone()
        credit = _credit(con, department, campaign)
        pool_credit = _credit(con, q.OTHER_DEPARTMENTS, None)
        top = [r[0] for r in con.execute(
            "select deal_id from fct_deals where deal_id in (select deal_id from mart_deal_segments "
            "where department = $department and campaign = $campaign) "
            "order by case status when 'won' then 0 when 'open' then 1 else 2 end, amount_reporting desc nulls last, "
            "deal_id limit 10", where).fetchall()]
    assert deals > 0 and pool_credit
    result = render_check(report, chromium=chromium, actions=(
        f"location.hash = '{urlencode(where)}'",
        f"location.hash = '{urlencode({'department': q.OTHER_DEPARTMENTS})}'",
    ))
    assert not result.console_errors, result.console_errors
    everything, filtered, pool = result.views
    assert filtered["active"] == ["department", "campaign"]
    # The funnel: clicks and leads summed over the segments, each deal once.
    assert filtered["series"]["chart-funnel"]["funnel"]["x"] == [clicks, leads, deals, won]
    assert everything["series"]["chart-funnel"]["funnel"]["x"] != [clicks, leads, deals, won]
    assert filtered["kpis"]["won_revenue"]["hint"].startswith(f"{won:,} won deals of {deals:,} touched")
    # The top deals, chart and table: the biggest deals those posts touched, in SQL's order.
    assert filtered["deals"] == top != everything["deals"]
    labels = filtered["series"]["chart-deal-paths"]["spans"]["y"][::3]
    assert [label.split(" ")[1] for label in labels] == top
    # Revenue by department: only the department, each model's credit as SQL sums it; or, when
    # its credit is pooled, no bar and a note that says where it is.
    series = filtered["series"]["chart-revenue-department"]
    assert filtered["charts"]["chart-revenue-department"] != everything["charts"]["chart-revenue-department"]
    for model in data["models"]:
        assert series[model]["y"] == ([department] if credit else []), model
        if credit:
            assert series[model]["x"][0] == pytest.approx(credit[model], rel=1e-9), model
    if not credit:
        assert f"{department} touched deals through fewer than" in series["note"]
        assert f"counted in {q.OTHER_DEPARTMENTS}" in series["note"]
    # The pool: its bar holds every pooled department's credit, and the note names them.
    series = pool["series"]["chart-revenue-department"]
    for model in data["models"]:
        assert series[model]["y"] == [q.OTHER_DEPARTMENTS], model
        assert series[model]["x"][0] == pytest.approx(pool_credit[model], rel=1e-9), model
    if not credit:
        assert department in series["note"] and series["note"].startswith("Its credit includes")


def test_dashboard_data_never_names_a_small_department(report: Path, published: Settings) -> None:
    """The filters' data names a department only where mart_reach_by_department does; the rest
    are pooled (and the pool is a filter option only when it is not small itself); every share
    is in the cells exactly once."""
    data = _data(report.read_text(encoding="utf-8"))
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        shown = {r[0] for r in con.execute(
            "select department from mart_reach_by_department where not is_suppressed").fetchall()}
        pooled_sharers, shares = con.execute(
            "select count(distinct s.author_id) filter (where s.author_type = 'employee' and d.department is null), "
            "count(*) from fct_shares s left join dim_employees e on e.employee_id = s.author_id "
            "left join mart_reach_by_department d on d.department = e.department and not d.is_suppressed"
        ).fetchone()
    assert set(data["dims"]["department"]) <= shown | {q.OTHER_DEPARTMENTS}
    assert set(data["share_plan"]["employees"]["department"]) <= shown | {q.OTHER_DEPARTMENTS}
    assert set(data["department_options"]) - {q.OTHER_DEPARTMENTS} <= shown
    assert (q.OTHER_DEPARTMENTS in data["department_options"]) == (pooled_sharers >= q.min_group_size())
    assert sum(data["shares"]["shares"]) == shares
    assert sum(len(r) for r in data["shares"]["reach_ratios"]) <= shares


def test_period_and_network_reach_the_tables(report: Path, published: Settings, chromium: str) -> None:
    """A period and a network set together: the per-employee and per-content tables are
    re-counted from those posts only, row for row as SQL on the published tables computes them
    with the marts' definitions; unfiltered, they are the marts' own rows."""
    data = _data(report.read_text(encoding="utf-8"))
    months = sorted({(date(1970, 1, 1) + timedelta(days=d)).isoformat()[:7] for d in data["shares"]["day"]})
    first, last = months[1], months[2]
    network = data["dims"]["network"][0]
    where = "strftime(posted_at, '%Y-%m') between $first and $last and network = $network"
    params = {"first": first, "last": last, "network": network}
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        employees = con.execute(
            "select author_id, count(*), count(distinct content_id), sum(members_reached), median(reach_ratio), "
            "median(engagement_rate) from fct_shares "
            f"where author_type = 'employee' and {where} "
            "group by all order by sum(members_reached) desc nulls last, author_id", params).fetchall()
        contents = con.execute(
            "select content_id, count(*) filter (where author_type = 'employee'), "
            "count(*) filter (where author_type = 'page'), "
            "count(distinct author_id) filter (where author_type = 'employee'), sum(members_reached), "
            "sum(interactions)::double / nullif(sum(impressions), 0) from fct_shares "
            f"where content_id is not null and {where} "
            "group by all order by sum(members_reached) desc nulls last, content_id", params).fetchall()
        # The activation tile: who shared in the period's last month on the network ÷ the roster.
        active = con.execute(
            "select count(distinct author_id) from fct_shares where author_type = 'employee' "
            "and strftime(posted_at, '%Y-%m') = $last and network = $network",
            {"last": last, "network": network}).fetchone()[0]
        enrolled = con.execute(
            "select enrolled_employees from mart_program_adoption "
            "where department = '(all departments)' and strftime(month_start, '%Y-%m') = $last",
            {"last": last}).fetchone()[0]
        voice = con.execute(
            "select share_of_voice_engagement from mart_share_of_voice where is_own_company "
            "and strftime(month_start, '%Y-%m') <= $last order by month_start desc limit 1", {"last": last}).fetchone()
        posts = con.execute(
            f"select count(*) from fct_shares where author_type = 'employee' and {where}", params).fetchone()[0]
        all_employees = con.execute("select count(*) from mart_reach_by_employee").fetchone()[0]
        all_contents = con.execute("select count(*) from mart_reach_by_content").fetchone()[0]
    assert 0 < len(employees) < all_employees and 0 < len(contents) <= all_contents
    result = render_check(report, chromium=chromium, actions=(
        f"location.hash = '{urlencode({'from': first, 'to': last, 'network': network})}'",))
    assert not result.console_errors, result.console_errors
    everything, filtered = result.views
    assert everything["tables"]["employees"]["rows"] == all_employees
    assert everything["tables"]["contents"]["rows"] == all_contents
    assert filtered["active"] == ["period", "network"]

    # The program-health tiles follow both filters.
    tile = filtered["kpis"]["activation"]
    assert tile["note"] == "" and tile["value"] == f"{active / enrolled:.0%}"
    assert tile["hint"] == f"{active:,} of {enrolled:,} employees shared in {last}-01" != everything["kpis"]["activation"]["hint"]
    tile = filtered["kpis"]["main_network"]
    assert tile["note"] == "" and tile["value"] == network
    assert tile["hint"].startswith(f"{posts:,} employee posts, engagement ")
    assert tile["hint"] != everything["kpis"]["main_network"]["hint"]
    # Share of voice follows the period only (audits are of whole companies) and says so.
    tile = filtered["kpis"]["share_of_voice"]
    assert tile["note"] == "not filtered by network"
    assert tile["value"] == ("–" if voice is None else f"{voice[0]:.0%}")

    table = filtered["tables"]["employees"]
    assert table["rows"] == len(employees) and len(table["top"]) == min(5, len(employees))
    at = {c: i for i, c in enumerate(table["columns"])}
    for row, (employee, shares, items, reached, ratio, rate) in zip(table["top"], employees, strict=False):
        assert row[at["employee_id"]] == employee
        assert (row[at["shares"]], row[at["contents_shared"]], row[at["members_reached"]]) == (shares, items, reached)
        assert row[at["median_reach_ratio"]] == pytest.approx(ratio, rel=1e-9)
        assert row[at["median_engagement_rate"]] == pytest.approx(rate, rel=1e-9)

    table = filtered["tables"]["contents"]
    assert table["rows"] == len(contents) and len(table["top"]) == min(5, len(contents))
    at = {c: i for i, c in enumerate(table["columns"])}
    for row, (content, employee_posts, page_posts, sharers, reached, rate) in zip(
        table["top"], contents, strict=False
    ):
        assert row[at["content_id"]] == content
        assert (row[at["employee_shares"]], row[at["page_shares"]], row[at["sharers"]]) == (
            employee_posts, page_posts, sharers)
        assert row[at["members_reached"]] == reached
        assert row[at["engagement_rate"]] == pytest.approx(rate, rel=1e-9)


PROGRAM_HEALTH = ("chart-adoption-month", "chart-network-month", "chart-goals", "chart-share-of-voice")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plan_in_sql(
    con: duckdb.DuckDBPyConnection,
    *,
    period: tuple[str, str] | None = None,
    department: str | None = None,
    network: str | None = None,
    campaign: str | None = None,
) -> dict:
    """What the share plan shows under these filters, from mart_share_plan: the newest planned
    items of the campaign published in the period (the newest of the campaign when none was),
    and their rows whose colleague is in the department (named as the marts name it) and posted
    on the network by the plan moment, each with the whole plan's rank and cumulative."""
    items_sql = (
        "with items as (select content_id, any_value(published_at) as published_at from mart_share_plan group by all) "
        "select content_id from items left join dim_contents c using (content_id) "
        f"where coalesce(c.campaign, {_literal(q.NO_CAMPAIGN)}) = coalesce(?, coalesce(c.campaign, {_literal(q.NO_CAMPAIGN)})) "
        "and {period} order by items.published_at desc, content_id limit 5"
    )
    within = (f"strftime(items.published_at, '%Y-%m') between {_literal(period[0])} and {_literal(period[1])}"
              if period else "true")
    items = [r[0] for r in con.execute(items_sql.format(period=within), [campaign]).fetchall()]
    if not items and period:
        items = [r[0] for r in con.execute(items_sql.format(period="true"), [campaign]).fetchall()]
    rows = con.execute(
        "select p.content_id, p.sharer_rank, p.employee_id, p.expected_new_members, p.cumulative_new_members "
        "from mart_share_plan p left join dim_employees e using (employee_id) "
        "left join mart_reach_by_department d on d.department = e.department "
        "where list_contains(?, p.content_id) "
        "and (? is null or ? = case when not d.is_suppressed then e.department "
        f"else {_literal(q.OTHER_DEPARTMENTS)} end) "
        "and (? is null or exists (select 1 from fct_shares s where s.author_type = 'employee' and s.author_id = p.employee_id "
        "and s.network = ? and s.posted_at <= p.plan_at)) "
        "order by p.published_at desc, p.content_id, p.sharer_rank",
        [items, department, department, network, network],
    ).fetchall()
    return {"items": items, "rows": [list(r) for r in rows]}


def test_each_filter_reaches_program_health_and_value(report: Path, published: Settings, chromium: str) -> None:
    """Period, department, network and campaign, one at a time: each redraws the program-health
    charts it can reach, the EMV tile and the share plan, to the figures SQL gives on the published marts; what
    a chart cannot split (goals by campaign, share of voice by anything but the period) says so."""
    data = _data(report.read_text(encoding="utf-8"))
    months = sorted(set(data["adoption"]["month"]))
    first, last = months[len(months) // 2 - 1], months[len(months) // 2]
    department = data["department_options"][0]
    network = data["dims"]["network"][0]
    campaign = next(c for c in data["dims"]["campaign"] if c != q.NO_CAMPAIGN)
    currency = data["value_months"]["currency"]
    # filter -> (URL hash, the same cut in SQL: {t} is the table of posts, e its author, c its content)
    cuts = {
        "period": ({"from": first, "to": last},
                   f"strftime({{t}}.posted_at, '%Y-%m') between {_literal(first)} and {_literal(last)}"),
        "department": ({"department": department}, f"e.department = {_literal(department)}"),
        "network": ({"network": network}, f"{{t}}.network = {_literal(network)}"),
        "campaign": ({"campaign": campaign}, f"c.campaign = {_literal(campaign)}"),
    }
    # The share plan under a department with colleagues in it, alone and with a planned campaign.
    plan = data["share_plan"]
    people = plan["employees"]["department"]
    plan_department = max(
        (d for d in data["department_options"] if d in people), key=lambda d: (people.count(d), d))
    plan_campaign = next(c for c in plan["items"]["campaign"] if c != q.NO_CAMPAIGN)
    extra = ({"department": plan_department}, {"department": plan_department, "campaign": plan_campaign})
    result = render_check(report, chromium=chromium, actions=tuple(
        f"location.hash = '{urlencode(h)}'" for h in [h for h, _ in cuts.values()] + list(extra)))
    assert not result.console_errors, result.console_errors
    everything, *views = result.views
    views, plan_views = views[: len(cuts)], views[len(cuts):]
    joins = ("left join dim_employees e on e.employee_id = {t}.author_id "
             "left join dim_contents c on c.content_id = {t}.content_id")
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        for (name, (_, cut)), view in zip(cuts.items(), views, strict=True):
            assert view["active"] == [name]
            # The EMV tile: the filters' employee shares, as mart_share_value values them.
            emv = con.execute(f"select coalesce(sum(v.emv), 0) from mart_share_value v {joins} "
                              f"where v.author_type = 'employee' and {cut}".format(t="v")).fetchone()[0]
            assert view["kpis"]["emv"]["value"] == f"{emv:,.0f} {currency}", name
            assert view["kpis"]["emv"]["note"] == "", name
            # Employee posts by network and month, and the tile: the filters' posts, each once.
            posts = con.execute(f"select count(*) from fct_shares s {joins} "
                                f"where s.author_type = 'employee' and {cut}".format(t="s")).fetchone()[0]
            assert view["kpis"]["employee_posts"]["value"] == f"{posts:,}", name
            assert view["charts"]["chart-network-month"]["sum"] == posts, name
            # Adoption by month: the mart's rows of the period or department; with a network or
            # campaign, who shared there (new: a first share ever that month) ÷ the whole roster.
            series = view["series"]["chart-adoption-month"]
            scope = _literal(department if name == "department" else "(all departments)")
            period = f"strftime(a.month_start, '%Y-%m') between {_literal(first)} and {_literal(last)}"
            adoption = con.execute((
                "with firsts as (select author_id, min(strftime(posted_at, '%Y-%m')) as first from fct_shares "
                "where author_type = 'employee' group by all), "
                "shared as (select strftime(s.posted_at, '%Y-%m') as month, count(distinct s.author_id) as active, "
                "count(distinct s.author_id) filter (where f.first = strftime(s.posted_at, '%Y-%m')) as fresh "
                f"from fct_shares s join firsts f using (author_id) {joins} "
                f"where s.author_type = 'employee' and {cut} group by all) "
                "select strftime(a.month_start, '%Y-%m') as month, a.enrolled_employees, a.new_sharers, "
                "a.activation_rate, coalesce(shared.active, 0), coalesce(shared.fresh, 0) "
                "from mart_program_adoption a left join shared on shared.month = strftime(a.month_start, '%Y-%m') "
                f"where a.department = {scope} and {period if name == 'period' else 'true'} order by 1"
            ).format(t="s")).fetchall()
            assert series["new"]["x"] == [f"{m}-01" for m, *_ in adoption], name
            if name in ("network", "campaign"):   # the table: employee-months sharing there, per department
                by_department = con.execute((
                    "with months as (select department, strftime(month_start, '%Y-%m') as month, enrolled_employees "
                    "from mart_program_adoption where department <> '(all departments)' and not is_suppressed), "
                    "shared as (select e.department, strftime(s.posted_at, '%Y-%m') as month, count(distinct s.author_id) as n "
                    f"from fct_shares s {joins} where s.author_type = 'employee' and {cut} group by all) "
                    "select months.department, sum(enrolled_employees), sum(coalesce(n, 0)) "
                    "from months left join shared using (department, month) group by all order by 1").format(t="s")).fetchall()
                table = view["sectionTables"]["adoption-departments"]["rows"]
                assert [r[0] for r in table] == [d for d, _, _ in by_department], name
                for row, (dep, enrolled, sharing) in zip(table, by_department, strict=True):
                    named = dep in data["dims"]["department"]   # else pooled in the cells: not countable
                    assert row[1:3] == [f"{enrolled:,}", f"{sharing:,}" if named else "–"], (name, dep)
            for (month, enrolled, fresh, rate, active, fresh_here), y_new, y_rate in zip(
                adoption, series["new"]["y"], series["rate"]["y"], strict=True
            ):
                if enrolled is None:   # suppressed in the mart: no figures under any filter
                    assert y_new is None and y_rate is None, (name, month)
                elif name in ("network", "campaign"):
                    assert (y_new, y_rate) == (fresh_here, pytest.approx(active / enrolled)), (name, month)
                else:
                    assert (y_new, y_rate) == (fresh, pytest.approx(rate)), (name, month)
            # Goals: those whose period meets the chosen one, or scoped to the department or
            # network; a campaign does not reach them.
            meets = {
                "period": f"period_start < date '{last}-01' + interval 1 month and period_end > date '{first}-01'",
                "department": f"department = {_literal(department)}",
                "network": f"network = {_literal(network)}",
                "campaign": "true",
            }[name]
            goals = [r[0] for r in con.execute(
                f"select coalesce(title, goal_id) from mart_goal_progress where not is_suppressed and {meets} "
                "order by period_end desc, goal_id limit 20").fetchall()]
            assert view["series"]["chart-goals"]["actual"]["y"] == goals, name
            on_track, running = con.execute(
                "select count(*) filter (where status = 'on_track'), count(*) filter (where status in ('on_track', 'behind')) "
                f"from mart_goal_progress where {meets}").fetchone()
            assert view["kpis"]["goals"]["value"] == f"{on_track} of {running}", name
            # Each filter moves at least one of these tiles and one program-health chart (the
            # test publication's employees post on one network only: there the goals move).
            assert any(view["kpis"][k]["value"] != everything["kpis"][k]["value"] for k in ("emv", "employee_posts", "goals"))
            assert any(view["charts"][c] != everything["charts"][c] for c in PROGRAM_HEALTH), name
            # What a chart cannot split says so, and why; the others follow silently.
            notes = {c: view["notes"][c] for c in PROGRAM_HEALTH + ("chart-value-monthly", "chart-overlap-content")}
            assert notes.pop("chart-goals").startswith("Not filtered by campaign") == (name == "campaign"), name
            voice = notes.pop("chart-share-of-voice")
            assert voice == "" if name == "period" else voice.startswith(f"Not filtered by {name}: audits count"), name
            assert set(notes.values()) == {""}, (name, notes)
            # The share plan: the campaign's and period's newest items, the department's and network's colleagues.
            filters = {"period": {"period": (first, last)}, "department": {"department": department},
                       "network": {"network": network}, "campaign": {"campaign": campaign}}[name]
            assert view["sharePlan"] == _plan_in_sql(con, **filters) | {"note": view["sharePlan"]["note"]}, name
            assert ("cannot be re-cut" in view["sharePlan"]["note"]) == (name in ("department", "network")), name
        assert everything["sharePlan"] == _plan_in_sql(con) | {"note": ""}
        for hash_, view in zip(extra, plan_views, strict=True):
            assert view["sharePlan"] == _plan_in_sql(con, **hash_) | {"note": view["sharePlan"]["note"]}, hash_
            assert view["sharePlan"]["rows"] and view["sharePlan"]["rows"] != everything["sharePlan"]["rows"], hash_
        by_department, by_both = (v["sharePlan"] for v in plan_views)
        assert by_department["items"] == everything["sharePlan"]["items"]   # a department hides rows, keeps items
        assert by_both["items"] != everything["sharePlan"]["items"]          # a campaign picks its own items
        assert f"in {plan_department}" in by_department["note"] and "cannot be re-cut" in by_department["note"]
        # Share of voice follows the period: the audits of those months only.
        audits = con.execute(
            "select count(*), sum(share_of_voice_engagement) from mart_share_of_voice "
            f"where strftime(month_start, '%Y-%m') between {_literal(first)} and {_literal(last)}").fetchone()
    by_period, by_department = views[0], views[1]
    assert by_period["charts"]["chart-share-of-voice"]["values"] == audits[0]
    assert by_period["charts"]["chart-share-of-voice"]["sum"] == pytest.approx(audits[1] or 0)
    # Costs are the program's: under a department the value chart keeps them and says so.
    assert "Cost: the whole program's" in by_department["series"]["chart-value-monthly"]["note"]
    assert {row[5] for row in by_department["sectionTables"]["value-months"]["rows"]} == {"–"}   # no ROI
