"""When a suggested share may go out: "less is more" as rules on one person's calendar.

A slot t is free for a person when none of their posts (past, or planned earlier in the same
plan) lies within ``min_gap`` seconds of it, and every seven-day window holding t would hold at
most ``max_per_week`` posts with it. Times are epoch seconds (UTC).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

HOUR = 3_600
DAY = 86_400
WEEK = 7 * DAY


@dataclass(frozen=True)
class Cadence:
    min_hours_between_posts: float = 24
    max_posts_per_week: int = 3

    def __post_init__(self) -> None:
        if self.min_hours_between_posts < 0:
            raise ValueError("min_hours_between_posts must be 0 or more")
        if self.max_posts_per_week < 1:
            raise ValueError("max_posts_per_week must be 1 or more")


@dataclass
class Calendar:
    """One person's posts, sorted."""

    posts: list[int] = field(default_factory=list)

    def add(self, t: int) -> None:
        bisect.insort(self.posts, t)

    def is_free(self, t: int, cadence: Cadence) -> bool:
        gap = cadence.min_hours_between_posts * HOUR
        lo = bisect.bisect_left(self.posts, t - WEEK + 1)
        hi = bisect.bisect_right(self.posts, t + WEEK - 1)
        near = self.posts[lo:hi]  # the only posts a window holding t can also hold
        if any(abs(p - t) < gap for p in near):
            return False
        # The fullest window holding t starts at t or at one of the posts before it.
        for start in [p for p in near if p <= t] + [t]:
            in_window = sum(1 for p in near if start <= p < start + WEEK)
            if in_window + 1 > cadence.max_posts_per_week:
                return False
        return True
