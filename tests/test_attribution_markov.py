"""attribution/markov.py against chains solved by hand, and against the textbook definition
(rebuild the chain without the state, solve again)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.markov import (
    CONVERSION,
    NULL,
    START,
    journeys_to_transitions,
    removal_effects,
    removal_effects_by_resolving,
)


def effects(journeys) -> dict[str, float]:
    frame = removal_effects(journeys_to_transitions(journeys))
    return dict(zip(frame["state"], frame["removal_effect"], strict=True))


def test_two_state_chain_solved_by_hand() -> None:
    """Journeys A→B→conv, A→null, B→conv, B→null.
    From B: conversion 2 of its 3 exits → x_B = 2/3. From A: B 1 of 2, null 1 of 2 →
    x_A = x_B/2 = 1/3. From start: A or B, 2 of 4 each → P = (1/3 + 2/3)/2 = 1/2.
    Without A: P = x_B/2 = 1/3 → 1 − (1/3)/(1/2) = 1/3. Without B: nothing converts → 1."""
    journeys = [(["A", "B"], True), (["A"], False), (["B"], True), (["B"], False)]
    frame = removal_effects(journeys_to_transitions(journeys)).set_index("state")
    assert frame.loc["A", "removal_effect"] == pytest.approx(1 / 3, abs=1e-15)
    assert frame.loc["B", "removal_effect"] == pytest.approx(1.0, abs=1e-15)
    assert frame.loc["A", "conversion_probability"] == pytest.approx(1 / 3)
    assert frame.loc["B", "conversion_probability"] == pytest.approx(2 / 3)
    assert frame["p_conversion"].iloc[0] == pytest.approx(1 / 2)


def test_loop_chain_solved_by_hand() -> None:
    """A cycle: A→B→A→conv, B→null, A→null.
    Transitions: start→A 2, start→B 1; A→B 1, A→conv 1, A→null 1; B→A 1, B→null 1.
    x_A = 1/3·x_B + 1/3, x_B = 1/2·x_A → x_A = 1/6·x_A + 1/3 → x_A = 2/5, x_B = 1/5.
    P = 2/3·2/5 + 1/3·1/5 = 1/3.
    Without A: nothing converts → 1. Without B: x_A = 1/3, P = 2/3·1/3 = 2/9 → 1 − (2/9)/(1/3) = 1/3."""
    journeys = [(["A", "B", "A"], True), (["B"], False), (["A"], False)]
    assert effects(journeys) == {"A": pytest.approx(1.0), "B": pytest.approx(1 / 3)}


def test_self_loops_do_not_change_absorption() -> None:
    once = effects([(["A", "B"], True), (["A"], False), (["B"], False)])
    repeated = effects([(["A", "A", "B", "B"], True), (["A", "A"], False), (["B"], False)])
    assert repeated == pytest.approx(once)


def test_state_that_never_converts_has_no_effect() -> None:
    assert effects([(["A"], True), (["Z"], False), (["Z", "Z"], False)])["Z"] == 0.0


def test_no_conversion_at_all() -> None:
    assert effects([(["A"], False), (["B"], False)]) == {"A": 0.0, "B": 0.0}


def test_fast_formula_equals_the_textbook_definition() -> None:
    rng = np.random.default_rng(7)
    states = [f"s{i}" for i in range(40)]
    journeys = [
        ([states[i] for i in rng.integers(0, 40, rng.integers(1, 6))], bool(rng.random() < 0.3))
        for _ in range(1500)
    ]
    transitions = journeys_to_transitions(journeys)
    fast = removal_effects(transitions).set_index("state")["removal_effect"].to_dict()
    slow = removal_effects_by_resolving(transitions)
    assert fast.keys() == slow.keys()
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12


def test_chains_with_cycles_and_acyclic_states_match_the_textbook() -> None:
    """Most share states lie on no cycle (their N[s, s] comes from the self-loop alone); some
    form cycles of different sizes; self-loops everywhere. All must equal the textbook."""
    rng = np.random.default_rng(11)
    line = [f"a{i}" for i in range(30)]  # walks only go forward: no cycles
    journeys = []
    for _ in range(800):
        first = int(rng.integers(0, 27))
        steps = sorted(rng.choice(np.arange(first, 30), size=int(rng.integers(1, 4)), replace=False))
        path = [line[i] for i in steps]
        if rng.random() < 0.2:
            path.insert(1, path[0])  # a self-loop
        journeys.append((path, bool(rng.random() < 0.3)))
    journeys += [(["c1", "c2", "c1", "c3"], True), (["c2", "c3", "c2"], False), (["c3", "c1"], True),
                 (["d1", "d2", "d1"], True), (["d2"], False), (["a3", "c1", "c2"], True)]
    transitions = journeys_to_transitions(journeys)
    fast = removal_effects(transitions).set_index("state")["removal_effect"].to_dict()
    slow = removal_effects_by_resolving(transitions)
    assert fast.keys() == slow.keys()
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12
    assert 0 < fast["c1"] < 1 and fast["d1"] > 0


def test_deterministic_whatever_the_row_order() -> None:
    t = journeys_to_transitions([(["A", "B"], True), (["B", "C"], False), (["C"], True), (["A"], False)])
    a = removal_effects(t)
    b = removal_effects(t.sample(frac=1, random_state=3).reset_index(drop=True))
    pd.testing.assert_frame_equal(a, b)


def test_rejects_malformed_counts() -> None:
    bad = pd.DataFrame(
        [(START, "A", 1), ("A", CONVERSION, 1), (CONVERSION, NULL, 1)],
        columns=["from_state", "to_state", "transitions"],
    )
    with pytest.raises(ValueError, match="absorbing"):
        removal_effects(bad)
