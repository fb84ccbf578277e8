"""Attribution through real dbt + DuckDB: the hand-made landing files of tests/scenarios.py
(worked textbook cases and edge cases), landed with ``reachloop land``, built with ``dbt build``
(only what ``mart_lead_to_deal_attribution`` and ``fct_deal_journey`` need), checked row by row.

Every expected number is worked out by hand here, not recomputed with the code under test.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.scenarios import contact, land_and_build, markov_scenario

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
