"""The program's health beyond its posts: employees' LinkedIn profiles and Social Selling Index
(`profile_snapshot`), audits of the company's and its competitors' presence
(`company_presence`), and the goals the program set itself (`program_goal`).

Calibration: LinkedIn's SSI is the sum of four pillars of 0-25 each; most members score
30-60, social sellers 60-80. Profiles of active sharers are more complete than those of
casual ones. The company and its three competitors are audited once a month (a manual audit:
the day varies); the company's followers follow its page's. Goals are set per quarter.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from generator.config import DAY, DEPARTMENTS, HOUR, Scale
from generator.events import Events, make_events
from generator.ids import stream
from generator.people import MONTH_STARTS, TIER_ACTIVE, TIER_CASUAL, TIER_REGULAR, Company

OWN_COMPANY = "Acme"
# (name, size relative to the company, posting rate relative to it)
COMPETITORS = (("Globex", 1.6, 1.3), ("Initech", 0.7, 0.8), ("Umbrella", 2.4, 0.9))
# Each tier's mean SSI pillar (0-25) and its chance of a profile element.
_PILLAR_MEAN = {TIER_ACTIVE: 16.0, TIER_REGULAR: 12.0, TIER_CASUAL: 8.5}
_COMPLETE = {TIER_ACTIVE: 0.95, TIER_REGULAR: 0.8, TIER_CASUAL: 0.55}
# Months (0-based) of the quarterly SSI exports.
_PROFILE_MONTHS = np.array([2, 5, 8, 11])


def profile_snapshot_events(c: Company, scale: Scale, seed: int) -> Events:
    """A quarterly profile and SSI snapshot of every active and regular sharer and of about a
    third of the rest (the employees who connected the program's SSI export)."""
    rng = stream(seed, "profile_snapshot")
    covered = np.flatnonzero((c.tier != TIER_CASUAL) | (rng.random(c.n) < 0.35))
    emp = np.repeat(covered, len(_PROFILE_MONTHS))
    quarter = np.tile(np.arange(len(_PROFILE_MONTHS)), len(covered))
    n = len(emp)
    t = MONTH_STARTS[_PROFILE_MONTHS[quarter]] + rng.integers(2 * DAY, 20 * DAY, n) + rng.integers(0, HOUR, n)
    tier = c.tier[emp]
    # Each employee's own level, improving a little every quarter (the program coaches them).
    own = rng.normal(0, 2.5, c.n)[emp]
    mean = np.vectorize(_PILLAR_MEAN.get)(tier) + own + 0.6 * quarter
    pillars = [np.round(np.clip(mean + rng.normal(0, 2.0, n), 0, 25), 1) for _ in range(4)]
    ssi = np.round(pillars[0] + pillars[1] + pillars[2] + pillars[3], 1)
    # A third of the exports carry the SSI only, a fifth the profile only.
    has_ssi = rng.random(n) >= 0.2
    has_profile = rng.random(n) >= 0.33
    p_complete = np.vectorize(_COMPLETE.get)(tier)

    def flag(p: np.ndarray) -> pa.Array:
        value = np.where(rng.random(n) < p, "true", "false").astype(object)
        return pa.array(np.where(has_profile, value, None), pa.string())

    def count(lam: np.ndarray) -> pa.Array:
        return pa.array(np.where(has_profile, rng.poisson(lam), 0), pa.int64(), mask=~has_profile)

    def pillar(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.float64(), mask=~has_ssi)

    cols = {
        "employee_id": c.employee_id.take(pa.array(emp)),
        "observed_at": t,
        "ssi_score": pillar(ssi),
        "ssi_professional_brand": pillar(pillars[0]),
        "ssi_find_people": pillar(pillars[1]),
        "ssi_engage_insights": pillar(pillars[2]),
        "ssi_build_relationships": pillar(pillars[3]),
        "has_photo": flag(np.minimum(1.0, p_complete + 0.1)),
        "has_headline": flag(p_complete),
        "has_about": flag(p_complete - 0.15),
        "experience_count": count(1 + 2.5 * p_complete),
        "skills_count": count(3 + 10 * p_complete),
        "recommendations_count": count(2.0 * p_complete - 0.5),
    }
    return make_events("profile_snapshot", cols, t, rng)


def company_presence_events(c: Company, scale: Scale, seed: int) -> Events:
    """A monthly audit of the company and its competitors, on a working day mid-month."""
    rng = stream(seed, "company_presence")
    companies = ((OWN_COMPANY, 1.0, 1.0), *COMPETITORS)
    rows: dict[str, list] = {k: [] for k in (
        "company", "observed_at", "followers", "employees_on_linkedin", "posts_30d", "engagements_30d",
        "keyword", "keyword_posts_30d", "is_own_company", "employees")}
    own_followers = c.followers_daily
    for i, (name, size, posting) in enumerate(companies):
        growth = rng.normal(0.015, 0.006)  # monthly follower growth of a competitor
        base = own_followers[0] * size * rng.uniform(0.8, 1.2)
        headcount = round(c.n * size * rng.uniform(0.9, 1.1))
        for m in range(12):
            t = int(MONTH_STARTS[m] + rng.integers(10, 17) * DAY + rng.integers(8 * HOUR, 17 * HOUR))
            day = min(len(own_followers) - 1, (t - int(MONTH_STARTS[0])) // DAY)
            followers = own_followers[day] if i == 0 else base * (1 + growth) ** m
            posts = max(1, round(rng.normal(22 * posting, 3)))
            rows["company"].append(name)
            rows["observed_at"].append(t)
            rows["followers"].append(int(round(followers)))
            rows["employees_on_linkedin"].append(int(round(headcount * rng.uniform(0.55, 0.75))))
            rows["posts_30d"].append(posts)
            rows["engagements_30d"].append(int(posts * rng.gamma(4, 12 * size ** 0.5)))
            rows["keyword"].append("employee advocacy")
            rows["keyword_posts_30d"].append(int(rng.poisson(4 * posting)))
            rows["is_own_company"].append("true" if i == 0 else "false")
            rows["employees"].append(None if i == 0 else headcount)
    order = np.argsort(np.asarray(rows["observed_at"]), kind="stable")
    cols = {k: [v[j] for j in order] for k, v in rows.items()}
    cols["employees"] = pa.array(cols["employees"], pa.int64())
    return make_events("company_presence", cols, np.asarray(cols["observed_at"], dtype=np.int64), rng)


def program_goal_events(c: Company, scale: Scale, seed: int) -> Events:
    """Quarterly goals, set on the quarter's first working days: company-wide ones and a few
    per department and network; a revised target now and then (a later version of a goal)."""
    rng = stream(seed, "program_goal")
    plan = [
        ("employee_shares", None, None, 1.1),
        ("active_sharers", None, None, 1.0),
        ("members_reached", None, None, 1.2),
        ("engagement_rate", None, None, 0.03),
        ("social_sourced_site_visits", None, None, 1.1),
        ("page_followers", None, None, 1.05),
        ("leads", None, None, 1.0),
        ("pipeline", None, None, 1.0),
        ("employee_shares", DEPARTMENTS[0], None, 1.2),
        ("interactions", None, "linkedin", 1.1),
        ("impressions", None, "twitter", 1.0),
    ]
    # Rough quarterly levels of the synthetic company, to set targets that are near reach.
    level = {
        "employee_shares": 1400 * scale.sf, "active_sharers": 150 * scale.sf,
        "members_reached": 400_000 * scale.sf, "social_sourced_site_visits": 6000 * scale.sf,
        "page_followers": float(c.followers_daily[0]), "leads": 150 * scale.sf,
        "pipeline": 2_000_000 * scale.sf, "interactions": 20_000 * scale.sf,
        "impressions": 30_000 * scale.sf,
    }
    rows: dict[str, list] = {k: [] for k in (
        "goal_id", "metric", "period_start", "period_end", "target", "department", "network",
        "currency", "title")}
    times = []
    for q in range(4):
        start, end = int(MONTH_STARTS[3 * q]), int(MONTH_STARTS[3 * q + 3]) if q < 3 else int(
            MONTH_STARTS[0] + 365 * DAY)
        for j, (metric, dept, network, factor) in enumerate(plan):
            target = factor if metric == "engagement_rate" else level[metric] * factor * (1 + 0.1 * q)
            if metric == "engagement_rate":
                target = round(target, 3)
            elif metric == "page_followers":
                target = round(level[metric] * (1 + 0.05 * (q + 1)))
            else:
                target = max(1, round(target))
            rows["goal_id"].append(f"goal-2025q{q + 1}-{j + 1:02d}")
            rows["metric"].append(metric)
            rows["period_start"].append(start)
            rows["period_end"].append(end)
            rows["target"].append(float(target))
            rows["department"].append(dept)
            rows["network"].append(network)
            rows["currency"].append("EUR" if metric == "pipeline" else None)
            rows["title"].append(f"Q{q + 1} {metric.replace('_', ' ')}")
            times.append(start + int(rng.integers(1, 4)) * DAY + 10 * HOUR)
    return make_events("program_goal", rows, np.asarray(times, dtype=np.int64), rng)
