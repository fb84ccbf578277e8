"""Currencies, earned media value, cost and ROI through real landing, dbt, DuckDB and gate 2:
a hand-made landing (exchange rates, media rates, costs, shares with metrics, won and open
deals in six currencies), landed with ``reachloop land``, built with dbt, checked row by row.

Every expected number is worked out by hand in the comments, not recomputed with the code
under test. Reporting currency USD (the default). Deals are created on 2025-06-01.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from builds.dbt_build import invoke_dbt, manifest_path, project_args
from builds.gates import run_gate_2
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from reachloop.cli import main
from tests.helpers import environ
from tests.scenarios import KEY, Landing

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("value_dbt")]

VALUE_SELECT = ["+mart_program_value", "+mart_currency_conversions", "+mart_attribution_rollups", "+fct_deal_journey"]

# 1 unit of from = rate units of to.
FX_RATES = [
    ("EUR", "USD", "1.05", "2024-11-30T12:00:00Z"),
    ("EUR", "USD", "1.10", "2025-05-01T12:00:00Z"),
    ("EUR", "USD", "1.20", "2025-06-05T12:00:00Z"),
    ("EUR", "USD", "1.25", "2025-06-20T12:00:00Z"),
    ("USD", "GBP", "0.80", "2025-05-01T12:00:00Z"),  # GBP only the other way round: 1 GBP = 1.25 USD
    ("SEK", "EUR", "0.09", "2025-05-01T12:00:00Z"),  # SEK only against EUR: a cross rate via EUR
    ("JPY", "USD", "0.0070", "2025-06-10T12:00:00Z"),  # both ways at one instant: the direct one wins
    ("USD", "JPY", "150", "2025-06-10T12:00:00Z"),
]
MEDIA_RATES = [
    ("linkedin", "cpm", "30.00", "USD", "2024-12-01T00:00:00Z"),
    ("linkedin", "cpm", "40.00", "USD", "2025-01-02T00:00:00Z"),  # exactly when s1–s3 are posted
    ("linkedin", "cpc", "5.00", "USD", "2024-12-01T00:00:00Z"),
    ("linkedin", "engagement", "2.00", "EUR", "2024-12-01T00:00:00Z"),  # × 1.05 (2024-11-30) = 2.10 USD
]
COSTS = [
    ("lic-jun", "2025-06-01T00:00:00Z", "2025-06-30T00:00:00Z", "3000.00", "USD", "licence"),  # 100/day
    # 30 days (May 17–June 15) of 20 GBP = 25 USD: May 15 days = 375, June 15 days = 375
    ("people", "2025-05-17T00:00:00Z", "2025-06-15T00:00:00Z", "600.00", "GBP", "people"),
    ("kickoff", "2025-05-20T09:00:00Z", "2025-05-20T17:00:00Z", "200.00", "EUR", "events"),  # × 1.10 = 220
    ("nothing-in-july", "2025-07-01T00:00:00Z", "2025-07-31T00:00:00Z", "0.00", "USD", "other"),
]
# Rows the contract quarantines, each with its reason.
BAD_ROWS = {
    "fx_rate": [
        ({"from_currency": "EUR", "to_currency": "USD", "rate": "-1.1", "observed_at": "2025-03-01T00:00:00Z"}, "out_of_range"),
        ({"from_currency": "EUR", "to_currency": "USD", "rate": "0", "observed_at": "2025-03-02T00:00:00Z"}, "out_of_range"),
        ({"from_currency": "XYZ", "to_currency": "USD", "rate": "2", "observed_at": "2025-03-03T00:00:00Z"}, "invalid_currency"),
    ],
    "media_rate": [
        ({"network": "linkedin", "metric": "cpa", "amount": "9.00", "currency": "USD", "observed_at": "2025-03-01T00:00:00Z"}, "invalid_enum"),
    ],
    "program_cost": [
        ({"cost_id": "neg", "period_start": "2025-03-01T00:00:00Z", "period_end": "2025-03-31T00:00:00Z",
          "amount": "-5.00", "currency": "USD", "category": "licence"}, "out_of_range"),
        ({"cost_id": "backwards", "period_start": "2025-03-31T00:00:00Z", "period_end": "2025-03-01T00:00:00Z",
          "amount": "5.00", "currency": "USD", "category": "licence"}, "out_of_range"),
    ],
}


def value_scenario() -> Landing:
    land = Landing()
    land.employee("e1", "Sales")
    land.employee("e2", "Marketing")
    land.share("s1", "e1", "c1")
    land.share("s2", "e2", "c2")
    land.share("s3", "e1", "c3")
    land.tables["share"].append(
        dict(share_id="s5", author_type="employee", author_id="e2", network="linkedin",
             posted_at="2025-06-10T00:00:00+00:00", tracking_token="tok-s5", content_id="c2")
    )
    land.tables["share"].append(  # no media rate on twitter: no EMV, said so
        dict(share_id="s6", author_type="employee", author_id="e2", network="twitter",
             posted_at="2025-06-11T00:00:00+00:00", tracking_token="tok-s6", content_id="c2")
    )
    land.tables["share_metrics"] = [
        dict(share_id=s, observed_at="2025-07-01T00:00:00Z", impressions=i, reactions=r, comments=c,
             reshares=rs, clicks=k)
        for s, i, r, c, rs, k in (
            ("s1", 2500, 10, 4, 1, 30),
            ("s2", 1000, 5, 0, 0, 2),
            ("s5", 500, 0, 0, 0, 1),
            ("s6", 800, 3, 0, 0, 4),
        )
    ]
    # Won and open deals: (deal, amount, currency, shares touched, days from creation to close)
    for deal_id, amount, currency, shares, closed in (
        ("won-eur", "1000.00", "EUR", ["s1", "s2"], 4.5),  # closes 2025-06-05T12:00Z, the 1.20 quote's instant
        ("won-gbp", "333.33", "GBP", ["s1", "s2", "s3"], 10),
        ("won-sek", "10000.00", "SEK", ["s1"], 10),
        ("won-jpy", "100000.00", "JPY", ["s2"], 10),
        ("won-usd", "200.00", "USD", ["s3"], 10),
        ("won-chf", "500.00", "CHF", ["s1"], 70),  # no CHF rate at all: August, unconverted
        ("open-eur", "3000.00", "EUR", ["s2"], None),
    ):
        land.form_fill(f"v-{deal_id}", deal_id, 20)
        for n, share in enumerate(shares):
            land.click(f"v-{deal_id}", share, 3 - n)
        land.deal(deal_id, deal_id, amount=amount, currency=currency)
        if closed is not None:
            land.deal_event(deal_id, "closed_won", -closed, stage="won")
    land.tables["fx_rate"] = [dict(zip(("from_currency", "to_currency", "rate", "observed_at"), r, strict=True))
                              for r in FX_RATES]
    land.tables["media_rate"] = [
        dict(zip(("network", "metric", "amount", "currency", "observed_at"), r, strict=True)) for r in MEDIA_RATES
    ]
    land.tables["program_cost"] = [
        dict(zip(("cost_id", "period_start", "period_end", "amount", "currency", "category"), r, strict=True))
        for r in COSTS
    ]
    for event_type, rows in BAD_ROWS.items():
        land.tables[event_type] += [row for row, _ in rows]
    return land


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("value")
    home = root / "home"
    folder = value_scenario().write(root / "landing")
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY):
        assert main(["land", str(folder)]) == 0
    settings = Settings(home)
    result = invoke_dbt(settings, ["build", "--select", *VALUE_SELECT, "--indirect-selection", "cautious",
                                   *project_args(settings)])
    assert result.success, result.exception
    return home


@pytest.fixture
def con(home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_bad_rates_and_costs_are_quarantined_with_reasons(con) -> None:
    got = sorted(rows(con, "select event_type, reason from meta.quarantine"))
    assert got == sorted((t, reason) for t, bad in BAD_ROWS.items() for _, reason in bad)


def test_deal_amounts_in_the_reporting_currency(con) -> None:
    got = {r[0]: r[1:] for r in rows(con, "select deal_id, amount_reporting::double, fx_rate, reporting_currency from marts.fct_deals")}
    assert got["won-eur"] == (pytest.approx(1200.00), pytest.approx(1.20), "USD")  # at or before: the quote at the close
    assert got["won-gbp"] == (pytest.approx(416.66), pytest.approx(1.25), "USD")  # 333.33 ÷ 0.80 = 416.6625
    assert got["won-sek"] == (pytest.approx(1080.00), pytest.approx(0.108), "USD")  # 0.09 × 1.20
    assert got["won-jpy"] == (pytest.approx(700.00), pytest.approx(0.0070), "USD")  # not 100000 ÷ 150
    assert got["won-usd"] == (pytest.approx(200.00), 1.0, "USD")
    assert got["won-chf"] == (None, None, "USD")  # kept, unconverted
    assert got["open-eur"] == (pytest.approx(3750.00), pytest.approx(1.25), "USD")  # open: the latest rate


def test_conversions_name_every_gap(con) -> None:
    bases = dict(rows(con, "select source_id, fx_basis from marts.mart_currency_conversions where source = 'deal'"))
    assert bases == {"won-eur": "direct", "won-gbp": "inverse", "won-sek": "cross via EUR", "won-jpy": "direct",
                     "won-usd": "same", "won-chf": None, "open-eur": "direct"}
    gaps = rows(con, "select source, source_id, currency, strftime(fx_at, '%Y-%m-%d') from marts.mart_currency_conversions"
                     " where fx_rate is null")
    assert gaps == [("deal", "won-chf", "CHF", "2025-08-10")]


def test_attributed_amounts_in_the_reporting_currency_add_up_to_the_cent(con) -> None:
    got = rows(con, "select attributed_amount, attributed_amount_reporting, reporting_currency"
                    " from marts.mart_lead_to_deal_attribution where deal_id = 'won-gbp' and model = 'linear'"
                    " order by touch_number")
    # 333.33 GBP in thirds: 111.11 each; 416.66 USD in thirds: 138.8866…, the two cents left go
    # to the first two touches (equal remainders: touch order)
    assert [(float(a), float(b), c) for a, b, c in got] == [(111.11, 138.89, "USD"), (111.11, 138.89, "USD"),
                                                            (111.11, 138.88, "USD")]


def test_rollups_keep_each_currency_and_its_reporting_twin(con) -> None:
    got = {r[0]: r[1:] for r in rows(
        con, "select currency, won_revenue, won_revenue_reporting, open_pipeline_reporting from marts.mart_attribution_rollups"
             " where dimension = 'month' and group_key = '2025-05-01' and model = 'linear'")}
    assert {c: (float(w), None if r is None else float(r), float(o)) if o is not None else (float(w), r, o)
            for c, (w, r, o) in got.items()} == {
        "EUR": (1000.00, 1200.00, 3750.00),
        "GBP": (333.33, 416.66, 0.0),
        "SEK": (10000.00, 1080.00, 0.0),
        "JPY": (100000.00, 700.00, 0.0),
        "USD": (200.00, 200.00, 0.0),
        "CHF": (500.00, None, 0.0),  # the unconverted deal makes its group's total unknown, not smaller
    }


def test_earned_media_value_per_share(con) -> None:
    got = {r[0]: r[1:] for r in rows(
        con, "select share_id, emv_impressions, emv_clicks, emv_engagements, emv, components_valued"
             " from marts.mart_share_value")}
    # s1: 2500 ÷ 1000 × 40 (the quote of its very instant) = 100; 30 × 5 = 150; (10+4+1) × 2.10 = 31.50
    assert got["s1"] == pytest.approx((100.0, 150.0, 31.5, 281.5, 3))
    # s2: 1000 ÷ 1000 × 40 = 40; 2 × 5 = 10; 5 × 2.10 = 10.50
    assert got["s2"] == pytest.approx((40.0, 10.0, 10.5, 60.5, 3))
    # s3: no metrics snapshot: nothing seen, worth 0 (rates known)
    assert got["s3"] == pytest.approx((0.0, 0.0, 0.0, 0.0, 3))
    # s5 (June): 500 ÷ 1000 × 40 = 20; 1 × 5 = 5
    assert got["s5"] == pytest.approx((20.0, 5.0, 0.0, 25.0, 3))
    # s6 on twitter: no media rate, no estimate
    assert got["s6"] == (None, None, None, None, 0)


def test_monthly_cost_and_roi(con) -> None:
    got = {r[0]: r[1:] for r in rows(
        con, "select group_key, emv, won_revenue_reporting, cost_reporting, roi, revenue_roi from marts.mart_program_value"
             " where dimension = 'month' and model = 'linear'")}
    # January: s1–s3 posted, 281.5 + 60.5 + 0 of EMV; no cost, so no ROI (never infinite)
    assert got["2025-01-01"] == (pytest.approx(342.0), 0, 0, None, None)
    # May: 15 days × 25 (people) + 220 (kickoff) = 595 of cost, nothing won
    assert got["2025-05-01"] == (0, 0, pytest.approx(595.0), pytest.approx(-1.0), pytest.approx(-1.0))
    # June: won 1200 + 416.66 + 1080 + 700 + 200 = 3596.66; EMV 25 (s5; s6 has none);
    # cost 3000 + 15 × 25 = 3375: roi = (3596.66 + 25 − 3375) ÷ 3375, revenue_roi without the 25
    emv, won, cost, roi, revenue_roi = got["2025-06-01"]
    assert (emv, float(won), float(cost)) == (pytest.approx(25.0), 3596.66, 3375.0)
    assert roi == pytest.approx(246.66 / 3375, rel=1e-9)
    assert revenue_roi == pytest.approx(221.66 / 3375, rel=1e-9)
    # July: a cost of 0: ROI null, not infinite
    assert got["2025-07-01"] == (0, 0, 0, None, None)
    # August: the CHF deal has no rate: revenue unknown, ROI unknown (no cost either)
    assert got["2025-08-01"][1] is None


def test_value_by_employee_network_and_model(con) -> None:
    got = {r[0]: r[1:] for r in rows(
        con, "select group_key, shares, emv, won_revenue_reporting, cost_reporting, roi from marts.mart_program_value"
             " where dimension = 'employee' and model = 'first_touch'")}
    # first touch: e1's s1 opens won-eur, won-gbp, won-sek, won-chf (unknown: null); e2's s2 opens won-jpy; e1's s3 won-usd
    assert got["e1"][:3] == (2, pytest.approx(281.5), None)
    assert got["e2"][:3] == (3, pytest.approx(85.5), 700)
    assert all(r[3] is None and r[4] is None for r in got.values())  # cost is not split by employee
    networks = dict(rows(con, "select group_key, shares_valued from marts.mart_program_value"
                              " where dimension = 'network' and model = 'linear'"))
    assert networks == {"linkedin": 4, "twitter": 0}
    models = {r[0] for r in rows(con, "select distinct model from marts.mart_program_value")}
    assert models == {"first_touch", "last_touch", "linear", "position_based", "time_decay", "markov", "shapley"}


def test_trace_shows_both_currencies_and_the_rate(home: Path, capsys) -> None:
    with environ(REACHLOOP_HOME=str(home)):
        assert main(["trace", "won-gbp"]) == 0
        text = capsys.readouterr().out
        assert "333.33 GBP = 416.66 USD at 1.25 (the close)" in text.splitlines()[0]
        assert "attributed amount per touch (USD):" in text and "linear 138.89" in text
        assert main(["trace", "won-chf"]) == 0
        assert "500.00 CHF (no USD rate for CHF at the close)" in capsys.readouterr().out
        assert main(["trace", "won-usd", "--json"]) == 0
        assert '"attributed_amount_reporting": "200.00"' in capsys.readouterr().out


def test_gate_2_warns_about_a_missing_rate_naming_currency_and_date(home: Path) -> None:
    settings = Settings(home)
    # The dbt build here made only the value and attribution marts: without its run results, gate 2
    # checks what the marts' yml declares rather than ask for the tests of marts it left out.
    (manifest_path(settings).parent / "run_results.json").unlink(missing_ok=True)
    with warehouse(settings) as con:
        report = run_gate_2(con, settings, "value-build")
    assert report.outcome == "warned", [r.describe() for r in report.failures]
    (gap,) = [r for r in report.warnings if r.target == "mart_currency_conversions"]
    assert gap.examples[0]["currency"] == "CHF" and gap.examples[0]["fx_at"].startswith("2025-08-10")
    assert "CHF" in gap.describe()


def _built_after(tmp_path: Path, later: Landing) -> tuple[set[str], list[tuple], list[tuple]]:
    """The value scenario landed and built, then ``later`` landed and built incrementally: the
    deals whose mart_lead_to_deal_attribution rows that build wrote, the mart's rows (without
    the bookkeeping column), and the same after a full rebuild."""
    home = tmp_path / "home"
    select = ["build", "--select", "+mart_lead_to_deal_attribution", "--indirect-selection", "cautious"]

    def mart() -> tuple[set[str], list[tuple]]:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            written = {r[0] for r in rows(
                con, "select deal_id from marts.mart_lead_to_deal_attribution where log_position_through"
                     " = (select max(log_position_through) from marts.mart_lead_to_deal_attribution)")}
            # credits rounded: a re-credit within 1e-12 of the stored credit is not written
            # (int_touches_credited), and a full rebuild may sum in another order
            figures = rows(con, "select * exclude (log_position_through) replace (round(credit, 9) as credit)"
                                " from marts.mart_lead_to_deal_attribution order by all")
        return written, figures

    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY):
        assert main(["land", str(value_scenario().write(tmp_path / "first"))]) == 0
        settings = Settings(home)
        assert invoke_dbt(settings, [*select, *project_args(settings)]).success
        assert main(["land", str(later.write(tmp_path / "later"))]) == 0
        assert invoke_dbt(settings, [*select, *project_args(settings)]).success
        written, incremental = mart()
        assert invoke_dbt(settings, [*select, "--full-refresh", *project_args(settings)]).success
        _, full = mart()
    return written, incremental, full


def test_a_new_rate_reconverts_only_the_deals_it_reaches(tmp_path: Path) -> None:
    """mart_lead_to_deal_attribution is incremental by deal and finds the deals whose
    conversion moved by comparing: a later EUR quote (in force at the build for the open EUR
    deal) and a corrected version of the quote won-eur closed at (won-sek's cross rate goes
    through it too), landed alone, rewrite those three deals' rows — no deal event, click or
    credit names them — and the result is what a full rebuild gives."""
    later = Landing()
    later.tables["fx_rate"] = [
        dict(from_currency="EUR", to_currency="USD", rate="1.30", observed_at="2025-09-01T00:00:00Z"),
        dict(from_currency="EUR", to_currency="USD", rate="1.22", observed_at="2025-06-05T12:00:00Z"),
    ]
    written, incremental, full = _built_after(tmp_path, later)
    assert written == {"open-eur", "won-eur", "won-sek"}
    assert incremental == full
    linear = sorted((r[0], float(r[17]), float(r[18]), float(r[19])) for r in incremental
                    if r[1] == "linear" and r[0] in written)
    # open-eur: 3000 EUR × 1.30 (the quote now in force), one touch; won-eur: 1000 EUR × 1.22
    # (the corrected quote of its close), two touches of 610.00; won-sek (closed June 11, after
    # the corrected quote): 10000 SEK × 0.09 × 1.22 = 1098.00, one touch
    assert linear == [("open-eur", 1.30, 3900.00, 3900.00), ("won-eur", 1.22, 1220.00, 610.00),
                      ("won-eur", 1.22, 1220.00, 610.00), ("won-sek", pytest.approx(0.1098), 1098.00, 1098.00)]


def test_a_deal_whose_contact_lost_every_click_leaves_the_attribution(tmp_path: Path) -> None:
    """won-usd's one contact filled the form from one visitor: a new version of that form fill
    under another email leaves the deal without a visitor, hence without any click — no deal
    event changed and no row of the deal's clicks is left to say so — and its rows go."""
    (fill,) = [f for f in value_scenario().tables["form_fill"] if f["visitor_id"] == "v-won-usd"]
    later = Landing()
    later.tables["form_fill"] = [fill | {"email": "someone-else@example.com"}]
    written, incremental, full = _built_after(tmp_path, later)
    assert incremental == full
    deals = {r[0] for r in incremental}
    assert "won-usd" not in deals and {"won-eur", "won-gbp", "open-eur"} <= deals


def test_another_reporting_currency(home: Path) -> None:
    """Reporting in EUR: USD is the inverse of EUR → USD, and GBP a cross rate through USD of
    two inverted quotes. (Rebuilds two models: keep this test last in the module.)"""
    settings = Settings(home)
    result = invoke_dbt(settings, ["build", "--select", "int_fx_rates_to_reporting", "int_deal_amounts_converted",
                                   "--vars", '{"reporting_currency": "EUR"}', *project_args(settings)])
    assert result.success, result.exception
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        got = {r[0]: r[1:] for r in rows(con, "select deal_id, amount_reporting::double, fx_basis from intermediate.int_deal_amounts_converted")}
    assert got["won-usd"] == (pytest.approx(166.67), "inverse")  # 200 ÷ 1.20 = 166.666…
    assert got["won-eur"] == (pytest.approx(1000.00), "same")
    # 333.33 GBP × (1 ÷ 0.80) × (1 ÷ 1.20) = 347.21875
    assert got["won-gbp"] == (pytest.approx(347.22), "cross via USD")
    assert got["won-sek"] == (pytest.approx(900.00), "direct")
