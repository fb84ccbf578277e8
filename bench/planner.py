"""The share planner on generated data: does the plan reach more people outside the company
than the obvious alternatives, and how long does the greedy take at SF10 (10,000 employees)?

    python -m bench.planner [--scale 10] [--seed 42] [--sharers 5] [--items 30]
                            [--backtest-items 300] [--json]

The synthetic company (generator.people, generator.content) is built in memory, the pipeline
skipped: each employee's audience is their generated network (the generator's ground truth;
employees themselves are the colleagues left out), the candidates are the employees whose
advocacy opt-in is yes.

backtest   for every past content item that two or more employees shared (the --backtest-items
           latest published, 300 by default), with K = its number
           of employee sharers: the members outside the company reached by (a) everyone who
           shared it, all at once, (b) the K opted-in employees with the largest networks, and
           (c) the planner's K picks among the opted-in employees (greedy maximum coverage, as if
           the item were new). Per strategy: Σ unique reach over the items, and the overlap
           ratio (1 − Σ union ÷ Σ audience sizes; pooled, and the median of the items' ratios).
timing     planner.coverage.greedy_max_coverage over all employees' audiences (every employee a
           candidate, the worst case) for K = --sharers and K = 100, with the marginal gains it
           recomputed (the plain greedy recomputes every candidate's at every pick); and
           planner.plan.plan_shares, cadence rules included, for the --items most recent items
           at --sharers each, over the opted-in employees.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

from generator.config import DAY, scale_for
from generator.content import build_contents, build_shares
from generator.people import advocate_opt_in, build_company
from planner.coverage import greedy_max_coverage
from planner.plan import PlanSettings, plan_shares


def outside_audiences(company) -> tuple[np.ndarray, np.ndarray]:
    """CSR audiences of every employee, colleagues (member numbers below n) left out."""
    members, owner = company.net_members, np.repeat(np.arange(company.n), np.diff(company.net_offsets))
    keep = members >= company.n
    offsets = np.concatenate(([0], np.cumsum(np.bincount(owner[keep], minlength=company.n))))
    return offsets, members[keep] - company.n


def _union_and_sum(
    offsets: np.ndarray, members: np.ndarray, chosen: np.ndarray, seen: np.ndarray
) -> tuple[int, int]:
    """Distinct members and Σ sizes of the chosen audiences; ``seen`` is a cleared scratch mask."""
    parts = [members[offsets[i] : offsets[i + 1]] for i in chosen]
    if not parts:
        return 0, 0
    joined = np.concatenate(parts)
    seen[joined] = True
    union = int(np.count_nonzero(seen))
    seen[joined] = False
    return union, int(joined.size)


def _subset(offsets: np.ndarray, members: np.ndarray, who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR audiences of ``who`` only, in that order."""
    sizes = offsets[who + 1] - offsets[who]
    parts = [members[offsets[i] : offsets[i + 1]] for i in who]
    return np.concatenate(([0], np.cumsum(sizes))), np.concatenate(parts) if parts else members[:0]


def backtest(scale: float, seed: int, max_items: int = 300) -> dict:
    sc = scale_for(scale)
    company = build_company(sc, seed)
    contents, _ = build_contents(sc, seed)
    shares = build_shares(company, contents, sc, seed)
    offsets, members = outside_audiences(company)
    n_members = int(members.max()) + 1 if members.size else 0
    sizes = np.diff(offsets)
    opted = advocate_opt_in(company, sc, seed) == "true"
    by_size = np.flatnonzero(opted)[np.argsort(-sizes[opted], kind="stable")]
    # the plan chooses among the opted-in only: their audiences alone, numbered 0..
    opted_ids = np.flatnonzero(opted)
    opted_offsets, opted_members = _subset(offsets, members, opted_ids)
    seen = np.zeros(n_members, dtype=bool)

    employee_shares = (shares.author >= 0) & (shares.content >= 0)
    sharers = pd.DataFrame(
        {"content": shares.content[employee_shares], "author": shares.author[employee_shares]}
    )
    sharers = sharers.drop_duplicates().groupby("content")["author"].agg(lambda s: np.sort(s.to_numpy()))
    sharers = sharers[sharers.map(len) >= 2]
    # at most max_items items, the latest published (content numbers follow publication)
    sharers = sharers.sort_index().tail(max_items)
    totals = {s: {"union": 0, "sum": 0, "ratios": []} for s in ("historical", "top_k_network", "plan")}
    items = wins = 0
    for authors in sharers:
        k = len(authors)
        items += 1
        picks = greedy_max_coverage(opted_offsets, opted_members, np.zeros(n_members, bool), k)
        chosen = {
            "historical": authors,
            "top_k_network": by_size[:k],
            "plan": opted_ids[[p.candidate for p in picks]],
        }
        unions = {}
        for name, who in chosen.items():
            union, total = _union_and_sum(offsets, members, who, seen)
            unions[name] = union
            totals[name]["union"] += union
            totals[name]["sum"] += total
            totals[name]["ratios"].append(1 - union / total if total else 0.0)
        wins += unions["plan"] >= unions["top_k_network"]
    strategies = {
        name: {
            "unique_reach": t["union"],
            "audience_sum": t["sum"],
            "overlap_ratio": 1 - t["union"] / t["sum"] if t["sum"] else 0.0,
            "median_overlap_ratio": float(np.median(t["ratios"])) if t["ratios"] else 0.0,
        }
        for name, t in totals.items()
    }
    return {
        "scale": scale,
        "seed": seed,
        "employees": company.n,
        "opted_in": int(opted.sum()),
        "items": items,
        "plan_at_least_top_k_items": int(wins),
        "strategies": strategies,
        "_company": company,
        "_contents": contents,
        "_shares": shares,
        "_audiences": (offsets, members),
        "_opted": opted,
    }


def timing(result: dict, sharers: int, recent_items: int) -> dict:
    offsets, members = result["_audiences"]
    n_members = int(members.max()) + 1
    out = {}
    for k in (sharers, 100):
        started, cpu = time.perf_counter(), time.process_time()
        picks = greedy_max_coverage(offsets, members, np.zeros(n_members, bool), k)
        out[f"greedy_k{k}_s"] = time.perf_counter() - started
        out[f"greedy_k{k}_cpu_s"] = time.process_time() - cpu
        out[f"greedy_k{k}_recomputed"] = sum(p.recomputations for p in picks)
        out[f"greedy_k{k}_plain_recomputed"] = (len(offsets) - 1) * len(picks)
    company, contents, shares, opted = (
        result["_company"],
        result["_contents"],
        result["_shares"],
        result["_opted"],
    )
    ids = np.array([f"e{i}" for i in range(company.n)], dtype=object)
    latest = np.argsort(-contents.published_at, kind="stable")[:recent_items]
    start = int(contents.published_at.max()) + DAY
    cand = np.flatnonzero(opted)
    owner = np.repeat(np.arange(company.n), np.diff(offsets))
    keep = opted[owner]
    employee = shares.author >= 0
    frames = {
        "contents": pd.DataFrame(
            {
                "content_id": [f"c{i}" for i in latest],
                "published_at": pd.to_datetime(contents.published_at[latest], unit="s", utc=True),
            }
        ),
        "candidates": pd.DataFrame(
            {"employee_id": ids[cand], "usual_hour": (cand * 7) % 24, "audience_basis": "observed"}
        ),
        "audiences": pd.DataFrame({"employee_id": ids[owner[keep]], "member_key": members[keep]}),
        "reached": pd.DataFrame(
            {"content_id": pd.Series(dtype=str), "member_key": pd.Series(dtype=np.int64)}
        ),
        "posts": pd.DataFrame(
            {
                "employee_id": ids[shares.author[employee]],
                "posted_at": pd.to_datetime(shares.posted_at[employee], unit="s", utc=True),
                "content_id": [f"c{c}" if c >= 0 else None for c in shares.content[employee]],
            }
        ),
    }
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_shares(
        frames["contents"],
        frames["candidates"],
        frames["audiences"],
        frames["reached"],
        frames["posts"],
        pd.Timestamp(start, unit="s", tz="UTC"),
        PlanSettings(sharers=sharers),
    )
    out["plan_shares_s"] = time.perf_counter() - started
    out["plan_shares_cpu_s"] = time.process_time() - cpu
    out["plan_items"] = int(plan["content_id"].nunique())
    out["plan_rows"] = len(plan)
    out["plan_candidates"] = int(opted.sum())
    return out


def render(result: dict, times: dict, sharers: int) -> str:
    s = result["strategies"]
    lines = [
        f"share planner, SF{result['scale']:g} seed {result['seed']}: {result['employees']:,} employees,"
        f" {result['opted_in']:,} opted in",
        f"backtest: {result['items']} past items shared by 2+ employees, K = each item's number of sharers",
        f"{'strategy':<34} {'unique reach':>13} {'Σ audiences':>12} {'overlap':>8} {'median overlap':>15}",
    ]
    labels = {
        "historical": "(a) everyone who shared it",
        "top_k_network": "(b) top-K opted in by network size",
        "plan": "(c) the plan (greedy, opted in)",
    }
    for name, label in labels.items():
        v = s[name]
        lines.append(
            f"{label:<34} {v['unique_reach']:>13,} {v['audience_sum']:>12,} {v['overlap_ratio']:>8.4f}"
            f" {v['median_overlap_ratio']:>15.4f}"
        )
    lines.append(
        f"plan ≥ top-K on unique reach in {result['plan_at_least_top_k_items']} of {result['items']} items"
    )
    lines += [
        f"timing over all {result['employees']:,} employees' audiences:",
        f"  greedy K={sharers}: {times[f'greedy_k{sharers}_s']:.3f} s"
        f" (CPU {times[f'greedy_k{sharers}_cpu_s']:.3f} s),"
        f" {times[f'greedy_k{sharers}_recomputed']:,} marginal gains recomputed"
        f" (plain greedy: {times[f'greedy_k{sharers}_plain_recomputed']:,})",
        f"  greedy K=100: {times['greedy_k100_s']:.3f} s (CPU {times['greedy_k100_cpu_s']:.3f} s),"
        f" {times['greedy_k100_recomputed']:,} recomputed"
        f" (plain greedy: {times['greedy_k100_plain_recomputed']:,})",
        f"  plan_shares, cadence included: {times['plan_items']} items × up to {sharers} sharers over"
        f" {times['plan_candidates']:,} opted-in employees: {times['plan_shares_s']:.2f} s"
        f" (CPU {times['plan_shares_cpu_s']:.2f} s)"
        f" ({times['plan_rows']} rows)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.planner", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sharers", type=int, default=5)
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--backtest-items", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    result = backtest(args.scale, args.seed, args.backtest_items)
    times = timing(result, args.sharers, args.items)
    times["total_s"] = time.perf_counter() - started
    if args.json:
        public = {k: v for k, v in result.items() if not k.startswith("_")}
        print(json.dumps({**public, "timing": times}, indent=2))
    else:
        print(render(result, times, args.sharers))
        print(f"(whole bench: {times['total_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
