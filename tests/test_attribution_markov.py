"""attribution/markov.py against chains solved by hand, and against the textbook definition
(rebuild the chain without the state, solve again) on every path of the solver."""

from __future__ import annotations

from contextlib import nullcontext
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from attribution import markov
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


# --- the solver's paths: every one equals the textbook ---------------------------------------
# removal_effects picks a method per strongly connected component (attribution/markov.py):
# small blocks inverted whole, thin ones by a banded sparse LU, well-mixed ones by rounds of
# independent-set elimination and a dense core. Small chains are sent down each path by the
# thresholds (dense_min, max_levels, and the module's THIN_ENVELOPE / _SPARSE_PENALTY).


def mixing_journeys(states: int, journeys: int, seed: int) -> list[tuple[list[str], bool]]:
    """Journeys that mix states freely: one large strongly connected component."""
    rng = np.random.default_rng(seed)
    names = [f"m{i:03d}" for i in range(states)]
    return [
        ([names[i] for i in rng.integers(0, states, rng.integers(1, 7))], bool(rng.random() < 0.3))
        for _ in range(journeys)
    ]


def ring_journeys(states: int) -> list[tuple[list[str], bool]]:
    """A long cycle: r0 → r1 → r2, r1 → r2 → r3, …: one large but thin component."""
    names = [f"r{i:03d}" for i in range(states)]
    return [([names[i], names[(i + 1) % states], names[(i + 2) % states]], i % 3 == 0) for i in range(states)]


def fast_and_slow(transitions: pd.DataFrame, **kwargs) -> tuple[dict, dict]:
    fast = removal_effects(transitions, **kwargs).set_index("state")["removal_effect"].to_dict()
    return fast, removal_effects_by_resolving(transitions)


def methods_used(transitions: pd.DataFrame, **kwargs) -> dict[str, int]:
    chain = markov.MarkovChain(transitions)
    settings = {"dense_min": markov.DENSE_MIN, "dense_max": markov.DENSE_MAX, "max_levels": markov.MAX_LEVELS}
    return markov._ComponentSolver(chain.q, **{**settings, **kwargs}).methods


@pytest.fixture(scope="module")
def well_mixed() -> tuple[pd.DataFrame, dict]:
    """300 states in one well-mixed component, and its textbook removal effects (re-solved
    once for the tests that share it)."""
    transitions = journeys_to_transitions(mixing_journeys(300, 2500, seed=5))
    return transitions, removal_effects_by_resolving(transitions)


@pytest.mark.parametrize(
    ("kwargs", "method", "rounds"),
    [({}, "dense", 1), ({"max_levels": 0}, "dense", 0), ({"dense_min": 400}, "small", None)],
    ids=["eliminate-then-dense", "dense-only", "small-block"],
)
def test_a_well_mixed_component_matches_the_textbook(
    well_mixed, kwargs, method, rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 300 states a round of elimination does not pay for itself; made free, it runs once."""
    monkeypatch.setattr(markov, "_ROUND_OVERHEAD", 0)
    transitions, slow = well_mixed
    assert methods_used(transitions, **kwargs) == {method: 1}
    if rounds is not None:
        component = csr_matrix(markov.MarkovChain(transitions).q)[1:, 1:]
        levels = kwargs.get("max_levels", markov.MAX_LEVELS)
        assert len(markov._MixedBlock(component, max_levels=levels).levels) == rounds
    fast = removal_effects(transitions, **kwargs).set_index("state")["removal_effect"].to_dict()
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12


def test_several_rounds_of_elimination_match_the_textbook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sparser mixing chain, and sparse work made free: elimination runs several rounds,
    rewriting earlier rounds' bilinear forms on each new complement."""
    monkeypatch.setattr(markov, "_SPARSE_PENALTY", 0)
    monkeypatch.setattr(markov, "_ROUND_OVERHEAD", 0)
    transitions = journeys_to_transitions(mixing_journeys(300, 700, seed=3))
    chain = markov.MarkovChain(transitions)
    component = csr_matrix(chain.q)[1:, 1:]  # all touch states form one component here
    block = markov._MixedBlock(component, max_levels=6)
    assert len(block.levels) >= 2
    exact = np.linalg.inv(np.identity(300) - component.toarray())
    assert np.abs(block.diagonal() - np.diag(exact)).max() < 1e-13
    b = np.random.default_rng(0).random(300)
    assert np.abs(block.solve(b) - exact @ b).max() < 1e-13
    assert np.abs(block.solve_transposed(b) - exact.T @ b).max() < 1e-13
    fast, slow = fast_and_slow(transitions, max_levels=6)
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12


def test_a_long_cycle_is_thin_and_matches_the_textbook(monkeypatch: pytest.MonkeyPatch) -> None:
    transitions = journeys_to_transitions(ring_journeys(300) + [(["a", "r005"], True), (["b"], False)])
    assert methods_used(transitions) == {"thin": 1}
    fast, slow = fast_and_slow(transitions)
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12
    # the same cycle through the dense path
    monkeypatch.setattr(markov, "THIN_ENVELOPE", 10**9)
    assert methods_used(transitions) == {"dense": 1}
    fast, _ = fast_and_slow(transitions)
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12


@pytest.mark.slow  # 8–17 s on a shared 2-core machine
def test_large_and_small_components_mixed_in_one_chain() -> None:
    """Two well-mixed blocks (upstream and downstream of each other), a thin cycle, small
    cycles and acyclic states: the solves walk the components in topological order."""
    up = mixing_journeys(150, 900, seed=1)
    down = [([f"d{s[1:]}" for s in path], converted) for path, converted in mixing_journeys(140, 800, seed=2)]
    bridges = [(["m001", "x1", "d002"], True), (["m003", "d004", "y"], False), (["x1", "x2", "x1"], True),
               (["r010", "m005"], True), (["z"], True)]
    transitions = journeys_to_transitions(up + down + ring_journeys(300) + bridges)
    assert methods_used(transitions, dense_min=100) == {"dense": 2, "thin": 1, "small": 1}
    fast, slow = fast_and_slow(transitions, dense_min=100)
    assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12


def test_dense_core_honours_row_interchanges() -> None:
    """The dense core factors (I − Q)ᵀ, which never needs a row interchange for a Markov
    chain; a matrix that does still gets the right diagonal and solves."""
    rng = np.random.default_rng(4)
    q = csr_matrix(rng.random((60, 60)) * 0.5)  # rows sum to ~15: not a chain, pivots happen
    core = markov._DenseCore(q)
    assert core.pivoted
    m = np.identity(60) - q.toarray()
    exact = np.linalg.inv(m)
    assert np.abs(core.diagonal() - np.diag(exact)).max() < 1e-12
    b = rng.random(60)
    assert np.abs(core.solve(b) - exact @ b).max() < 1e-12
    assert np.abs(core.solve_transposed(b) - exact.T @ b).max() < 1e-12


def test_component_labels_are_put_in_reverse_topological_order() -> None:
    """Should scipy ever number components otherwise, they are relabelled: every transition
    between two components then goes from a higher label to a lower one."""
    # components: {0,1} → {2} → {3,4}, {5} → {2}
    q = csr_matrix(([1.0] * 8, ([0, 1, 1, 2, 3, 4, 5, 0], [1, 0, 2, 3, 4, 3, 2, 0])), shape=(6, 6))
    scrambled = np.array([0, 0, 1, 2, 2, 3])  # the sinks do not have the lowest labels
    label = markov._reverse_topological(q, 4, scrambled)
    rows, cols = q.nonzero()
    across = label[rows] != label[cols]
    assert (label[rows][across] > label[cols][across]).all()
    assert label[0] == label[1] and label[3] == label[4]


def test_a_well_mixed_component_too_large_to_hold_densely_is_refused(well_mixed) -> None:
    transitions, _ = well_mixed
    with pytest.raises(ValueError, match=r"300 Markov states mixes too freely.*coarser markov_state_grain"):
        removal_effects(transitions, dense_max=100, max_levels=0)


def test_duplicate_rows_are_summed_exactly_in_any_order() -> None:
    t = journeys_to_transitions(mixing_journeys(20, 200, seed=9))
    doubled = pd.concat([t, t.assign(transitions=t["transitions"] * 2)]).sample(frac=1, random_state=1)
    tripled = t.assign(transitions=t["transitions"] * 3)
    pd.testing.assert_frame_equal(removal_effects(doubled), removal_effects(tripled))


journey_lists = st.lists(
    st.tuples(st.lists(st.integers(0, 11), min_size=1, max_size=9), st.booleans()), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys=journey_lists, long_cycles=st.integers(0, 3))
def test_every_path_equals_the_textbook_on_random_chains(journeys, long_cycles) -> None:
    """Random small chains — with up to three long cycles through all twelve states added, so
    that large components occur — through every path the thresholds allow: small blocks,
    dense cores with and without rounds of elimination (made free, so that they run)."""
    paths = [([f"s{i:02d}" for i in states], converted) for states, converted in journeys]
    cycle = [f"s{i:02d}" for i in range(12)]
    paths += [(cycle[k:] + cycle[:k] + cycle[k : k + 1], k % 2 == 0) for k in range(long_cycles)]
    transitions = journeys_to_transitions(paths)
    slow = removal_effects_by_resolving(transitions)
    for kwargs, free_rounds in (({}, False), ({"dense_min": 2, "max_levels": 0}, False), ({"dense_min": 2}, True)):
        free = {"_ROUND_OVERHEAD": 0, "_SPARSE_PENALTY": 0, "_MAX_DENSITY": 1.0} if free_rounds else {}
        with patch.multiple(markov, **free) if free else nullcontext():
            fast = removal_effects(transitions, **kwargs).set_index("state")["removal_effect"].to_dict()
        assert fast.keys() == slow.keys()
        assert max(abs(fast[s] - slow[s]) for s in fast) < 1e-12, kwargs
