"""The Markov and Shapley solvers alone, on journeys that mix states freely.

    python -m bench.attribution [--states 200,1000,3000,10000] [--journeys 100000] [--seed 42]
                                [--check-states 1000] [--json]

Per chain size: 100k random journeys (1 to 6 steps, each state drawn uniformly, so that the
chain is one large, well-mixed strongly connected component: the worst case, e.g.
markov_state_grain employee at SF10), then

    markov     attribution.markov.removal_effects (the transition counts are made beforehand)
    exactness  the largest |difference| against the textbook re-solve
               (removal_effects_by_resolving: rebuild and solve the chain without the state),
               for every state of the chains up to --check-states (200) states, 50 sampled
               states up to 1,000, 5 up to 3,000 (a re-solve there is a sparse LU of the whole
               well-mixed chain: 3 s per state); none above (minutes per state)
    shapley    attribution.shapley.shapley_values on the same journeys

Prints a table (and with --json one JSON object); bench.run runs it as the stage
``attribution.solvers`` once per bench run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

from attribution.markov import (
    CONVERSION,
    NULL,
    START,
    MarkovChain,
    removal_effects,
    removal_effects_by_resolving,
)
from attribution.shapley import shapley_values

SIZES = (200, 1000, 3000, 10_000)
JOURNEYS = 100_000
# States re-solved the textbook way on chains larger than --check-states: (up to size, sample).
SAMPLES = ((1000, 50), (3000, 5))


def random_journeys(states: int, journeys: int, seed: int) -> pd.DataFrame:
    """One row per step: journey, step, state, converted. Lengths 1–6, states uniform; a
    journey converts with probability 0.6 × the mean appeal of its states (appeal uniform in
    [0, 1] per state), so that states differ in what they are worth."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 7, journeys)
    journey = np.repeat(np.arange(journeys), lengths)
    state = rng.integers(0, states, journey.size)
    appeal = rng.random(states)
    mean_appeal = np.bincount(journey, weights=appeal[state], minlength=journeys) / lengths
    converted = rng.random(journeys) < 0.6 * mean_appeal
    first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    step = np.arange(journey.size) - np.repeat(first, lengths)
    width = len(str(states - 1))
    names = np.array([f"s{i:0{width}d}" for i in range(states)], dtype=object)
    return pd.DataFrame(
        {
            "journey_id": journey,
            "step_number": step,
            "state": names[state],
            "is_converting": converted[journey],
        }
    )


def transitions(steps: pd.DataFrame) -> pd.DataFrame:
    """The transition counts of int_markov_transitions_counted, vectorized."""
    s = steps.sort_values(["journey_id", "step_number"])
    journey = s["journey_id"].to_numpy()
    state = s["state"].to_numpy()
    last = np.r_[journey[1:] != journey[:-1], True]
    first = np.r_[True, journey[1:] != journey[:-1]]
    end = np.where(s["is_converting"].to_numpy(), CONVERSION, NULL)
    frm = np.concatenate([np.full(first.sum(), START, dtype=object), state])
    following = np.concatenate([state[1:], np.array([NULL], dtype=object)])
    to = np.concatenate([state[first], np.where(last, end, following)])
    counts = pd.DataFrame({"from_state": frm, "to_state": to}).value_counts().rename("transitions")
    return counts.reset_index().sort_values(["from_state", "to_state"], ignore_index=True)


def measure(states: int, journeys: int, seed: int, check_states: int) -> dict:
    steps = random_journeys(states, journeys, seed)
    counts = transitions(steps)
    chain = MarkovChain(counts)
    started = time.perf_counter()
    effects = removal_effects(counts)
    markov_s = time.perf_counter() - started
    fast = dict(zip(effects["state"], effects["removal_effect"], strict=True))
    checked: list[str] = []
    if states <= check_states:
        checked = list(fast)
    else:
        sample = next((k for size, k in SAMPLES if states <= size), 0)
        checked = list(np.random.default_rng(seed).choice(sorted(fast), sample, replace=False))
    error = None
    if checked:
        slow = removal_effects_by_resolving(counts, checked)
        error = max(abs(fast[s] - slow[s]) for s in checked)
    started = time.perf_counter()
    values = shapley_values(steps[["journey_id", "state", "is_converting"]])
    shapley_s = time.perf_counter() - started
    return {
        "states": states,
        "journeys": journeys,
        "steps": len(steps),
        "transitions": int(chain.q.nnz),
        "markov_s": markov_s,
        "checked_states": len(checked),
        "max_abs_error": error,
        "p_conversion": float(effects["p_conversion"].iloc[0]),
        "shapley_s": shapley_s,
        "coalitions": int(values.attrs.get("coalitions", 0)),
    }


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| states | journeys | transitions | markov s | exact: max \\|Δ\\| vs re-solve (states checked) "
        "| shapley s | coalitions |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        check = "not checked"
        if r["max_abs_error"] is not None:
            check = f"{r['max_abs_error']:.1e} ({r['checked_states']:,})"
        lines.append(
            f"| {r['states']:,} | {r['journeys']:,} | {r['transitions']:,} | {r['markov_s']:.2f} | {check} "
            f"| {r['shapley_s']:.2f} | {r['coalitions']:,} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.attribution", description=__doc__.split("\n\n")[0])
    p.add_argument("--states", default=",".join(str(s) for s in SIZES))
    p.add_argument("--journeys", type=int, default=JOURNEYS)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--check-states", type=int, default=200, help="re-solve every state up to this chain size"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = p.parse_args(argv)
    rows = []
    for n in (int(s) for s in args.states.split(",") if s.strip()):
        rows.append(measure(n, args.journeys, args.seed, args.check_states))
        if not args.json:
            print("\n".join(table(rows)[-1:] if len(rows) > 1 else table(rows)), flush=True)
    if args.json:
        print(json.dumps({"sizes": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
