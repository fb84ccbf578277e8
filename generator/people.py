"""Employees, their networks, the company page, and the `employee`, `audience` and
`page_followers` events.

Member ids live in one integer space: [0, E) are the employees themselves, then one pool of
members per department (people in that department's professional circles, which is why
colleagues' audiences overlap), then a large global pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator import names
from generator.config import (
    COMPANY_DOMAIN,
    DAY,
    DEPARTMENT_SHARING,
    DEPARTMENT_WEIGHTS,
    DEPARTMENTS,
    END,
    HOUR,
    PAGE_ID,
    START,
    YEAR,
    Scale,
)
from generator.events import Events, LazyEvents, draw_offsets, make_events, month_of
from generator.ids import hex_ids, seq_ids, stream

MONTH_STARTS = np.array(
    [np.datetime64(f"{YEAR}-{m:02d}-01", "s").astype(np.int64) for m in range(1, 13)], dtype=np.int64
)
QUARTER_MONTHS = np.array([0, 3, 6, 9])
TIER_ACTIVE, TIER_REGULAR, TIER_CASUAL = 0, 1, 2
_ASCII = str.maketrans({"á": "a", "ü": "u", "ö": "o", "é": "e"})


@dataclass
class Company:
    n: int
    employee_id: pa.Array
    dept: np.ndarray  # index into DEPARTMENTS; employees are sorted by department
    dept_start: np.ndarray  # first employee of each department
    dept_count: np.ndarray
    tier: np.ndarray  # TIER_ACTIVE / TIER_REGULAR / TIER_CASUAL
    size_by_month: np.ndarray  # (n, 12) LinkedIn connections at each month start
    has_twitter: np.ndarray
    twitter_size: np.ndarray  # (n, 12)
    member_id: pa.Array  # the employee's own LinkedIn member id (index i of the member space)
    member_known: np.ndarray  # False for the few whose member id the roster lacks
    email: list[str]
    net_offsets: np.ndarray  # members of employee i: net_members[net_offsets[i]:net_offsets[i+1]]
    net_members: np.ndarray  # member indices, in connection order
    dept_pool_base: np.ndarray
    dept_pool_size: np.ndarray
    global_base: int
    global_size: int
    followers_daily: np.ndarray  # page followers at the end of each day of the year
    seed: int

    def member_ids(self, member_index: np.ndarray) -> pa.Array:
        return hex_ids("li:", member_index, self.seed, "member")

    def snapshot_size(self, employee: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Network size from the employee's latest snapshot at or before t (as marts see it)."""
        month = np.searchsorted(MONTH_STARTS, t, side="right") - 1
        return self.size_by_month[employee, np.clip(month, 0, 11)]

    def followers_at(self, t: np.ndarray) -> np.ndarray:
        day = np.clip((t - START) // DAY - 1, 0, len(self.followers_daily) - 1)
        return self.followers_daily[day]


def build_company(scale: Scale, seed: int) -> Company:
    rng = stream(seed, "company")
    n = scale.employees
    dept = np.sort(rng.choice(len(DEPARTMENTS), size=n, p=DEPARTMENT_WEIGHTS))
    dept_count = np.bincount(dept, minlength=len(DEPARTMENTS))
    dept_start = np.concatenate([[0], np.cumsum(dept_count)[:-1]])

    # Network sizes: lognormal at January, growing a little over the year (a few shrink).
    jan = rng.lognormal(np.log(scale.network_median * 0.94), scale.network_sigma, n)
    growth = rng.normal(0.011, 0.008, n)
    steps = np.exp(np.cumsum(np.c_[np.zeros(n), np.tile(growth[:, None], 11)], axis=1))
    noise = rng.normal(0, 0.01, (n, 12))
    size = np.maximum(np.round(jan[:, None] * steps * (1 + noise)), 3).astype(np.int64)

    # Active sharers: a few %, more likely in sales/marketing and with bigger networks.
    weight = np.asarray(DEPARTMENT_SHARING)[dept] * np.sqrt(size[:, 0])
    order = rng.choice(n, size=n, replace=False, p=weight / weight.sum())
    n_active = max(1, round(scale.active_share * n))
    n_regular = max(1, round(scale.regular_share * n))
    tier = np.full(n, TIER_CASUAL, dtype=np.int8)
    tier[order[:n_active]] = TIER_ACTIVE
    tier[order[n_active : n_active + n_regular]] = TIER_REGULAR

    has_twitter = rng.random(n) < scale.twitter_share_of_employees
    tw = rng.lognormal(np.log(300), 1.2, n)[:, None] * np.linspace(1.0, 1.08, 12)[None, :]
    twitter_size = np.round(tw).astype(np.int64)

    member_known = rng.random(n) > 0.03
    email = _employee_emails(rng, n)

    # Department pools are small enough that colleagues' networks overlap noticeably.
    pool_size = 40 * dept_count + 300
    pool_base = n + np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    global_base = int(n + pool_size.sum())
    global_size = int(4 * size[:, -1].sum()) + 10_000
    offsets, members = _networks(
        rng, size[:, -1], dept, dept_start, dept_count, pool_base, pool_size, global_base, global_size
    )

    followers0 = size[:, 0].sum() / scale.network_to_followers
    days = np.arange(365)
    drift = rng.normal(0, 0.0015, 365).cumsum()
    followers = np.round(followers0 * (1 + scale.page_follower_growth * days / 365 + drift))

    return Company(
        n=n,
        employee_id=seq_ids("emp_", np.arange(n), 5),
        dept=dept,
        dept_start=dept_start,
        dept_count=dept_count,
        tier=tier,
        size_by_month=size,
        has_twitter=has_twitter,
        twitter_size=twitter_size,
        member_id=hex_ids("li:", np.arange(n), seed, "member"),
        member_known=member_known,
        email=email,
        net_offsets=offsets,
        net_members=members,
        dept_pool_base=pool_base,
        dept_pool_size=pool_size,
        global_base=global_base,
        global_size=global_size,
        followers_daily=np.maximum(followers, 1).astype(np.int64),
        seed=seed,
    )


def _employee_emails(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.integers(0, len(names.FIRST_NAMES), n)
    last = rng.integers(0, len(names.LAST_NAMES), n)
    seen: dict[str, int] = {}
    out = []
    for f, la in zip(first, last, strict=True):  # per employee, not per event
        local = f"{names.FIRST_NAMES[f]}.{names.LAST_NAMES[la]}".lower().translate(_ASCII)
        k = seen.get(local, 0)
        seen[local] = k + 1
        out.append(f"{local}{k if k else ''}@{COMPANY_DOMAIN}")
    return out


def _networks(
    rng, final_size, dept, dept_start, dept_count, pool_base, pool_size, global_base, global_size
) -> tuple[np.ndarray, np.ndarray]:
    # Tens of millions of connections at SF100: each temporary is let go as soon as it is used
    # (the draws and their order are unchanged).
    n = len(final_size)
    owner = np.repeat(np.arange(n, dtype=np.int32), final_size)
    m = len(owner)
    d = dept[owner].astype(np.int8)
    u = rng.random(m)
    kind = np.where(u < 0.06, 0, np.where(u < 0.36, 1, 2)).astype(np.int8)  # colleague / pool / global
    del u
    same = rng.random(m) < 0.6
    colleague = np.where(
        same,
        dept_start[d] + (rng.random(m) * dept_count[d]).astype(np.int64),
        rng.integers(0, n, m),
    )
    del same
    pool = pool_base[d] + (rng.random(m) * pool_size[d]).astype(np.int64)
    del d
    glob = global_base + rng.integers(0, global_size, m)
    member = np.choose(kind, [colleague, pool, glob]).astype(np.int64)
    del kind, colleague, pool, glob
    keep = member != owner
    owner, member = owner[keep], member[keep]
    del keep
    # One connection per (employee, member); then a random connection order per employee.
    key = np.unique(owner.astype(np.int64) << 40 | member)
    del owner, member
    owner, member = (key >> 40).astype(np.int32), key & ((1 << 40) - 1)
    del key
    member = member[np.lexsort((rng.random(len(owner)), owner))]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))])
    return offsets, member


def employee_events(c: Company, scale: Scale, seed: int) -> Events:
    rng = stream(seed, "employee_events")
    quarterly = rng.random(c.n) < 0.3
    emp, month = np.nonzero(np.ones((c.n, 12), dtype=bool))
    keep = ~quarterly[emp] | np.isin(month, QUARTER_MONTHS)
    emp, month = emp[keep], month[keep]
    network = np.full(len(emp), "linkedin", dtype=object)
    size = c.size_by_month[emp, month]
    # Twitter snapshots, quarterly, for the few who are active there.
    tw_emp, tw_q = np.nonzero(c.has_twitter[:, None] & np.ones((1, 4), dtype=bool))
    tw_month = QUARTER_MONTHS[tw_q]
    emp = np.concatenate([emp, tw_emp])
    month = np.concatenate([month, tw_month])
    network = np.concatenate([network, np.full(len(tw_emp), "twitter", dtype=object)])
    size = np.concatenate([size, c.twitter_size[tw_emp, tw_month]])
    # Taken within the first hour of the month, so that every post has a snapshot before it.
    t = MONTH_STARTS[month] + rng.integers(0, HOUR, len(emp))
    member = c.member_id.take(pa.array(emp))
    member = pa.array(np.where(c.member_known[emp], member.to_numpy(zero_copy_only=False), None), pa.string())
    email = np.asarray(c.email, dtype=object)[emp]
    title_table = [names.TITLES[d] for d in DEPARTMENTS]
    title_pick = (np.arange(c.n) * 7 + seed) % 4  # stable title per employee
    titles = np.array(
        [title_table[c.dept[e]][title_pick[e] % len(title_table[c.dept[e]])] for e in range(c.n)],
        dtype=object,
    )
    order = np.lexsort((network, emp, t))
    cols = {
        "employee_id": c.employee_id.take(pa.array(emp[order])),
        "observed_at": t[order],
        "network": network[order],
        "network_size": size[order],
        "member_id": member.take(pa.array(order)),
        "department": np.asarray(DEPARTMENTS, dtype=object)[c.dept[emp[order]]],
        "title": titles[emp[order]],
        "email": email[order],
        "advocate_opt_in": advocate_opt_in(c, scale, seed)[emp[order]],
    }
    return make_events("employee", cols, t[order], rng)


def advocate_opt_in(c: Company, scale: Scale, seed: int) -> np.ndarray:
    """Per employee: 'true', 'false' or None (never asked), on every snapshot of theirs. Its
    own random stream, so that the other events' draws do not move."""
    rng = stream(seed, "advocate_opt_in")
    sharer = c.tier != TIER_CASUAL
    asked = rng.random(c.n) < np.where(sharer, scale.opt_in_asked_sharer, scale.opt_in_asked_casual)
    yes = rng.random(c.n) < np.where(sharer, scale.opt_in_yes_sharer, scale.opt_in_yes_casual)
    return np.where(asked, np.where(yes, "true", "false"), None).astype(object)


def audience_events(c: Company, scale: Scale, seed: int) -> LazyEvents:
    """Quarterly exports of the connections of a subset of employees (active sharers most).
    Tens of millions of rows at SF100: rows are made from the exports when asked for."""
    rng = stream(seed, "audience_events")
    p = np.where(c.tier == TIER_ACTIVE, 0.9, scale.audience_observed_share)
    observed = np.flatnonzero(rng.random(c.n) < p)
    quarter_ends = MONTH_STARTS[[2, 5, 8, 11]] + 20 * DAY + 18 * HOUR
    emp = np.repeat(observed, 4)
    q = np.tile(np.arange(4), len(observed))
    month = np.array([2, 5, 8, 11])[q]
    have = c.net_offsets[emp + 1] - c.net_offsets[emp]
    # Each export lists the employee's first connections, as many as the network had then.
    listed = np.minimum(have, c.size_by_month[emp, month])
    first_row = np.concatenate([[0], np.cumsum(listed)])
    # One observed_at per export: every member listed in it carries the same moment.
    export_t = quarter_ends[q] + rng.integers(0, HOUR, len(emp))
    n = int(first_row[-1])

    def columns(rows: np.ndarray) -> dict[str, object]:
        export = np.searchsorted(first_row, rows, side="right") - 1
        member = c.net_members[c.net_offsets[emp[export]] + rows - first_row[export]]
        return {
            "employee_id": c.employee_id.take(pa.array(emp[export])),
            "member_id": c.member_ids(member),
            "observed_at": export_t[export],
        }

    row_month = np.repeat(month_of(export_t), listed)
    return LazyEvents("audience", n, row_month, draw_offsets(rng, n), columns)


def page_follower_events(c: Company, seed: int) -> Events:
    rng = stream(seed, "page_followers")
    t = START + np.arange(1, 366) * DAY - 60  # end of each day (23:59 UTC)
    t = t[t < END]
    cols = {
        "page_id": np.full(len(t), PAGE_ID, dtype=object),
        "observed_at": t,
        "followers": c.followers_daily[: len(t)],
    }
    return make_events("page_followers", cols, t, rng)
