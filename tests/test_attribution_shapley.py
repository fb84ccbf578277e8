"""attribution/shapley.py against games solved by hand, and against the textbook definition
(the Shapley value by the permutation formula over every subset of the players)."""

from __future__ import annotations

import itertools
from math import factorial

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.shapley import shapley_values


def frame(journeys: list[tuple[list[str], bool]]) -> pd.DataFrame:
    """One row per journey × step, as int_journey_touches_sequenced has them."""
    return pd.DataFrame(
        [(f"j{i}", state, converted) for i, (states, converted) in enumerate(journeys) for state in states],
        columns=["journey_id", "state", "is_converting"],
    )


def values(journeys: list[tuple[list[str], bool]]) -> dict[str, float]:
    out = shapley_values(frame(journeys))
    return dict(zip(out["state"], out["shapley_value"], strict=True))


def textbook(journeys: list[tuple[list[str], bool]]) -> dict[str, float]:
    """The definition, independently: v(S) = Σ over occurring coalitions T ⊆ S of the
    conversion rate of exactly-T journeys; φ_s = Σ_{S ⊆ N∖{s}} |S|!(n−|S|−1)!/n! · (v(S∪{s}) − v(S)),
    every subset of every player enumerated."""
    seen: dict[frozenset, list[int]] = {}
    for states, converted in journeys:
        tally = seen.setdefault(frozenset(states), [0, 0])
        tally[0] += 1
        tally[1] += converted
    rate = {t: c / n for t, (n, c) in seen.items()}
    players = sorted(set().union(*seen))
    n = len(players)

    def v(subset: frozenset) -> float:
        return sum(r for t, r in rate.items() if t <= subset)

    out = {}
    for s in players:
        others = [p for p in players if p != s]
        total = 0.0
        for k in range(len(others) + 1):
            weight = factorial(k) * factorial(n - k - 1) / factorial(n)
            for subset in itertools.combinations(others, k):
                total += weight * (v(frozenset(subset) | {s}) - v(frozenset(subset)))
        out[s] = total
    return out


def test_three_states_solved_by_hand() -> None:
    """Coalitions and their rates: {A, B} 1/2 (A→B converted, B→A did not), {A} 1/2, {B, C} 1
    (B→C→B: order and repeats aside), {C} 0, {A, B, C} 0. Shared equally by their members:
    φ_A = 1/4 + 1/2 = 3/4, φ_B = 1/4 + 1/2 = 3/4, φ_C = 1/2 + 0 + 0 = 1/2.
    By the permutation formula: v(A) = 1/2, v(B) = v(C) = 0, v(AB) = 1, v(AC) = 1/2,
    v(BC) = 1, v(ABC) = 2; A's marginal contributions over the six orders ABC, ACB, BAC, BCA,
    CAB, CBA are 1/2, 1/2, 1, 1, 1/2, 1 → 4.5 ÷ 6 = 3/4; B's 1/2, 3/2, 0, 0, 3/2, 1 → 3/4;
    C's the rest of v(ABC) = 2: 1/2."""
    journeys = [(["A", "B"], True), (["B", "A"], False), (["A"], True), (["A"], False),
                (["B", "C", "B"], True), (["C"], False), (["A", "B", "C"], False)]
    assert values(journeys) == {"A": pytest.approx(3 / 4, abs=1e-15), "B": pytest.approx(3 / 4, abs=1e-15),
                                "C": pytest.approx(1 / 2, abs=1e-15)}
    assert values(journeys) == pytest.approx(textbook(journeys), abs=1e-15)


def test_twelve_distinct_states_are_all_kept() -> None:
    """One converting journey through twelve distinct states (s05 twice): its coalition has
    rate 1, shared twelve ways; {s01} alone has rate 1/2. φ_s01 = 1/12 + 1/2 = 7/12, the other
    eleven 1/12 each — the first eight included, which a peer keeping the last four distinct
    states of a journey would drop. The closed form costs one pass over the twelve states; the
    permutation formula checked here enumerates 2^11 subsets per state."""
    twelve = [f"s{i:02d}" for i in range(1, 13)]
    journeys = [(twelve[:5] + ["s05"] + twelve[5:], True), (["s01"], True), (["s01"], False)]
    got = values(journeys)
    assert got["s01"] == pytest.approx(7 / 12, abs=1e-15)
    assert all(got[s] == pytest.approx(1 / 12, abs=1e-15) for s in twelve[1:])
    assert got == pytest.approx(textbook(journeys), abs=1e-14)


def test_a_state_only_on_journeys_that_never_converted_is_worth_nothing() -> None:
    got = shapley_values(frame([(["A"], True), (["A", "Z"], False), (["Z", "Z"], False)])).set_index("state")
    assert got.loc["Z", "shapley_value"] == 0.0
    assert got.loc["A", "shapley_value"] == 1.0  # {A}: 1/1; {A, Z}: 0
    assert got.loc["Z", "coalitions"] == 2 and got.loc["Z", "journeys"] == 2
    assert shapley_values(frame([(["A"], False)]))["shapley_value"].tolist() == [0.0]


def test_long_journeys_cost_their_length_not_two_to_the_length() -> None:
    """A journey of 2,000 distinct states: one coalition, each state 1/2000 of its rate."""
    states = [f"x{i:04d}" for i in range(2000)]
    got = shapley_values(frame([(states, True), (states[::-1], False)]))
    assert got["shapley_value"].tolist() == pytest.approx([1 / 4000] * 2000)
    assert got.attrs["coalitions"] == 1


def test_deterministic_whatever_the_row_order() -> None:
    journeys = [(["A", "B"], True), (["B", "C"], False), (["C"], True), (["A"], False), (["C", "A", "B"], True)]
    rows = frame(journeys)
    pd.testing.assert_frame_equal(
        shapley_values(rows), shapley_values(rows.sample(frac=1, random_state=3).reset_index(drop=True))
    )


def test_rejects_malformed_journeys() -> None:
    with pytest.raises(ValueError, match="both converting and not"):
        shapley_values(pd.DataFrame({"journey_id": ["j", "j"], "state": ["A", "B"], "is_converting": [True, False]}))
    with pytest.raises(ValueError, match="lack"):
        shapley_values(pd.DataFrame({"journey_id": ["j"], "state": ["A"]}))
    empty = shapley_values(pd.DataFrame({"journey_id": [], "state": [], "is_converting": []}))
    assert empty.empty and list(empty.columns) == ["state", "shapley_value", "coalitions", "journeys"]


journey_lists = st.lists(
    st.tuples(st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=6), st.booleans()), min_size=1, max_size=25
)


@settings(max_examples=150, deadline=None)
@given(journeys=journey_lists)
def test_closed_form_equals_the_permutation_formula(journeys) -> None:
    assert values(journeys) == pytest.approx(textbook(journeys), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(journeys=journey_lists)
def test_efficiency_and_every_converting_journey_can_be_credited(journeys) -> None:
    """Efficiency: the values add up to v(all states) = Σ of every occurring coalition's rate.
    And a converting journey's states always weigh more than 0 together (its own coalition
    has a positive rate), so the proportional split of int_touches_credited sums to 1 without
    its all-zero fallback; values are never negative."""
    got = values(journeys)
    rates: dict[frozenset, list[int]] = {}
    for states, converted in journeys:
        rates.setdefault(frozenset(states), []).append(converted)
    assert sum(got.values()) == pytest.approx(sum(sum(c) / len(c) for c in rates.values()), abs=1e-12)
    assert min(got.values()) >= 0
    for states, converted in journeys:
        if converted:
            weights = [got[s] for s in states]
            assert sum(weights) > 0
            assert sum(w / sum(weights) for w in weights) == pytest.approx(1.0, abs=1e-12)
