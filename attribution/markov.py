"""First-order Markov attribution: exact removal effects from transition counts.

Every journey (a deal's touches before it was created, or a lead's touches that never became
a deal) is a walk ``start → s1 → … → sn → conversion | null``. Counting the transitions of
all journeys gives an absorbing Markov chain: the transient states are ``start`` and the
touch states, the absorbing ones are ``conversion`` and ``null``.

- P(conversion) is the probability of absorption in ``conversion`` from ``start``. With Q the
  transient-to-transient block and r the transient-to-conversion column, the absorption
  probabilities x solve (I − Q) x = r, and P = x[start]. We solve that system exactly (sparse
  LU), never by simulating walks: the same counts always give the same numbers.
- The removal effect of state s is 1 − P(without s) ÷ P, where "without s" sends every walk
  that reaches s to ``null``. By the strong Markov property at the first visit to s,
      P = P(without s) + h_s · x[s],
  where h_s is the probability that a walk from start ever reaches s. So
      removal_effect(s) = h_s · x[s] ÷ P,   h_s = N[start, s] ÷ N[s, s],
  with N = (I − Q)⁻¹ the fundamental matrix (expected visits). Row ``start`` of N is one
  transposed solve with the LU factors of (I − Q) that we already have; N[s, s] only depends
  on s's strongly connected component (a walk back to s never leaves it), so it is
  1 ÷ (1 − Q[s, s]) off cycles and a small solve on them. Linear in the number of states.
  ``removal_effects_by_resolving`` does the same thing the textbook way (rebuild and solve
  the chain without s) and exists to check this one.

Self-loops (a state touched twice in a row) need no special treatment: they change how long
a walk stays in a state, not where it is absorbed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.sparse import csc_matrix, identity
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu, spsolve

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
ABSORBING = (CONVERSION, NULL)

# Columns solved per batch within a cycle's component: bounded memory (batch × component size).
_BATCH = 256


class MarkovChain:
    """The absorbing chain built from (from_state, to_state, transitions) counts."""

    def __init__(self, transitions: pd.DataFrame):
        t = transitions[["from_state", "to_state", "transitions"]].copy()
        if t.empty:
            raise ValueError("no transitions: nothing to attribute")
        if (t["transitions"] <= 0).any():
            raise ValueError("transition counts must be positive")
        if t["from_state"].isin(ABSORBING).any():
            raise ValueError(f"{CONVERSION} and {NULL} are absorbing: no transitions may leave them")
        if t["to_state"].eq(START).any():
            raise ValueError(f"no transition may enter {START}")
        t = t.groupby(["from_state", "to_state"], as_index=False, sort=True)["transitions"].sum()

        # Sorted state names give every state the same index on every run (determinism).
        touch_states = sorted(set(t["from_state"]).union(t["to_state"]) - {START, *ABSORBING})
        self.states: list[str] = [START, *touch_states]
        index = {s: i for i, s in enumerate(self.states)}
        n = len(self.states)

        out = t.groupby("from_state")["transitions"].transform("sum")
        t["p"] = t["transitions"] / out
        inner = t[~t["to_state"].isin(ABSORBING)]
        rows = inner["from_state"].map(index).to_numpy(np.intp)
        cols = inner["to_state"].map(index).to_numpy(np.intp)
        self.q = csc_matrix((inner["p"].to_numpy(float), (rows, cols)), shape=(n, n))
        conv = t[t["to_state"] == CONVERSION]
        self.r = np.zeros(n)
        np.add.at(self.r, conv["from_state"].map(index).to_numpy(np.intp), conv["p"].to_numpy(float))
        self.index = index

    @property
    def touch_states(self) -> list[str]:
        return self.states[1:]

    def system(self) -> csc_matrix:
        return (identity(len(self.states), format="csc") - self.q).tocsc()


def conversion_probabilities(chain: MarkovChain) -> np.ndarray:
    """x[i] = P(absorbed in conversion | at state i)."""
    return np.atleast_1d(spsolve(chain.system(), chain.r))


def removal_effects(transitions: pd.DataFrame) -> pd.DataFrame:
    """One row per touch state: state, reach_probability (h; left 0 where x = 0, as it does
    not matter there), conversion_probability (x), removal_effect; plus the chain's overall
    P(conversion) as ``p_conversion``.

    Exact and deterministic: one sparse LU factorization of (I − Q), two solves with it (x,
    and row ``start`` of N), and N's diagonal per strongly connected component
    (``_returns_diagonal``); then removal_effect = h_s · x[s] ÷ P with h_s = N[start, s] ÷ N[s, s].
    """
    chain = MarkovChain(transitions)
    lu = splu(chain.system())
    x = lu.solve(chain.r)
    p = float(x[0])
    n = len(chain.states)
    start = np.zeros(n)
    start[chain.index[START]] = 1.0
    from_start = lu.solve(start, trans="T")  # row `start` of N: N[start, s] for every s
    # A state from which conversion is unreachable (x = 0) has removal effect 0 whatever h is.
    # In real data that is most states at the share grain.
    reach = np.zeros(n)
    converting = x > 0
    reach[converting] = from_start[converting] / _returns_diagonal(chain.q)[converting]
    effect = reach * x / p if p > 0 else np.zeros(n)
    return pd.DataFrame(
        {
            "state": chain.touch_states,
            "reach_probability": reach[1:],
            "conversion_probability": x[1:],
            "removal_effect": np.clip(effect[1:], 0.0, 1.0),  # clip float noise only
            "p_conversion": p,
        }
    )


def _returns_diagonal(q: csc_matrix) -> np.ndarray:
    """N[s, s], the expected visits to s of a walk that starts in s, for every state.

    A walk from s back to s never leaves s's strongly connected component, so N[s, s] is the
    diagonal of that component's own (I − Q_C)⁻¹: 1 ÷ (1 − Q[s, s]) for the many states on
    no cycle, and a small solve per column for states on cycles. One solve per state of the
    whole chain instead was quadratic in the states (27 s at SF30, minutes at SF100)."""
    diagonal = 1.0 / (1.0 - q.diagonal())
    components, label = connected_components(q, directed=True, connection="strong")
    sizes = np.bincount(label, minlength=components)
    for component in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(label == component)
        block = q[members][:, members]
        lu = splu((identity(members.size, format="csc") - block).tocsc())
        for lo in range(0, members.size, _BATCH):
            cols = np.arange(lo, min(lo + _BATCH, members.size))
            unit = np.zeros((members.size, cols.size))
            unit[cols, np.arange(cols.size)] = 1.0
            diagonal[members[cols]] = lu.solve(unit)[cols, np.arange(cols.size)]
    return diagonal


def removal_effects_by_resolving(transitions: pd.DataFrame, states: Iterable[str] | None = None) -> dict:
    """The textbook definition, for tests: for each state, send every transition into it to
    ``null``, solve the whole chain again, and compare P(conversion)."""
    chain = MarkovChain(transitions)
    p = float(conversion_probabilities(chain)[0])
    effects = {}
    for s in states if states is not None else chain.touch_states:
        t = transitions.copy()
        t.loc[t["to_state"] == s, "to_state"] = NULL
        t = t[t["from_state"] != s]
        if t.empty or not (t["to_state"] == CONVERSION).any():
            effects[s] = 1.0 if p > 0 else 0.0
            continue
        without = MarkovChain(t)
        p_without = float(conversion_probabilities(without)[0]) if START in set(t["from_state"]) else 0.0
        effects[s] = 1.0 - p_without / p if p > 0 else 0.0
    return effects


def journeys_to_transitions(journeys: Iterable[tuple[list[str], bool]]) -> pd.DataFrame:
    """Transition counts from explicit journeys (states in order, converted?) — the same
    counting the dbt model does set-based in SQL; used by tests and examples."""
    counts: dict[tuple[str, str], int] = {}
    for states, converted in journeys:
        path = [START, *states, CONVERSION if converted else NULL]
        for a, b in zip(path, path[1:], strict=False):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return pd.DataFrame(
        [(a, b, n) for (a, b), n in sorted(counts.items())], columns=["from_state", "to_state", "transitions"]
    )
