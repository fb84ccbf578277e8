"""Shapley attribution: the exact Shapley value of every state, over the coalitions that occur.

The game. Every journey (the same journeys as the Markov chain's: a deal's touches, or a
lead's touches that never became a deal) has a coalition, the set of its *distinct* states —
order and repeats aside. For each coalition T that occurs, let

    c(T) = converting journeys whose coalition is exactly T ÷ journeys whose coalition is T,

the conversion rate of exactly-T journeys. The worth of a set S of states is what the
coalitions inside it achieve,

    v(S) = Σ_{T ⊆ S, T occurs} c(T),

and a state's value is its Shapley value in that game over all states,

    φ_s = Σ_{S ⊆ N∖{s}} |S|! (|N| − |S| − 1)! ÷ |N|! · (v(S ∪ {s}) − v(S)).

This is the game behind the "simplified Shapley value" of Zhao, Mahboobi and Bagheri,
"Shapley Value Methods for Attribution Modeling in Online Advertising" (GroupM, 2018,
arXiv:1804.05327): the worth of a set of channels sums the worth of the journeys exposed to
exactly each of its subsets, and the Shapley value then has the closed form below, over the
coalitions that occur. reachloop takes the conversion rate of the exactly-T journeys as the
worth of T. It is not their ordered Shapley value: order is the Markov model's business.

The closed form. v is a sum of unanimity games: v = Σ_T c(T) · u_T, where u_T(S) = 1 if
T ⊆ S, else 0. In u_T the states outside T are null players and those in T symmetric, so
by the null-player, symmetry and efficiency axioms each member of T gets 1/|T| and everyone
else 0; by additivity,

    φ_s = Σ_{T ∋ s, T occurs} c(T) ÷ |T|

— every occurring coalition's conversion rate shared equally by its members. This is
exactly the Shapley value of v (no sampling, no truncation); tests/test_attribution_shapley.py
checks it against the permutation formula above on small games.

Scale. Finding the coalitions sorts the distinct (journey, state) pairs: O(P log P) time and
O(P) memory for P pairs, and the values then cost O(Σ_T |T|) ≤ P. Nothing is exponential, so
nothing is cut: a journey with 12 — or 1,200 — distinct states is one coalition whose rate
is shared 12 (1,200) ways. (The permutation formula, or enumerating the 2^k subsets of each
coalition, is what makes other implementations keep only a journey's last four distinct
states; this game never needs it.) So there is no size guard: the only resource that grows
is P, the size of the journeys themselves.

Values are never negative (rates are ≥ 0): a state that only occurs in coalitions that never
converted has value 0. How a deal's credit is split over its touches in proportion to their
states' values — and what happens when all of them are 0 — is int_touches_credited's rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shapley_values(journeys: pd.DataFrame) -> pd.DataFrame:
    """One row per state of any journey: state, shapley_value (φ), coalitions (occurring
    coalitions that contain the state), journeys (journeys that touched it).

    ``journeys`` has one row per journey × step (or per journey × state): journey_id, state,
    is_converting — constant within a journey. Deterministic whatever the row order: states
    and coalitions are numbered in sorted order and summed in that order. The number of
    distinct coalitions is in ``.attrs["coalitions"]``."""
    missing = {"journey_id", "state", "is_converting"} - set(journeys.columns)
    if missing:
        raise ValueError(f"journeys lack {sorted(missing)}")
    if journeys["state"].isna().any():
        raise ValueError("a journey step has no state")
    flags = journeys.groupby("journey_id", sort=False)["is_converting"].nunique()
    if (flags > 1).any():
        raise ValueError(f"journey {flags[flags > 1].index[0]!r} is both converting and not")

    pairs = journeys[["journey_id", "state", "is_converting"]].drop_duplicates(["journey_id", "state"])
    if pairs.empty:
        empty = pd.DataFrame({"state": pd.Series(dtype=str), "shapley_value": pd.Series(dtype=float),
                              "coalitions": pd.Series(dtype=np.int64), "journeys": pd.Series(dtype=np.int64)})
        empty.attrs["coalitions"] = 0
        return empty
    names = np.array(sorted(pairs["state"].unique()), dtype=object)
    state = np.searchsorted(names, pairs["state"].to_numpy(dtype=object))
    journey, _ = pd.factorize(pairs["journey_id"])
    order = np.lexsort((state, journey))  # each journey's states contiguous, in state order
    state, journey = state[order], journey[order]
    converted = np.zeros(journey.max() + 1)
    converted[journey] = pairs["is_converting"].to_numpy(dtype=bool)[order]
    size = np.bincount(journey)
    first = np.concatenate(([0], np.cumsum(size)[:-1]))

    value = np.zeros(names.size)
    coalitions = np.zeros(names.size, dtype=np.int64)
    touched = np.bincount(state, minlength=names.size)
    count = 0
    for k in np.unique(size):
        members = np.flatnonzero(size == k)  # journeys with k distinct states
        table = state[first[members][:, None] + np.arange(k)]  # one row per journey, sorted
        coalition, which = np.unique(table, axis=0, return_inverse=True)
        which = which.ravel()
        rate = np.bincount(which, weights=converted[members]) / np.bincount(which)
        # φ_s += c(T) / |T| for every member s of every coalition T of this size
        value += np.bincount(coalition.ravel(), weights=np.repeat(rate / k, k), minlength=names.size)
        coalitions += np.bincount(coalition.ravel(), minlength=names.size)
        count += len(coalition)
    out = pd.DataFrame(
        {"state": names.astype(str), "shapley_value": value, "coalitions": coalitions, "journeys": touched}
    )
    out.attrs["coalitions"] = count
    return out
