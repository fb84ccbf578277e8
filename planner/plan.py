"""A share plan: per content item, the opted-in employees to ask next, in order, each with a
suggested time, the members outside the company they are expected to add, and why.

Selection is greedy maximum coverage (planner.coverage) of the candidates' audiences, with the
members that earlier shares of the item already reached counted as covered; timing follows
each person's usual posting hour and the cadence rules (planner.cadence): the n-th suggested
sharer of an item goes out on the n-th day of the plan, or the first later day that is free
for the item (one suggested share of it per day) and for the person; someone with no free day
within the horizon is passed over for the next best. Items are planned oldest first, and a
person's planned posts count against their cadence for the items after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.cadence import DAY, HOUR, Cadence, Calendar
from planner.coverage import Audiences

COLUMNS = {
    "content_id": "string",
    "employee_id": "string",
    "sharer_rank": "int64",
    "suggested_at": "datetime64[us, UTC]",
    "expected_new_members": "int64",
    "cumulative_new_members": "int64",
    "audience_size": "int64",
    "audience_basis": "string",
    "already_reached": "int64",
    "usual_hour": "int64",
    "reason": "string",
}


@dataclass(frozen=True)
class PlanSettings:
    sharers: int = 5
    cadence: Cadence = Cadence()
    horizon_days: int = 14
    default_hour: int = 9

    def __post_init__(self) -> None:
        if self.sharers < 1:
            raise ValueError("sharers must be 1 or more")
        if self.horizon_days < 1:
            raise ValueError("horizon_days must be 1 or more")
        if not 0 <= self.default_hour <= 23:
            raise ValueError("default_hour must be an hour of the day, 0 to 23")


def _seconds(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]").astype("int64") // 1_000_000


def empty_plan() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})


def plan_shares(
    contents: pd.DataFrame,
    candidates: pd.DataFrame,
    audiences: pd.DataFrame,
    reached: pd.DataFrame,
    posts: pd.DataFrame,
    start: pd.Timestamp,
    settings: PlanSettings = PlanSettings(),
) -> pd.DataFrame:
    """The plan, one row per content item × suggested sharer.

    contents:   content_id, published_at — the items to plan
    candidates: employee_id, usual_hour (null: default_hour), audience_basis — who may be asked
    audiences:  employee_id, member_key — each candidate's audience, colleagues left out
    reached:    content_id, member_key — members earlier shares of the item already reached
    posts:      employee_id, posted_at, content_id — the candidates' posts so far
    """
    if contents.empty or candidates.empty:
        return empty_plan()
    candidates = candidates.sort_values("employee_id", kind="stable").reset_index(drop=True)
    ids = candidates["employee_id"].astype(str).to_numpy()
    index = pd.Index(ids)
    hours = candidates["usual_hour"].fillna(settings.default_hour).astype("int64").to_numpy()
    basis = candidates["audience_basis"].astype(str).to_numpy()

    # CSR audiences over dense member numbers
    who = _positions(audiences["employee_id"], index)
    keys = audiences["member_key"].to_numpy()[who >= 0]
    who = who[who >= 0]
    order = np.argsort(who, kind="stable")
    member_codes, members = _dense(keys[order])
    offsets = np.concatenate(([0], np.cumsum(np.bincount(who, minlength=len(ids)))))
    sizes = np.diff(offsets)
    indexed = Audiences(offsets, members, len(member_codes))

    calendars = {i: Calendar() for i in range(len(ids))}
    posters = _positions(posts["employee_id"], index)
    own = posts[posters >= 0]
    posters = posters[posters >= 0]
    for i, t in zip(posters, _seconds(own["posted_at"]), strict=True):
        calendars[int(i)].add(int(t))
    shared_posts = own.dropna(subset=["content_id"])
    shared_by = pd.Series(posters[own["content_id"].notna().to_numpy()]).groupby(
        shared_posts["content_id"].to_numpy()
    )
    shared = {content_id: group.to_numpy() for content_id, group in shared_by}
    reached_by = _dense_members_by_content(reached, member_codes)

    start_s = int(_seconds(pd.Series([start]))[0])
    free_days = _FreeDays(start_s, hours, calendars, settings)
    rows = []
    items = contents.sort_values(["published_at", "content_id"], kind="stable")
    # One cover for every item, cleared after each of what it set: a fresh array per item (one
    # entry per member) grew with the items times the company.
    covered = np.zeros(len(member_codes), bool)
    nobody = np.zeros(0, dtype=np.int64)
    for content_id, published_s in zip(items["content_id"], _seconds(items["published_at"]), strict=True):
        reached_at = reached_by.get(content_id, nobody)
        covered[reached_at] = True
        already = len(reached_at)
        # Whoever shared the item is not asked again; nor is anyone whose calendar has no free
        # day left in the horizon (they would be turned down whenever their turn came).
        eligible = ~free_days.booked_out
        eligible[shared.get(content_id, [])] = False
        slots = _ItemSlots(start_s, max(start_s, int(published_s)), hours, free_days, settings)
        picks = indexed.greedy(covered, reached_at, settings.sharers, eligible, slots.accept)
        covered[reached_at] = False
        for pick in picks:
            covered[members[offsets[pick.candidate] : offsets[pick.candidate + 1]]] = False
        total = 0
        for rank, pick in enumerate(picks, start=1):
            i, t = pick.candidate, slots.slot[pick.candidate]
            free_days.book(i, t)
            total += pick.gain
            rows.append(
                {
                    "content_id": content_id,
                    "employee_id": ids[i],
                    "sharer_rank": rank,
                    "suggested_at": pd.Timestamp(t, unit="s", tz="UTC"),
                    "expected_new_members": pick.gain,
                    "cumulative_new_members": total,
                    "audience_size": int(sizes[i]),
                    "audience_basis": basis[i],
                    "already_reached": already,
                    "usual_hour": int(hours[i]),
                    "reason": _reason(pick.gain, int(sizes[i]), basis[i], rank, slots.delay[i], settings),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS) if rows else empty_plan()


# The warehouse's member_number is a 128-bit number on DuckDB (macro member_number), which
# numpy cannot hold: a DuckDB reader selects it as its two 64-bit halves for number_members.
DUCKDB_MEMBER_HALVES = (
    "cast(member_number >> 64 as ubigint) as member_high,"
    " cast(member_number & cast(18446744073709551615 as uhugeint) as ubigint) as member_low"
)


def number_members(
    audiences: pd.DataFrame, reached: pd.DataFrame, by: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """plan_shares' audiences and reached from the planner's tables: the columns ``by``, which
    together name a member (member_number; on DuckDB its halves, DUCKDB_MEMBER_HALVES), become
    member_key, the members of the audiences numbered 0, 1, … (int_share_plan_audiences keeps
    no dense key: a rank over every row cannot be kept incrementally). Any numbering gives the
    same plan: members are only told apart, never ordered. Members earlier shares reached that
    no audience holds are left out (nobody can add them)."""
    n = len(audiences)
    keys = _member_codes([np.concatenate([audiences[c].to_numpy(), reached[c].to_numpy()]) for c in by])
    known = int(keys[:n].max()) + 1 if n else 0
    hit = keys[n:] < known
    return (
        audiences.drop(columns=by).assign(member_key=keys[:n]),
        reached.drop(columns=by)[hit].assign(member_key=keys[n:][hit]),
    )


def _member_codes(columns: list[np.ndarray]) -> np.ndarray:
    """A number per distinct row of ``columns``, in order of first appearance (pd.factorize:
    hashing, no sort). The first column alone tells the members apart unless two of them share
    its value (two 128-bit pseudonyms with the same upper half: about 2 in 10^7 at SF100's
    2.5 M members), checked exactly; only then are the columns numbered together."""
    codes, uniques = pd.factorize(columns[0])
    for column in columns[1:]:
        seen = np.empty(len(uniques), dtype=column.dtype)
        seen[codes] = column
        if not (seen[codes] == column).all():
            more, more_uniques = pd.factorize(column)
            codes, uniques = pd.factorize(codes.astype(np.int64) * len(more_uniques) + more)
    return codes.astype(np.int64)


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (ids as strings; -1: not there), each distinct value
    looked up once: a lookup per row cost 1.3 s on SF100-sized inputs (5.9 M audience rows,
    32,160 candidates), this 0.13 s."""
    codes, distinct = pd.factorize(values)
    found = index.get_indexer(pd.Index(distinct).astype(str))
    return np.where(codes >= 0, found[codes], -1)


def _dense(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True): the distinct keys, sorted, and each key's position
    among them. The planner's member keys are dense numbers already (number_members),
    so a table over them answers without sorting millions of keys (0.24 s against 0.64-1.2 s on
    SF100-sized inputs)."""
    if keys.dtype.kind in "iu" and keys.size and keys.min() >= 0 and keys.max() < 2 * keys.size:
        present = np.zeros(int(keys.max()) + 1, dtype=bool)
        present[keys] = True
        return np.flatnonzero(present).astype(keys.dtype), (np.cumsum(present) - 1)[keys]
    return np.unique(keys, return_inverse=True)


def _dense_members_by_content(reached: pd.DataFrame, member_codes: np.ndarray) -> dict[object, np.ndarray]:
    """Per content item, the positions in ``member_codes`` (sorted) of the members earlier shares
    reached: found once for all items (a search per item over every member cost seconds at SF10).
    Members no candidate's audience holds cannot be covered and are left out; each member once
    per item (the count of members already reached is the length)."""
    keys = reached["member_key"].to_numpy()
    n = len(member_codes)
    dense = keys.dtype.kind in "iu" and (n == 0 or (member_codes[0] == 0 and member_codes[-1] == n - 1))
    if dense:
        # Sorted, distinct and from 0 to n - 1: the codes are 0 … n - 1 and a key is its own
        # position (number_members' keys always are: the search cost 0.67 s at SF100).
        positions = keys
        hit = (keys >= 0) & (keys < n)
    else:
        positions = np.searchsorted(member_codes, keys)
        hit = positions < n
        hit[hit] = member_codes[positions[hit]] == keys[hit]
    items, contents = pd.factorize(reached["content_id"].array[hit])
    # One sort of the (item, member) pairs drops repeats and groups them by item (np.unique
    # took 2.8 s over SF100-sized inputs' 2.5 M pairs, the sort 0.03 s).
    pairs = np.sort(items.astype(np.int64) * n + positions[hit])
    pairs = pairs[np.diff(pairs, prepend=-1) != 0]
    item_of = pairs // n
    bounds = np.append(np.flatnonzero(np.diff(item_of, prepend=-1)), len(pairs))
    return {contents[item_of[a]]: pairs[a:b] % n for a, b in zip(bounds[:-1], bounds[1:], strict=True)}


class _FreeDays:
    """Which days of the plan are free for each person at their hour (Calendar.is_free), kept
    between items: a person's calendar changes only when they are picked, and a post only takes
    days away, so their days are worked out when first needed and again after each of their
    picks — not for every turn the greedy offers them (tens of thousands at SF10). The day-th
    slot of person i is the plan's first day + day days, at their hour."""

    def __init__(
        self, start: int, hours: np.ndarray, calendars: dict[int, Calendar], settings: PlanSettings
    ) -> None:
        self.day0 = start - start % DAY
        self.hours, self.calendars, self.settings = hours, calendars, settings
        self.booked_out = np.zeros(len(hours), dtype=bool)  # no free day left (once known)
        self._free: dict[int, list[bool]] = {}

    def slot(self, i: int, day: int) -> int:
        return self.day0 + day * DAY + int(self.hours[i]) * HOUR

    def of(self, i: int) -> list[bool]:
        free = self._free.get(i)
        if free is None:
            calendar, cadence = self.calendars[i], self.settings.cadence
            free = [calendar.is_free(self.slot(i, day), cadence) for day in range(self.settings.horizon_days)]
            self._free[i] = free
            self.booked_out[i] = not any(free)
        return free

    def book(self, i: int, t: int) -> None:
        self.calendars[i].add(t)
        self._free.pop(i, None)


class _ItemSlots:
    """The slots of one item's suggested shares: the n-th pick's turn is the n-th day from the
    plan's first day (the first at or after its start, at the person's hour), one suggested
    share of the item per day, the person's calendar permitting."""

    def __init__(
        self,
        start: int,
        earliest: int,
        hours: np.ndarray,
        free_days: _FreeDays,
        settings: PlanSettings,
    ) -> None:
        self.earliest, self.hours, self.free_days, self.settings = earliest, hours, free_days, settings
        self.used_days: set[int] = set()
        self.slot: dict[int, int] = {}
        self.delay: dict[int, int] = {}

    def accept(self, i: int, gain: int) -> bool:
        turn = None  # the first day of the pick's turn that is not before the earliest moment
        free = self.free_days.of(i)
        for day in range(len(self.slot), self.settings.horizon_days):
            t = self.free_days.slot(i, day)
            if t < self.earliest:
                continue
            turn = day if turn is None else turn
            if day not in self.used_days and free[day]:
                self.used_days.add(day)
                self.slot[i] = t
                self.delay[i] = day - turn
                return True
        return False


def _reason(gain: int, size: int, basis: str, rank: int, delay: int, settings: PlanSettings) -> str:
    whose = "observed connections" if basis == "observed" else "recent engagers (no connections export)"
    after = "no earlier share reaches"
    if rank > 1:
        after = "no earlier share nor higher-ranked suggestion reaches"
    text = f"adds {gain} members outside the company that {after}: {gain / size:.0%} of {size} {whose}"
    if delay:
        c = settings.cadence
        text += (
            f"; {delay} day{'s' if delay > 1 else ''} after its turn: one suggested share of the item"
            f" a day, at least {c.min_hours_between_posts:g} h between their posts, at most"
            f" {c.max_posts_per_week} a week"
        )
    return text
