"""Scenarios that several test modules build on.

- The hand-made attribution landing (``Landing``, ``main_scenario``, ``markov_scenario``,
  ``shapley_scenario``, ``conversion_scenario``, ``textbook_scenario``): worked textbook
  cases and edge cases, landed with ``reachloop land`` and built with ``dbt build`` (only what
  ``mart_lead_to_deal_attribution`` and ``fct_deal_journey`` need, unless told otherwise).
  Every expected number in the tests that use them is worked out by hand, not recomputed with
  the code under test.
- The published build: generate SF0.05 (seed 7), then ``reachloop run``.

The fixtures that build them once per test session are in conftest.py.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventlog.settings import Settings
from ingestion.pseudonymize import pseudonym
from reachloop.cli import main
from tests.helpers import ATTRIBUTION_SELECT, TEST_PII_KEY, build_once, dbt_build, environ, write_csv

KEY = "attribution-test-key"
CREATED = datetime(2025, 6, 1, tzinfo=UTC)  # every scenario deal is created at this instant
HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"
LINKEDIN_BOT_UA = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"


def at(days_before: float) -> str:
    return (CREATED - timedelta(days=days_before)).isoformat()


def contact(name: str) -> str:
    """The pseudonym landing gives an email (what the marts carry as contact_id)."""
    return pseudonym(f"{name}@example.com", KEY.encode(), email=True)


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

    def share(
        self, share_id: str, author_id: str, content_id: str | None, author_type: str = "employee", *,
        network: str = "linkedin", posted_at: str = "2025-01-02T00:00:00+00:00", campaign: str | None = None,
    ) -> None:
        if content_id and content_id not in {c["content_id"] for c in self.tables["content"]}:
            self.tables["content"].append(
                dict(content_id=content_id, url=f"https://acme.example/{content_id}",
                     published_at="2025-01-01T00:00:00+00:00", title=content_id,
                     **({"campaign": campaign} if campaign else {}))
            )
        self.tables["share"].append(
            dict(share_id=share_id, author_type=author_type, author_id=author_id, network=network,
                 posted_at=posted_at, tracking_token=f"tok-{share_id}",
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


SEGMENTS_SELECT = (
    "+mart_attribution_segments +mart_attribution_funnel_segments +mart_deal_segments +mart_attribution_funnel"
    " +mart_attribution_rollups"
)


def segments_scenario() -> Landing:
    """Attribution cut by the report's filters (tests/test_attribution_segments.py), built with
    min_group_size 2: Sales (e1, e2) and Marketing (e3, e4) have two sharers each and are named;
    Legal (e5) has one and is pooled under '(other departments)'. Posts, in segments (month,
    department, network, campaign):

      s1  e1  c1  2025-03 Sales       linkedin launch
      s4  e2  —   2025-04 Sales       linkedin (no campaign)   own post
      s2  e3  c2  2025-04 Marketing   twitter  webinar
      s5  e4  c2  2025-03 Marketing   linkedin webinar         never clicked
      s3  e5  c1  2025-04 (other)     linkedin launch
      p1  page c3 2025-03 (company page) linkedin (no campaign)

    Deals (USD, so the reporting amount is the amount): won-a 1000.00 won, touched s1 then s2;
    open-b 600.00 open, touched s3, p1, s1; won-c 300.00 won, touched s1 then s4. A lead (d)
    clicks s2 without a deal, and a bot clicks s2."""
    land = Landing()
    for e, dept in (("e1", "Sales"), ("e2", "Sales"), ("e3", "Marketing"), ("e4", "Marketing"), ("e5", "Legal")):
        land.employee(e, dept)
    land.share("s1", "e1", "c1", posted_at="2025-03-10T09:00:00+00:00", campaign="launch")
    land.share("s4", "e2", None, posted_at="2025-04-02T09:00:00+00:00")
    land.share("s2", "e3", "c2", network="twitter", posted_at="2025-04-05T09:00:00+00:00", campaign="webinar")
    land.share("s5", "e4", "c2", posted_at="2025-03-20T09:00:00+00:00", campaign="webinar")
    land.share("s3", "e5", "c1", posted_at="2025-04-20T09:00:00+00:00", campaign="launch")
    land.share("p1", "acme", "c3", author_type="page", posted_at="2025-03-15T09:00:00+00:00")
    for name in ("a", "b", "c", "d"):
        land.form_fill(f"v-{name}", name, 40)
    land.click("v-a", "s1", 10)
    land.click("v-a", "s2", 5)
    land.deal("won-a", "a", amount="1000.00", currency="USD")
    land.deal_event("won-a", "closed_won", -1, stage="won")
    land.click("v-b", "s3", 4)
    land.click("v-b", "p1", 2)
    land.click("v-b", "s1", 1)
    land.deal("open-b", "b", amount="600.00", currency="USD")
    land.click("v-c", "s1", 3)
    land.click("v-c", "s4", 2)
    land.deal("won-c", "c", amount="300.00", currency="USD")
    land.deal_event("won-c", "closed_won", -1, stage="won")
    land.click("v-d", "s2", 6)
    land.click("v-crawler", "s2", 6, ua=LINKEDIN_BOT_UA)
    return land


def markov_scenario() -> Landing:
    """The chain solved by hand in test_attribution_dbt.test_markov_through_dbt: content c1 is A,
    c2 is B. Journeys: A→B→conversion, A→null, B→conversion, B→null."""
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


def shapley_scenario() -> Landing:
    """The game solved by hand in test_attribution_dbt.test_shapley_through_dbt. Contents a, b,
    c (shares sa, sb, sc) are A, B, C; journeys (→ the coalition of their distinct states):
        deal-ab   A, B      converted     {A, B}
        lead ab2  B, A      did not       {A, B}
        deal-a    A         converted     {A}
        lead a    A         did not       {A}
        deal-bcb  B, C, B   converted     {B, C}
        lead c    C         did not       {C}
        lead abc  A, B, C   did not       {A, B, C}
    and, apart (no state in common): deal-twelve, twelve distinct contents t01 … t12 in that
    order (t05 twice), deal-t01 and a lead on t01 alone. And a lead whose clicks span more
    than the window: content old1 200 days before the deal instant, old2 50 days before — its
    journey keeps old2 only (old1 is 150 days before its last click)."""
    land = Landing()
    for e, dept in (("e1", "Sales"), ("e2", "Marketing"), ("e3", "Sales")):
        land.employee(e, dept)
    for share, author, content in (("sa", "e1", "a"), ("sb", "e2", "b"), ("sc", "e3", "c"),
                                   ("sold1", "e1", "old1"), ("sold2", "e2", "old2")):
        land.share(share, author, content)
    twelve = [f"t{i:02d}" for i in range(1, 13)]
    for i, content in enumerate(twelve):
        land.share(f"s{content}", f"e{i % 3 + 1}", content)

    def deal(deal_id: str, shares: list[str]) -> None:
        land.form_fill(f"v-{deal_id}", deal_id, 40)
        for k, share in enumerate(shares):
            land.click(f"v-{deal_id}", share, 30 - k)
        land.deal(deal_id, deal_id)

    def lead(name: str, shares: list[str]) -> None:
        land.form_fill(f"v-{name}", name, 40)
        for k, share in enumerate(shares):
            land.click(f"v-{name}", share, 30 - k)

    deal("deal-ab", ["sa", "sb"])
    lead("lead-ab2", ["sb", "sa"])
    deal("deal-a", ["sa"])
    lead("lead-a", ["sa"])
    deal("deal-bcb", ["sb", "sc", "sb"])
    lead("lead-c", ["sc"])
    lead("lead-abc", ["sa", "sb", "sc"])
    deal("deal-twelve", [f"s{t}" for t in twelve[:5]] + ["st05"] + [f"s{t}" for t in twelve[5:]])
    deal("deal-t01", ["st01"])
    lead("lead-t01", ["st01"])
    land.form_fill("v-old", "old", 220)
    land.click("v-old", "sold1", 200)
    land.click("v-old", "sold2", 50)
    return land


def conversion_scenario() -> Landing:
    """The chain and game solved by hand in test_attribution_dbt.test_what_converts_is_a_var,
    under attribution_conversion created and won. Contents a, b, y, z are A, B, Y, Z:
        deal-ab   A, B   open
        deal-b    B      won
        deal-yz   Y, Z   lost
        lead a    A      (never a deal)
        lead b    B      (never a deal)"""
    land = Landing()
    for share, author, content in (("sa", "e1", "a"), ("sb", "e2", "b"), ("sy", "e1", "y"), ("sz", "e2", "z")):
        land.share(share, author, content)
    land.form_fill("v-x", "x", 20)
    land.click("v-x", "sa", 5)
    land.click("v-x", "sb", 2)
    land.deal("deal-ab", "x")
    land.form_fill("v-y", "y", 20)
    land.click("v-y", "sb", 2)
    land.deal("deal-b", "y")
    land.deal_event("deal-b", "closed_won", -10, stage="won")
    land.form_fill("v-z", "z", 20)
    land.click("v-z", "sy", 3)
    land.click("v-z", "sz", 1)
    land.deal("deal-yz", "z")
    land.deal_event("deal-yz", "closed_lost", -5, stage="lost")
    land.form_fill("v-lead-a", "leada", 20)
    land.click("v-lead-a", "sa", 9)
    land.form_fill("v-lead-b", "leadb", 20)
    land.click("v-lead-b", "sb", 9)
    return land


def textbook_scenario() -> Landing:
    """main_scenario and shapley_scenario in one landing, for a test that builds the worked
    cases once (the Spark parity test). Their shares, contents, visitors, contacts and deals
    are distinct; their generated ids are renumbered apart; the employees are the same. The
    rule-based credits of main's deals still hold, and so do the Shapley values worked out for
    shapley_scenario (no journey mixes the two scenarios' states, and a state's value sums over
    the coalitions it is in); Markov's removal effects are those of the combined chain."""
    land = main_scenario()
    for table, rows in shapley_scenario().tables.items():
        if table == "employee":
            continue
        for row in rows:
            for key in ("click_id", "submission_id", "deal_event_id"):
                if key in row:
                    row[key] = f"shapley-{row[key]}"
            land.tables[table].append(row)
    return land


def land_and_build(
    landing: Landing, root: Path, select: str = ATTRIBUTION_SELECT, dbt_vars: dict | None = None
) -> Path:
    """Write ``landing`` to root/landing, ``reachloop land`` it into root/home, dbt-build
    ``select`` (the attribution marts), with ``dbt_vars`` if given; returns the home."""
    home = root / "home"
    folder = landing.write(root / "landing")
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY):
        assert main(["land", str(folder)]) == 0
    dbt_build(home, select, *(["--vars", json.dumps(dbt_vars)] if dbt_vars else []))
    return home


def land_more(landing: Landing, root: Path, name: str) -> None:
    """``reachloop land`` a later batch (written to root/name) into the home land_and_build made."""
    folder = landing.write(root / name)
    with environ(REACHLOOP_HOME=str(root / "home"), REACHLOOP_PII_KEY=KEY):
        assert main(["land", str(folder)]) == 0


def rebuild(home: Path, select: str = ATTRIBUTION_SELECT, dbt_vars: dict | None = None) -> None:
    """dbt-build ``select`` again on a landed home, e.g. under other vars."""
    dbt_build(home, select, *(["--vars", json.dumps(dbt_vars)] if dbt_vars else []))


def built_main_scenario(root: Path) -> Path:
    """The main scenario landed and built into ``root/home``, once per test session (shared by
    the xdist workers, see build_once); returns the home."""

    def build() -> None:
        shutil.rmtree(root / "home", ignore_errors=True)
        shutil.rmtree(root / "landing", ignore_errors=True)
        land_and_build(main_scenario(), root)

    build_once(root, build)
    return root / "home"


def published_build(root: Path) -> Settings:
    """Generate SF0.05 (seed 7) and ``reachloop run`` it into ``root/home``, once per test session
    (shared by the xdist workers, see build_once)."""
    home, data = root / "home", root / "workload"

    def build() -> None:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=TEST_PII_KEY):
            assert main(["generate", "--scale", "0.05", "--seed", "7", "--out", str(data), "--json"]) == 0
            assert main(["run", str(data / "landing")]) == 0

    build_once(root, build)
    settings = Settings(home.resolve())
    assert settings.published_duckdb.exists(), "reachloop run published nothing"
    return settings
