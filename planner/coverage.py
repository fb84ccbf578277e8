"""Greedy maximum coverage with lazy evaluation of marginal gains (CELF).

Choosing k audiences whose union is largest is NP-hard; the greedy choice (always the audience
that adds the most members not yet covered) is within 1 − 1/e of the best, and no polynomial
algorithm does better in general. Coverage is submodular: an audience's marginal gain only
shrinks as others are chosen, so a gain computed earlier is an upper bound of the current one.
CELF (Leskovec et al., 2007) keeps those stale bounds in a priority queue and recomputes only
the top one until the top is fresh: the same choices as the plain greedy, in a handful of
recomputations per pick instead of one per candidate.

Audiences are CSR arrays: candidate i's members are ``members[offsets[i]:offsets[i + 1]]``,
dense member numbers in [0, n_members) (no repeats within one audience).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pick:
    candidate: int  # index into the audiences
    gain: int  # members it adds that no earlier pick (nor the initially covered) reaches
    recomputations: int  # marginal gains recomputed before this pick was settled


def audience_gains(offsets: np.ndarray, members: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Every candidate's members not yet covered: its size less its covered members, found
    from the covered entries alone (few when a plan starts: one pass over every member's
    entry counted seconds at SF10, an item at a time)."""
    hit = np.flatnonzero(covered[members])
    owners = np.searchsorted(offsets, hit, side="right") - 1  # an empty audience owns no entry
    return np.diff(offsets) - np.bincount(owners, minlength=len(offsets) - 1)


def by_size(sizes: np.ndarray) -> np.ndarray:
    """The non-empty candidates in the order of a heap of their sizes: largest first, the lower
    index on a tie."""
    order = np.argsort(-sizes, kind="stable")
    return order[sizes[order] > 0]


def greedy_max_coverage(
    offsets: np.ndarray,
    members: np.ndarray,
    covered: np.ndarray,
    k: int,
    eligible: np.ndarray | None = None,
    accept: Callable[[int, int], bool] | None = None,
) -> list[Pick]:
    """Up to k picks, in the order the greedy makes them. ``covered`` (a boolean array over the
    member numbers) marks members already reached and is updated in place. ``eligible`` masks
    candidates out; ``accept(candidate, gain)`` may still turn down the current best (e.g. no
    posting slot is free), which then leaves the queue for good. Stops early when no candidate
    adds anyone: a share that reaches no new member is not worth asking for. Ties go to the
    lower candidate index, so that a plan is reproducible."""
    sizes = np.diff(offsets)
    gains = audience_gains(offsets, members, covered)
    touched = np.flatnonzero(gains < sizes)
    return _celf(offsets, members, covered, k, eligible, accept, touched, gains[touched], by_size(sizes))


class Audiences:
    """The candidates' audiences indexed once for many greedy runs over the same audiences (a
    plan: one per content item). A run then costs what the item's covered members and its picks
    touch: computing every candidate's gain (a pass over every audience entry) and a heap of
    every candidate, once per item, grew with the items times the company — at SF100, 55 s of a
    day's build. The index: each member's candidates (``holders``, CSR by member number) and
    the candidates in the order of their full sizes."""

    def __init__(self, offsets: np.ndarray, members: np.ndarray, n_members: int) -> None:
        self.offsets, self.members = offsets, members
        self.sizes = np.diff(offsets)
        owner = np.repeat(np.arange(len(self.sizes)), self.sizes)
        self.holders = owner[np.argsort(members, kind="stable")]
        self.holder_offsets = np.concatenate(([0], np.cumsum(np.bincount(members, minlength=n_members))))
        self.by_size = by_size(self.sizes)

    def touched(self, covered_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates holding a member at ``covered_at`` (distinct member numbers), and their
        gains: size less the covered members they hold. Every other candidate's gain is its size."""
        starts = self.holder_offsets[covered_at]
        counts = self.holder_offsets[covered_at + 1] - starts
        ends = np.cumsum(counts)
        entries = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - counts), counts)
        who, held = np.unique(self.holders[entries], return_counts=True)
        return who, self.sizes[who] - held

    def greedy(
        self,
        covered: np.ndarray,
        covered_at: np.ndarray,
        k: int,
        eligible: np.ndarray | None = None,
        accept: Callable[[int, int], bool] | None = None,
    ) -> list[Pick]:
        """greedy_max_coverage's picks; ``covered_at`` lists the members ``covered`` marks."""
        who, gains = self.touched(np.asarray(covered_at, dtype=np.int64))
        return _celf(self.offsets, self.members, covered, k, eligible, accept, who, gains, self.by_size)


def _celf(
    offsets: np.ndarray,
    members: np.ndarray,
    covered: np.ndarray,
    k: int,
    eligible: np.ndarray | None,
    accept: Callable[[int, int], bool] | None,
    touched: np.ndarray,
    touched_gains: np.ndarray,
    order: np.ndarray,
) -> list[Pick]:
    """CELF over two queues: a heap of the ``touched`` candidates (gain below their size) and of
    every recomputed bound, and ``order`` (by_size) for the candidates whose bound is still their
    size. Taking the smaller head of the two each time pops what one heap of every candidate
    would, in the same order (the entries are distinct tuples (-gain, candidate, fresh_at)),
    without a Python tuple per candidate per run."""
    allowed = np.ones(len(offsets) - 1, dtype=bool) if eligible is None else eligible
    start = allowed[touched] & (touched_gains > 0)
    heap = list(zip((-touched_gains[start]).tolist(), touched[start].tolist(), itertools.repeat(0)))
    heapq.heapify(heap)
    untouched = allowed.copy()
    untouched[touched] = False
    queue = order[untouched[order]]
    sizes = offsets[queue + 1] - offsets[queue]
    queued = 0
    picks: list[Pick] = []
    recomputed = 0
    while len(picks) < k:
        head = (-int(sizes[queued]), int(queue[queued]), 0) if queued < len(queue) else None
        if heap and (head is None or heap[0] < head):
            neg_gain, i, fresh_at = heapq.heappop(heap)
        elif head is not None:
            (neg_gain, i, fresh_at), queued = head, queued + 1
        else:
            break
        if fresh_at != len(picks):  # a stale bound: recompute it against the current cover
            seg = members[offsets[i] : offsets[i + 1]]
            gain = int(np.count_nonzero(~covered[seg]))
            recomputed += 1
            if gain > 0:
                heapq.heappush(heap, (-gain, i, len(picks)))
            continue
        gain = -neg_gain
        if accept is not None and not accept(i, gain):
            continue
        covered[members[offsets[i] : offsets[i + 1]]] = True
        picks.append(Pick(i, gain, recomputed))
        recomputed = 0
    return picks
