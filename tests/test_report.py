"""``reachloop report`` opened in real headless Chromium: every chart drawn, no console errors,
a screenshot kept as an artifact; and the report's privacy rule (small groups suppressed)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from eventlog.settings import Settings
from reports import queries as q
from reports.browser import find_chromium, render_check
from reports.html_report import build_report

pytestmark = pytest.mark.slow

EXPECTED_CHARTS = {
    "chart-reach-month", "chart-reach-spread", "chart-reach-volume", "chart-engagement-week",
    "chart-bubble-week", "chart-overlap-content", "chart-cadence", "chart-funnel",
    "chart-revenue-content", "chart-revenue-department", "chart-deal-paths",
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
    assert "11 charts rendered" in out[1]


def test_report_refuses_without_a_publication(tmp_path: Path) -> None:
    from reachloop.cli import main

    assert main(["--home", str(tmp_path / "empty"), "report"]) == 1


def test_group_figures_stay_suppressed(published: Settings) -> None:
    """Departments below min_group_size never get a figure in the report's queries, and the
    cadence buckets follow the same rule."""
    min_group = q.min_group_size()
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        currency = q.fetch(con, q.CURRENCIES)[0]["currency"]
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
