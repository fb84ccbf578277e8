"""What each post achieved: final reach and engagement counts, their cumulative
`share_metrics` snapshots, and the individual `engagement` events behind them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator.config import DAY, END, HOUR, Scale
from generator.content import Shares
from generator.events import Events, make_events
from generator.ids import hex_ids, stream
from generator.people import Company

# Snapshot schedule: daily polls for two weeks, then sparser, up to two months.
SNAPSHOT_DAYS = np.array([*range(1, 15), 21, 28, 45, 60])
ACTIVITY_TAU = 1.2 * DAY  # most engagement arrives in the first day or two
POLL_HOUR = 5 * HOUR


@dataclass
class Outcomes:
    audience: np.ndarray  # network size or followers the post was shown against
    unique: np.ndarray
    impressions: np.ndarray
    reactions: np.ndarray
    comments: np.ndarray
    reshares: np.ndarray
    clicks: np.ndarray  # clicks as the platform counts them
    has_unique: np.ndarray


def draw_outcomes(c: Company, s: Shares, scale: Scale, seed: int) -> Outcomes:
    rng = stream(seed, "outcomes")
    page = s.is_page
    emp = np.maximum(s.author, 0)
    audience = np.where(
        page,
        c.followers_at(s.posted_at),
        np.where(
            s.network == "twitter",
            c.twitter_size[emp, np.clip(_month(s.posted_at), 0, 11)],
            c.snapshot_size(emp, s.posted_at),
        ),
    )
    reach = np.where(
        page,
        rng.lognormal(np.log(scale.page_reach_median), 0.25, s.n),
        rng.lognormal(np.log(scale.employee_reach_median), 0.6, s.n),
    )
    unique = np.round(audience * reach).astype(np.int64)
    impressions = np.maximum(
        unique, np.round(unique * scale.impressions_per_unique * rng.lognormal(0, 0.1, s.n))
    ).astype(np.int64)
    quality = rng.lognormal(0, 0.4, s.n)  # some posts simply land better
    react = np.where(page, scale.reaction_rate_page, scale.reaction_rate_employee) * quality
    ctr = np.where(page, scale.ctr_page, scale.ctr_employee) * rng.lognormal(0, 0.35, s.n)
    return Outcomes(
        audience=audience,
        unique=unique,
        impressions=impressions,
        reactions=rng.binomial(impressions, np.clip(react, 0, 0.5)),
        comments=rng.binomial(impressions, np.clip(scale.comment_rate * quality, 0, 0.2)),
        reshares=rng.binomial(impressions, np.clip(scale.reshare_rate * quality, 0, 0.1)),
        clicks=rng.binomial(impressions, np.clip(ctr, 0, 0.3)),
        has_unique=rng.random(s.n) >= scale.missing_unique_impressions,
    )


def _month(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12


def metric_events(s: Shares, o: Outcomes, scale: Scale, seed: int) -> tuple[Events, int]:
    """Cumulative snapshots. Returns the events and how many shares show a dip (reactions
    going down between two snapshots, as when the platform removes sponsored likes)."""
    rng = stream(seed, "share_metrics")
    k = len(SNAPSHOT_DAYS)
    share = np.repeat(np.arange(s.n), k)
    day = np.tile(SNAPSHOT_DAYS, s.n)
    t = (s.posted_at[share] + day * DAY) // DAY * DAY + POLL_HOUR + rng.integers(0, 900, len(share))
    keep = t < END
    share, day, t = share[keep], day[keep], t[keep]
    elapsed = t - s.posted_at[share]
    frac = (1 - np.exp(-elapsed / ACTIVITY_TAU)) / (1 - np.exp(-(SNAPSHOT_DAYS[-1] + 1) * DAY / ACTIVITY_TAU))
    frac = np.minimum(frac, 1.0)
    frac = np.where(day == SNAPSHOT_DAYS[-1], 1.0, frac)

    def cum(total: np.ndarray) -> np.ndarray:
        return np.round(total[share] * frac).astype(np.int64)

    reactions = cum(o.reactions)
    # Dips: one snapshot (not a share's last) overstates reactions by sponsored likes that
    # are removed later. Counts never go negative.
    n_snap = np.bincount(share, minlength=s.n)
    first = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    dip = (rng.random(s.n) < scale.sponsored_like_removal) & (n_snap >= 2) & (o.reactions >= 3)
    dip_share = np.flatnonzero(dip)
    at = first[dip_share] + (rng.random(len(dip_share)) * (n_snap[dip_share] - 1)).astype(np.int64)
    reactions[at] += np.maximum(
        1, (o.reactions[dip_share] * rng.uniform(0.05, 0.3, len(dip_share))).astype(np.int64)
    )
    unique = pa.array(cum(o.unique), pa.int64(), mask=~o.has_unique[share])
    cols = {
        "share_id": s.share_id.take(pa.array(share)),
        "observed_at": t,
        "impressions": cum(o.impressions),
        "reactions": reactions,
        "comments": cum(o.comments),
        "reshares": cum(o.reshares),
        "clicks": cum(o.clicks),
        "unique_impressions": unique,
    }
    return make_events("share_metrics", cols, t, rng), int(len(dip_share))


def engagement_events(c: Company, s: Shares, o: Outcomes, scale: Scale, seed: int) -> Events:
    rng = stream(seed, "engagement")
    per_share = np.stack([o.reactions, o.comments, o.reshares], axis=1)
    share = np.repeat(np.repeat(np.arange(s.n), 3), per_share.ravel())
    etype = np.repeat(np.tile(np.arange(3), s.n), per_share.ravel())
    m = len(share)
    t = s.posted_at[share] + np.minimum(rng.exponential(ACTIVITY_TAU, m), 27 * DAY).astype(np.int64) + 30
    author = s.author[share]
    page = author < 0
    emp = np.maximum(author, 0)

    # Who engages: on employee posts a colleague bubble plus the author's own connections;
    # on page posts mostly followers, some employees.
    colleague_p = np.where(page, scale.employee_engagement_on_page, scale.colleague_engagement_share)
    is_colleague = rng.random(m) < colleague_p
    d = c.dept[emp]
    same_dept = rng.random(m) < 0.6
    colleague = np.where(
        same_dept,
        c.dept_start[d] + (rng.random(m) * c.dept_count[d]).astype(np.int64),
        rng.integers(0, c.n, m),
    )
    colleague = np.where((colleague == author) & ~page, (colleague + 1) % c.n, colleague)
    net_len = c.net_offsets[emp + 1] - c.net_offsets[emp]
    connection = c.net_members[
        np.minimum(c.net_offsets[emp] + (rng.random(m) * net_len).astype(np.int64), len(c.net_members) - 1)
    ]
    follower = c.global_base + rng.integers(0, c.global_size, m)
    actor = np.where(is_colleague, colleague, np.where(page, follower, connection))

    keep = t < END
    order = np.lexsort((etype[keep], share[keep], t[keep]))
    share, etype, t, actor = (a[keep][order] for a in (share, etype, t, actor))
    cols = {
        "engagement_id": hex_ids("eng_", np.arange(len(share)), seed, "engagement"),
        "share_id": s.share_id.take(pa.array(share)),
        "actor_id": c.member_ids(actor),
        "engagement_type": np.asarray(["reaction", "comment", "reshare"], dtype=object)[etype],
        "occurred_at": t,
    }
    return make_events("engagement", cols, t, rng)
