"""Attribution through real dbt + DuckDB: hand-made landing files for worked textbook cases
and edge cases, landed with ``reachloop land``, built with ``dbt build`` (only what
``mart_lead_to_deal_attribution`` and ``fct_deal_journey`` need), checked row by row.

Every expected number is worked out by hand here, not recomputed with the code under test.
"""

from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.pseudonymize import pseudonym
from reachloop.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attribution_dbt")]

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
KEY = "attribution-test-key"
CREATED = datetime(2025, 6, 1, tzinfo=UTC)  # every scenario deal is created at this instant
HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"
LINKEDIN_BOT_UA = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
SELECT = "+mart_lead_to_deal_attribution +fct_deal_journey +fct_deals"


def at(days_before: float) -> str:
    return (CREATED - timedelta(days=days_before)).isoformat()


def contact(name: str) -> str:
    """The pseudonym landing gives an email (what the marts carry as contact_id)."""
    return pseudonym(f"{name}@example.com", KEY.encode(), email=True)


def write_csv(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with (folder / f"{name}.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


class Landing:
    """Builds a landing folder: contents, shares, clicks, form fills, deals."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {
            k: [] for k in ("employee", "content", "share", "click", "form_fill", "deal")
        }
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:03d}"

    def employee(self, employee_id: str, department: str) -> None:
        self.tables["employee"].append(
            dict(employee_id=employee_id, observed_at="2025-01-01T00:00:00+00:00", network="linkedin",
                 network_size=200, department=department)
        )

    def share(self, share_id: str, author_id: str, content_id: str | None, author_type: str = "employee") -> None:
        if content_id and content_id not in {c["content_id"] for c in self.tables["content"]}:
            self.tables["content"].append(
                dict(content_id=content_id, url=f"https://acme.example/{content_id}",
                     published_at="2025-01-01T00:00:00+00:00", title=content_id)
            )
        self.tables["share"].append(
            dict(share_id=share_id, author_type=author_type, author_id=author_id, network="linkedin",
                 posted_at="2025-01-02T00:00:00+00:00", tracking_token=f"tok-{share_id}",
                 content_id=content_id or "")
        )

    def click(self, visitor: str, share_id: str, days_before: float, ua: str = HUMAN_UA) -> str:
        click_id = self._id("click-")
        self.tables["click"].append(
            dict(click_id=click_id, tracking_token=f"tok-{share_id}", visitor_id=visitor,
                 occurred_at=at(days_before), user_agent=ua)
        )
        return click_id

    def form_fill(self, visitor: str, name: str, days_before: float) -> None:
        self.tables["form_fill"].append(
            dict(submission_id=self._id("sub-"), visitor_id=visitor, email=f"{name}@example.com",
                 form_id="demo-request", occurred_at=at(days_before))
        )

    def deal_event(self, deal_id: str, event: str, days_before: float, **fields) -> None:
        self.tables["deal"].append(
            dict(deal_event_id=self._id("de-"), deal_id=deal_id, event=event, occurred_at=at(days_before),
                 amount=fields.get("amount", ""), currency=fields.get("currency", ""),
                 stage=fields.get("stage", ""),
                 contact_email=f"{fields['contact']}@example.com" if "contact" in fields else "")
        )

    def deal(self, deal_id: str, contact_name: str, amount: str = "3000.00", currency: str = "EUR") -> None:
        self.deal_event(deal_id, "created", 0, amount=amount, currency=currency, stage="qualified",
                        contact=contact_name)

    def write(self, folder: Path) -> Path:
        for name, rows in self.tables.items():
            if rows:
                write_csv(folder, name, rows)
        return folder


def main_scenario() -> Landing:
    """The worked cases. Deal ids say what each one exercises."""
    land = Landing()
    for e, dept in (("e1", "Sales"), ("e2", "Marketing"), ("e3", "Sales")):
        land.employee(e, dept)
    land.share("s1", "e1", "c1")
    land.share("s2", "e2", "c2")
    land.share("s3", "e1", "c3")
    land.share("s4", "e3", None)  # an own post, no company content

    # three touches, 10, 5 and 1 day before creation
    land.form_fill("v-three", "three", 20)
    for share, days in (("s1", 10), ("s2", 5), ("s3", 1)):
        land.click("v-three", share, days)
    land.deal("three-touches", "three")

    # two touches; won
    land.form_fill("v-two", "two", 20)
    land.click("v-two", "s1", 3)
    land.click("v-two", "s2", 2)
    land.deal("two-touches", "two", amount="1000.00")
    land.deal_event("two-touches", "closed_won", -10, stage="won")

    # one touch; lost
    land.form_fill("v-one", "one", 20)
    land.click("v-one", "s2", 1)
    land.deal("one-touch-lost", "one", amount="500.00")
    land.deal_event("one-touch-lost", "closed_lost", -5, stage="lost")

    # the same share clicked twice: two touches
    land.form_fill("v-same", "same", 20)
    land.click("v-same", "s1", 4)
    land.click("v-same", "s1", 2)
    land.deal("same-share-twice", "same")

    # two contacts: the second one added after creation still brings its earlier touch
    land.form_fill("v-alice", "alice", 20)
    land.form_fill("v-bob", "bob", 20)
    land.click("v-alice", "s1", 6)
    land.click("v-bob", "s3", 2)
    land.deal("two-contacts", "alice")
    land.deal_event("two-contacts", "contact_added", -3, contact="bob")

    # one contact on two devices (filled a form from each)
    land.form_fill("v-laptop", "devices", 20)
    land.form_fill("v-phone", "devices", 15)
    land.click("v-laptop", "s2", 8)
    land.click("v-phone", "s3", 3)
    land.deal("two-devices", "devices")

    # only a link previewer clicked: unattributed, but its journey shows the bot click
    land.form_fill("v-bot", "botonly", 20)
    land.click("v-bot", "s1", 2, ua=LINKEDIN_BOT_UA)
    land.deal("bot-only", "botonly")

    # one click before the 90-day window, one in it, one after creation (journey only)
    land.form_fill("v-window", "window", 120)
    land.click("v-window", "s1", 100)
    land.click("v-window", "s2", 1)
    land.click("v-window", "s3", -2)
    land.deal("window", "window")

    # amount changed before close: the latest amount (1000.00) is what gets attributed;
    # three linear thirds of 1000.00 must still add up to 1000.00 exactly
    land.form_fill("v-amount", "amount", 20)
    for share, days in (("s1", 3), ("s2", 2), ("s4", 1)):
        land.click("v-amount", share, days)
    land.deal("amount-changed", "amount", amount="800.00")
    land.deal_event("amount-changed", "amount_changed", -1, amount="1000.00")
    land.deal_event("amount-changed", "closed_won", -2, stage="won")

    # a lead that never became a deal (a non-converting journey for markov)
    land.form_fill("v-lead", "lead", 20)
    land.click("v-lead", "s2", 30)
    return land


def markov_scenario() -> Landing:
    """The chain solved by hand in test_markov_through_dbt: content c1 is A, c2 is B.
    Journeys: A→B→conversion, A→null, B→conversion, B→null."""
    land = Landing()
    land.share("sa", "e1", "c1")
    land.share("sb", "e2", "c2")
    land.form_fill("v-x", "x", 20)
    land.click("v-x", "sa", 5)
    land.click("v-x", "sb", 2)
    land.deal("deal-ab", "x")
    land.form_fill("v-y", "y", 20)
    land.click("v-y", "sb", 2)
    land.deal("deal-b", "y")
    land.form_fill("v-lead-a", "leada", 20)
    land.click("v-lead-a", "sa", 9)
    land.form_fill("v-lead-b", "leadb", 20)
    land.click("v-lead-b", "sb", 9)
    return land


def dbt_build(home: Path, select: str = SELECT, *extra: str) -> None:
    env = {**os.environ, "REACHLOOP_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [str(dbt), "build", "--select", *select.split(), "--profiles-dir", str(DBT_PROJECT),
             "--target-path", f"{tmp}/target", "--log-path", f"{tmp}/logs", *extra],
            cwd=DBT_PROJECT, env=env, capture_output=True, text=True,
        )
    assert result.returncode == 0, result.stdout[-4000:]


def land_and_build(landing: Landing, root: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Path:
    home = root / "home"
    folder = landing.write(root / "landing")
    old = {k: os.environ.get(k) for k in ("REACHLOOP_HOME", "REACHLOOP_PII_KEY")}
    os.environ.update(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY)
    try:
        assert main(["land", str(folder)]) == 0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    dbt_build(home)
    return home


@functools.cache
def built_main_scenario() -> Path:
    """The main scenario, landed and built once per process (test_trace reuses it)."""
    root = Path(tempfile.mkdtemp(prefix="attribution-"))
    return land_and_build(main_scenario(), root)


@pytest.fixture(scope="module")
def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(built_main_scenario() / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def credits(con: duckdb.DuckDBPyConnection, deal_id: str, model: str) -> list[float]:
    rows = con.execute(
        "select credit from marts.mart_lead_to_deal_attribution where deal_id = ? and model = ?"
        " order by touch_number",
        [deal_id, model],
    ).fetchall()
    return [r[0] for r in rows]


def test_three_touches_textbook(warehouse) -> None:
    assert credits(warehouse, "three-touches", "first_touch") == [1, 0, 0]
    assert credits(warehouse, "three-touches", "last_touch") == [0, 0, 1]
    assert credits(warehouse, "three-touches", "linear") == pytest.approx([1 / 3] * 3)
    assert credits(warehouse, "three-touches", "position_based") == pytest.approx([0.4, 0.2, 0.4])
    # time decay, half-life 7 days: weights 2^(-10/7), 2^(-5/7), 2^(-1/7), normalized
    weights = [2 ** (-10 / 7), 2 ** (-5 / 7), 2 ** (-1 / 7)]
    assert credits(warehouse, "three-touches", "time_decay") == pytest.approx(
        [w / sum(weights) for w in weights], rel=1e-12
    )


def test_two_touches_and_one_touch(warehouse) -> None:
    assert credits(warehouse, "two-touches", "position_based") == pytest.approx([0.5, 0.5])
    assert credits(warehouse, "two-touches", "linear") == pytest.approx([0.5, 0.5])
    for model in ("first_touch", "last_touch", "linear", "position_based", "time_decay", "markov"):
        assert credits(warehouse, "one-touch-lost", model) == pytest.approx([1.0]), model


def test_credits_sum_to_one_for_every_attributed_deal_and_model(warehouse) -> None:
    rows = warehouse.execute(
        "select deal_id, model, sum(credit), count(*) from marts.mart_lead_to_deal_attribution group by all"
    ).fetchall()
    assert {r[1] for r in rows} == {"first_touch", "last_touch", "linear", "position_based", "time_decay", "markov"}
    assert all(abs(r[2] - 1) < 1e-12 for r in rows), rows


def test_same_share_twice_is_two_touches(warehouse) -> None:
    rows = warehouse.execute(
        "select share_id, credit from marts.mart_lead_to_deal_attribution"
        " where deal_id = 'same-share-twice' and model = 'linear' order by touch_number"
    ).fetchall()
    assert rows == [("s1", pytest.approx(0.5)), ("s1", pytest.approx(0.5))]


def test_two_contacts_and_two_devices_form_one_path(warehouse) -> None:
    for deal_id, shares, contacts in (
        ("two-contacts", ["s1", "s3"], [contact("alice"), contact("bob")]),
        ("two-devices", ["s2", "s3"], [contact("devices"), contact("devices")]),
    ):
        rows = warehouse.execute(
            "select share_id, contact_id from marts.mart_lead_to_deal_attribution"
            " where deal_id = ? and model = 'first_touch' order by touch_number",
            [deal_id],
        ).fetchall()
        assert rows == list(zip(shares, contacts, strict=True)), deal_id
        assert credits(warehouse, deal_id, "first_touch") == [1, 0]


def test_bot_only_deal_is_unattributed_but_visible(warehouse) -> None:
    assert credits(warehouse, "bot-only", "linear") == []
    deal = warehouse.execute(
        "select is_attributed, touches from marts.fct_deals where deal_id = 'bot-only'"
    ).fetchone()
    assert deal == (False, 0)
    steps = warehouse.execute(
        "select step_type, detail from marts.fct_deal_journey where deal_id = 'bot-only' order by step_number"
    ).fetchall()
    assert [s[0] for s in steps] == ["share", "form_fill", "click", "deal_event"]
    assert "bot" in steps[2][1] and "link_preview" in steps[2][1]


def test_touch_window(warehouse) -> None:
    rows = warehouse.execute(
        "select share_id, credit from marts.mart_lead_to_deal_attribution"
        " where deal_id = 'window' and model = 'linear'"
    ).fetchall()
    assert rows == [("s2", 1.0)]  # s1 was 100 days before, s3 after creation
    clicks = warehouse.execute(
        "select share_id, touch_number from marts.fct_deal_journey"
        " where deal_id = 'window' and step_type = 'click' order by step_at"
    ).fetchall()
    assert clicks == [("s1", None), ("s2", 1), ("s3", None)]


def test_amount_changed_before_close_and_cents_add_up(warehouse) -> None:
    rows = warehouse.execute(
        "select attributed_amount, currency, deal_status from marts.mart_lead_to_deal_attribution"
        " where deal_id = 'amount-changed' and model = 'linear' order by touch_number"
    ).fetchall()
    amounts = [r[0] for r in rows]
    assert sorted(str(a) for a in amounts) == ["333.33", "333.33", "333.34"]
    assert sum(amounts) == 1000  # Decimal: exact
    assert {(r[1], r[2]) for r in rows} == {("EUR", "won")}
    exact = warehouse.execute(
        "select count(*) from (select deal_id, model, sum(attributed_amount) s, any_value(deal_amount) a"
        " from marts.mart_lead_to_deal_attribution group by all) where s <> a"
    ).fetchone()[0]
    assert exact == 0


def test_deal_status_folded_from_events(warehouse) -> None:
    rows = dict(warehouse.execute("select deal_id, status from marts.fct_deals").fetchall())
    assert rows["two-touches"] == "won"
    assert rows["one-touch-lost"] == "lost"
    assert rows["three-touches"] == "open"
    assert warehouse.execute(
        "select distinct deal_status from marts.mart_lead_to_deal_attribution where deal_id = 'one-touch-lost'"
    ).fetchall() == [("lost",)]


def test_markov_through_dbt(tmp_path: Path) -> None:
    """Hand-solved chain. Transitions: start→A 2, start→B 2, A→B 1, A→null 1, B→conv 2,
    B→null 1. x_B = 2/3, x_A = 1/2·x_B = 1/3, P = 1/2·1/3 + 1/2·2/3 = 1/2.
    Without A: P = 1/2·x_B = 1/3 → removal effect 1 − (1/3)/(1/2) = 1/3.
    Without B: nothing converts → removal effect 1.
    deal-ab (A then B): A gets (1/3)/(1/3 + 1) = 1/4, B gets 3/4; deal-b: B gets 1."""
    home = land_and_build(markov_scenario(), tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        effects = dict(
            con.execute("select state, removal_effect from intermediate.int_markov_removal_effects").fetchall()
        )
        assert effects == {"content:c1": pytest.approx(1 / 3), "content:c2": pytest.approx(1.0)}
        assert credits(con, "deal-ab", "markov") == pytest.approx([1 / 4, 3 / 4])
        assert credits(con, "deal-b", "markov") == pytest.approx([1.0])
