"""Attribution through real dbt + DuckDB: the hand-made landing files of tests/scenarios.py
(worked textbook cases and edge cases), landed with ``reachloop land``, built with ``dbt build``
(only what ``mart_lead_to_deal_attribution`` and ``fct_deal_journey`` need), checked row by row.

Every expected number is worked out by hand here, not recomputed with the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from reachloop.cli import main
from tests.helpers import ATTRIBUTION_SELECT, dbt_build
from tests.scenarios import (
    Landing,
    contact,
    conversion_scenario,
    land_and_build,
    land_more,
    markov_scenario,
    rebuild,
    shapley_scenario,
)

MODELS = {"first_touch", "last_touch", "linear", "position_based", "time_decay", "markov", "shapley"}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attribution_dbt")]


@pytest.fixture(scope="module")
def warehouse(main_scenario_home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(main_scenario_home / "warehouse.duckdb"), read_only=True)
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


def test_a_deals_markov_and_shapley_splits_add_its_weights_in_value_order(warehouse) -> None:
    """A split's weights are added up in value order (exact_sum), so the same touches give the
    same bits in every build, whatever order the engine's threads hand them over in: each credit
    is its touch's weight over the sum of the deal's weights in ascending order, to the last
    bit. Some deals here hold their weights in another order, where a plain sum's bits differ."""
    checked = order_matters = 0
    for model, weights_table, weight in (("markov", "int_markov_removal_effects", "removal_effect"),
                                         ("shapley", "int_shapley_values", "shapley_value")):
        rows = warehouse.execute(
            f"""select credited.deal_id, credited.credit, weights.{weight}
                from intermediate.int_touches_credited as credited
                join intermediate.int_journey_touches_sequenced as states using (deal_id, click_id)
                join intermediate.{weights_table} as weights using (state)
                where credited.model = ? order by credited.deal_id, credited.touch_number""",
            [model],
        ).fetchall()
        deals: dict[str, list[tuple[float, float]]] = {}
        for deal_id, credit, w in rows:
            deals.setdefault(deal_id, []).append((credit, w))
        for touches in deals.values():
            weights = [w for _, w in touches]
            total = 0.0
            for w in sorted(weights):
                total += w
            in_touch_order = 0.0
            for w in weights:
                in_touch_order += w
            if total > 0:
                assert [credit for credit, _ in touches] == [w / total for w in weights]
                checked += 1
                order_matters += in_touch_order != total
    assert checked >= 10 and order_matters >= 1


def test_two_touches_and_one_touch(warehouse) -> None:
    assert credits(warehouse, "two-touches", "position_based") == pytest.approx([0.5, 0.5])
    assert credits(warehouse, "two-touches", "linear") == pytest.approx([0.5, 0.5])
    for model in MODELS:
        assert credits(warehouse, "one-touch-lost", model) == pytest.approx([1.0]), model


def test_credits_sum_to_one_for_every_attributed_deal_and_model(warehouse) -> None:
    rows = warehouse.execute(
        "select deal_id, model, sum(credit), count(*) from marts.mart_lead_to_deal_attribution group by all"
    ).fetchall()
    assert {r[1] for r in rows} == MODELS
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


GLOBAL_WEIGHTS = ("int_markov_removal_effects", "int_shapley_values", "int_touches_credited")


def _rows(home: Path, table: str, bookkeeping: bool = True) -> set[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
            [table],
        ).fetchall() if bookkeeping or c != "log_position_through"]
        return set(con.execute(f"select {', '.join(columns)} from intermediate.{table}").fetchall())


def test_markov_and_shapley_follow_the_journeys_that_changed(tmp_path: Path) -> None:
    """The chain of test_markov_through_dbt, then two later batches built incrementally.
    A click by a visitor who is nobody's contact changes no journey: the effects and Shapley
    values stay as they were, row for row (the counts' checksum is the same: no solve), and
    no deal is re-credited (every row keeps its log position). A new lead clicking B (start→B
    3, B→null 2): x_B = 1/2, x_A = 1/4, P = 2/5·1/4 + 3/5·1/2 = 2/5; without A, P = 3/5·1/2 =
    3/10, removal effect 1 − 3/4 = 1/4; without B nothing converts, 1. deal-ab: A gets
    (1/4)/(1/4 + 1) = 1/5, B 4/5, re-credited; deal-b (one touch) keeps its row. And the
    tables equal a full rebuild's."""
    home = land_and_build(markov_scenario(), tmp_path)
    before = {t: _rows(home, t) for t in GLOBAL_WEIGHTS}

    anonymous = Landing()
    anonymous.n = 100  # ids after the first batch's
    anonymous.click("v-anonymous", "sa", 1)
    land_more(anonymous, tmp_path, "anonymous")
    dbt_build(home)
    assert {t: _rows(home, t) for t in GLOBAL_WEIGHTS} == before

    lead = Landing()
    lead.n = 200
    lead.form_fill("v-lead-b2", "leadb2", 20)
    lead.click("v-lead-b2", "sb", 9)
    land_more(lead, tmp_path, "lead")
    dbt_build(home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        effects = dict(
            con.execute("select state, removal_effect from intermediate.int_markov_removal_effects").fetchall()
        )
        assert effects == {"content:c1": pytest.approx(1 / 4), "content:c2": pytest.approx(1.0)}
        assert credits(con, "deal-ab", "markov") == pytest.approx([1 / 5, 4 / 5])
        positions = dict(con.execute(
            "select deal_id, max(log_position_through) from intermediate.int_touches_credited group by all"
        ).fetchall())
    first = {deal: position for deal, _, _, _, _, position in before["int_touches_credited"]}
    assert positions["deal-ab"] > first["deal-ab"]
    assert positions["deal-b"] == first["deal-b"]

    incremental = {t: _rows(home, t, bookkeeping=False) for t in GLOBAL_WEIGHTS}
    dbt_build(home, ATTRIBUTION_SELECT, "--full-refresh")
    assert {t: _rows(home, t, bookkeeping=False) for t in GLOBAL_WEIGHTS} == incremental


@pytest.fixture(scope="module")
def shapley_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return land_and_build(
        shapley_scenario(), tmp_path_factory.mktemp("shapley"), ATTRIBUTION_SELECT + " +mart_attribution_rollups"
    )


def values(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(con.execute("select state, shapley_value from intermediate.int_shapley_values").fetchall())


def test_shapley_through_dbt(shapley_home: Path) -> None:
    """Hand-solved game (tests/scenarios.py shapley_scenario). Coalitions and the conversion
    rate of the journeys that are exactly them: {A, B} 1/2 (deal-ab yes, the B-then-A lead
    no), {A} 1/2, {B, C} 1, {C} 0, {A, B, C} 0. Each coalition's rate shared by its members:
        φ_A = 1/2 ÷ 2 + 1/2 = 3/4,   φ_B = 1/2 ÷ 2 + 1 ÷ 2 = 3/4,   φ_C = 1 ÷ 2 + 0 + 0 = 1/2.
    (The permutation formula over v(S) = Σ_{T ⊆ S} rate(T) gives the same: v(A) = 1/2, v(B) =
    v(C) = 0, v(AB) = 1, v(AC) = 1/2, v(BC) = 1, v(ABC) = 2; A's marginals over the six orders
    1/2, 1/2, 1, 1, 1/2, 1 average 3/4.)
    Credits: deal-ab A, B → 1/2, 1/2; deal-a → 1; deal-bcb B, C, B → 3/4 : 1/2 : 3/4 → 3/8, 1/4, 3/8."""
    with duckdb.connect(str(shapley_home / "warehouse.duckdb"), read_only=True) as con:
        got = values(con)
        assert got["content:a"] == pytest.approx(3 / 4, abs=1e-15)
        assert got["content:b"] == pytest.approx(3 / 4, abs=1e-15)
        assert got["content:c"] == pytest.approx(1 / 2, abs=1e-15)
        assert credits(con, "deal-ab", "shapley") == pytest.approx([1 / 2, 1 / 2])
        assert credits(con, "deal-a", "shapley") == pytest.approx([1.0])
        assert credits(con, "deal-bcb", "shapley") == pytest.approx([3 / 8, 1 / 4, 3 / 8])


def test_shapley_keeps_every_state_of_a_long_journey(shapley_home: Path) -> None:
    """deal-twelve touches twelve distinct contents t01 … t12 (t05 twice): one coalition,
    rate 1, shared twelve ways; {t01} alone has rate 1/2 (deal-t01 yes, a lead no). So
    φ_t01 = 1/12 + 1/2 = 7/12 and φ_t02 … φ_t12 = 1/12; over deal-twelve's 13 touches the
    weights sum to 7/12 + 12 × 1/12 = 19/12: t01 gets 7/19, every other touch 1/19. A peer
    keeping a journey's last four distinct states would give t01 … t08 nothing."""
    with duckdb.connect(str(shapley_home / "warehouse.duckdb"), read_only=True) as con:
        got = values(con)
        assert got["content:t01"] == pytest.approx(7 / 12, abs=1e-15)
        for i in range(2, 13):
            assert got[f"content:t{i:02d}"] == pytest.approx(1 / 12, abs=1e-15)
        assert credits(con, "deal-twelve", "shapley") == pytest.approx([7 / 19] + [1 / 19] * 12, abs=1e-15)
        shares = con.execute(
            "select share_id from marts.mart_lead_to_deal_attribution where deal_id = 'deal-twelve'"
            " and model = 'shapley' order by touch_number"
        ).fetchall()
        assert [s[0] for s in shares] == [f"st{i:02d}" for i in range(1, 6)] + ["st05"] + [
            f"st{i:02d}" for i in range(6, 13)
        ]


def test_a_lead_journey_keeps_the_window_before_its_last_click(shapley_home: Path) -> None:
    """The old lead clicked old1 200 days and old2 50 days before the scenario instant: old1
    is 150 days before its last click, outside the 90-day window — as a deal's click 150 days
    before its creation would be. Its journey is old2 alone; old1 is no state at all."""
    with duckdb.connect(str(shapley_home / "warehouse.duckdb"), read_only=True) as con:
        steps = con.execute(
            "select step_number, state, is_converting from intermediate.int_journey_touches_sequenced"
            " where journey_id = ?",
            ["lead:" + contact("old")],
        ).fetchall()
        assert steps == [(1, "content:old2", False)]
        states = {r[0] for r in con.execute("select state from intermediate.int_markov_removal_effects").fetchall()}
        assert "content:old2" in states and "content:old1" not in states
        assert "content:old1" not in values(con)


def test_shapley_in_the_rollups_and_the_trace(shapley_home: Path, monkeypatch, capsys) -> None:
    """One more value of `model`: the rollups carry it (deal-bcb's 3/8 + 3/8 to content b,
    1/4 to c) and reachloop trace shows it."""
    with duckdb.connect(str(shapley_home / "warehouse.duckdb"), read_only=True) as con:
        rolled = dict(
            con.execute(
                "select group_key, attributed_deals from marts.mart_attribution_rollups"
                " where dimension = 'content' and model = 'shapley'"
            ).fetchall()
        )
        models = {r[0] for r in con.execute("select distinct model from marts.mart_attribution_rollups").fetchall()}
    assert models == MODELS
    # a: deal-ab 1/2 + deal-a 1; b: deal-ab 1/2 + deal-bcb 3/4; c: deal-bcb 1/4
    assert rolled["a"] == pytest.approx(3 / 2) and rolled["b"] == pytest.approx(5 / 4)
    assert rolled["c"] == pytest.approx(1 / 4)
    monkeypatch.setenv("REACHLOOP_HOME", str(shapley_home))
    assert main(["trace", "deal-bcb", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["models"][-1] == "shapley" and set(out["models"]) == MODELS
    touches = [s for s in out["steps"] if "credits" in s]
    assert [t["credits"]["shapley"]["credit"] for t in touches] == pytest.approx([3 / 8, 1 / 4, 3 / 8])
    assert main(["trace", "deal-bcb"]) == 0
    assert "shapley" in capsys.readouterr().out


def test_what_converts_is_a_var(tmp_path: Path) -> None:
    """tests/scenarios.py conversion_scenario: deal-ab (A, B) open, deal-b (B) won, deal-yz
    (Y, Z) lost, leads on A and on B. Worked by hand under both values of
    attribution_conversion.

    created (default): every deal converted. Transitions start→A 2, start→B 2, start→Y 1,
    A→B 1, A→null 1, B→conv 2, B→null 1, Y→Z 1, Z→conv 1: x_B = 2/3, x_A = 1/3, x_Y = x_Z = 1,
    P = 2/5·1/3 + 2/5·2/3 + 1/5 = 3/5. Without A: 2/5·2/3 + 1/5 = 7/15 → 1 − 7/9 = 2/9; without
    B: 1/5 → 2/3; without Y (or Z): 2/5 → 1/3. Shapley: {A, B} 1, {A} 0, {B} 1/2, {Y, Z} 1 →
    φ_A = 1/2, φ_B = 1, φ_Y = φ_Z = 1/2. deal-ab: markov 2/9 : 2/3 → 1/4, 3/4; shapley 1/3, 2/3.

    won: only deal-b converted. B→conv 1, B→null 2, Z→null: x_B = 1/3, x_A = 1/6, x_Y = x_Z = 0,
    P = 2/5·1/6 + 2/5·1/3 = 1/5. Without A: 2/5·1/3 = 2/15 → 1/3; without B: 0 → 1; Y, Z: 0.
    Shapley: only {B} has a rate (1/2): φ_B = 1/2, the rest 0. deal-ab: markov 1/3 : 1 → 1/4,
    3/4; shapley 0, 1. deal-yz weighs 0 under both models: 1/2 each (the fallback)."""
    home = land_and_build(conversion_scenario(), tmp_path)

    def read() -> tuple[dict, dict, dict]:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            effects = dict(con.execute("select state, removal_effect from intermediate.int_markov_removal_effects").fetchall())
            converting = dict(
                con.execute(
                    "select journey_id, bool_and(is_converting) from intermediate.int_journey_touches_sequenced group by 1"
                ).fetchall()
            )
            split = {(d, m): credits(con, d, m) for d in ("deal-ab", "deal-b", "deal-yz") for m in ("markov", "shapley")}
            return effects | {"shapley": values(con)}, converting, split

    effects, converting, split = read()
    assert sum(converting.values()) == 3  # the three deals, no lead
    assert effects["content:a"] == pytest.approx(2 / 9) and effects["content:b"] == pytest.approx(2 / 3)
    assert effects["content:y"] == pytest.approx(1 / 3) and effects["content:z"] == pytest.approx(1 / 3)
    assert effects["shapley"] == pytest.approx({"content:a": 1 / 2, "content:b": 1, "content:y": 1 / 2, "content:z": 1 / 2})
    assert split[("deal-ab", "markov")] == pytest.approx([1 / 4, 3 / 4])
    assert split[("deal-ab", "shapley")] == pytest.approx([1 / 3, 2 / 3])
    assert split[("deal-yz", "markov")] == pytest.approx([1 / 2, 1 / 2])

    rebuild(home, dbt_vars={"attribution_conversion": "won"})
    effects, converting, split = read()
    assert [j for j, c in converting.items() if c] == ["deal:deal-b"]
    assert effects["content:a"] == pytest.approx(1 / 3) and effects["content:b"] == pytest.approx(1.0)
    assert effects["content:y"] == 0 and effects["content:z"] == 0
    assert effects["shapley"] == pytest.approx({"content:a": 0, "content:b": 1 / 2, "content:y": 0, "content:z": 0})
    assert split[("deal-ab", "markov")] == pytest.approx([1 / 4, 3 / 4])
    assert split[("deal-ab", "shapley")] == pytest.approx([0, 1])
    assert split[("deal-b", "markov")] == split[("deal-b", "shapley")] == [1.0]
    assert split[("deal-yz", "markov")] == split[("deal-yz", "shapley")] == [0.5, 0.5]


ROLLUPS_SELECT = ATTRIBUTION_SELECT + " +mart_attribution_rollups"


def _rollups(home: Path) -> set[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return set(con.execute(
            "select * exclude (log_position_through) from marts.mart_attribution_rollups"
        ).fetchall())


def test_a_currency_that_lands_after_its_deal_moves_the_deal_out_of_the_unknown_currency(
    tmp_path: Path,
) -> None:
    """Deals whose landed events carry no currency yet: their groups have currency null.
    late-alone's close landed before its creation (as a random split of the files lands them),
    late-touched was created without an amount. When the money lands, 500.00 EUR each, an
    incremental build moves both deals into EUR and leaves no group of unknown currency: a
    null in the grain must be replaced, not kept beside (a key compared with = never matches
    null). late-touched has one touch, on sa (content c1); late-alone none ('(unattributed)')."""
    land = markov_scenario()
    land.form_fill("v-late", "late", 20)
    land.click("v-late", "sa", 3)
    land.deal_event("late-touched", "created", 0, stage="qualified", contact="late")
    land.deal_event("late-alone", "closed_won", -1, stage="won", contact="nobody")
    home = land_and_build(land, tmp_path, ROLLUPS_SELECT)

    def unknown_currency(rows: set[tuple]) -> set[tuple[str, str]]:
        return {(dimension, key) for dimension, key, model, currency, *_ in rows
                if currency is None and model == "linear"}

    assert {("share", "sa"), ("content", "c1"), ("share", "(unattributed)")} <= unknown_currency(_rollups(home))

    created = Landing()
    created.n = 100
    created.deal_event("late-touched", "closed_won", -1, amount="500.00", currency="EUR", stage="won")
    created.deal_event("late-alone", "created", 0, amount="500.00", currency="EUR", stage="qualified",
                       contact="nobody")
    land_more(created, tmp_path, "created")
    dbt_build(home, ROLLUPS_SELECT)
    incremental = _rollups(home)
    assert unknown_currency(incremental) == set()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        won = {(dimension, key): (deals, revenue) for dimension, key, deals, revenue in con.execute(
            "select dimension, group_key, deals_touched, won_revenue from marts.mart_attribution_rollups"
            " where model = 'linear' and currency = 'EUR' and dimension in ('share', 'content')"
        ).fetchall()}
    assert won[("share", "(unattributed)")] == (1, 500)
    # deal-ab (open) and late-touched, won, whose one touch takes all of its 500.00
    assert won[("share", "sa")] == won[("content", "c1")] == (2, 500)

    dbt_build(home, ROLLUPS_SELECT, "--full-refresh")
    assert _rollups(home) == incremental
