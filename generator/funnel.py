"""From posts to leads: `click` events (humans and bots) and `form_fill` events, with the
people behind them.

Journeys are built backwards from conversions: a lead's converting click is drawn from the
real human clicks, earlier touches from that person's clicks in the weeks before it. Every
other human click belongs to an anonymous visitor who never converts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import names
from generator.config import COMPANY_DOMAIN, DAY, END, HOUR, START, Scale
from generator.content import Contents, Shares
from generator.events import Events, make_events
from generator.ids import hex_ids, stream
from generator.metrics import Outcomes

SOCIAL, ORGANIC, CRM_ONLY = 0, 1, 2
_ASCII = str.maketrans({"á": "a", "ü": "u", "ö": "o", "é": "e"})
LOOKBACK_TOUCHES = 75 * DAY  # earlier touches are drawn from this window before conversion


@dataclass
class Clicks:
    share: np.ndarray
    t: np.ndarray
    visitor: np.ndarray  # index in the visitor id space
    bot: np.ndarray
    ua: np.ndarray  # object array


@dataclass
class People:
    """Everyone who can become a contact: leads (social, organic) and CRM-only contacts."""

    email: np.ndarray  # canonical (trimmed, lower-case) email, object array
    kind: np.ndarray  # SOCIAL / ORGANIC / CRM_ONLY
    last_fill: np.ndarray  # time of the person's last form fill, -1 when none
    conv_click: np.ndarray  # index (in Clicks) of a social lead's converting click, else -1


@dataclass
class Fills:
    person: np.ndarray
    visitor: np.ndarray
    t: np.ndarray
    form: np.ndarray  # object array


def build_funnel(s: Shares, o: Outcomes, scale: Scale, seed: int) -> tuple[Clicks, People, Fills]:
    rng = stream(seed, "funnel")
    # Human clicks, tracked on our site (some are lost to blockers).
    n_h = rng.binomial(o.clicks, scale.tracked_click_share)
    share = np.repeat(np.arange(s.n), n_h)
    t = s.posted_at[share] + np.minimum(rng.exponential(0.8 * DAY, len(share)), 40 * DAY).astype(np.int64) + 5
    keep = t < END
    share, t = share[keep], t[keep]
    order = np.lexsort((share, t))
    share, t = share[order], t[order]
    h = len(share)
    n_anon = max(1, int(0.75 * h))
    visitor = rng.integers(0, n_anon, h)

    # Leads with social touches: conversion click, then earlier touches by the same person.
    eligible = np.flatnonzero(t < END - HOUR)
    # A floor keeps tiny test scales useful (a few dozen journeys); SF >= 0.1 is linear.
    n_social = min(len(eligible), max(40, round(scale.lead_per_click * h)))
    conv = np.sort(rng.choice(eligible, n_social, replace=False))
    n_extra = np.where(rng.random(n_social) < 0.45, 0, np.minimum(rng.geometric(0.45, n_social), 7))
    lo = np.searchsorted(t, t[conv] - LOOKBACK_TOUCHES)
    n_extra = np.where(conv > lo, n_extra, 0)
    person_of_extra = np.repeat(np.arange(n_social), n_extra)
    extra = lo[person_of_extra] + (rng.random(len(person_of_extra)) * (conv - lo)[person_of_extra]).astype(
        np.int64
    )
    # A click belongs to one visitor: drop picks that collide with a conversion or each other.
    ok = ~np.isin(extra, conv)
    _, first = np.unique(extra, return_index=True)
    unique_mask = np.zeros(len(extra), dtype=bool)
    unique_mask[first] = True
    ok &= unique_mask
    extra, person_of_extra = extra[ok], person_of_extra[ok]

    # Some people use two devices: the earliest touch (and some others) on the second one.
    device_base = n_anon
    has_extra = np.bincount(person_of_extra, minlength=n_social) > 0
    two_dev = has_extra & (rng.random(n_social) < scale.two_device_share / max(has_extra.mean(), 1e-9))
    earliest = np.full(n_social, np.iinfo(np.int64).max)
    np.minimum.at(earliest, person_of_extra, extra)
    on_second = two_dev[person_of_extra] & (
        (extra == earliest[person_of_extra]) | (rng.random(len(extra)) < 0.5)
    )
    visitor[conv] = device_base + 2 * np.arange(n_social)
    visitor[extra] = device_base + 2 * person_of_extra + on_second

    # Form fills: right after the conversion click, and on the second device after its last touch.
    fill_person = [np.arange(n_social)]
    fill_visitor = [visitor[conv]]
    fill_t = [t[conv] + 60 + rng.exponential(360, n_social).astype(np.int64)]
    second_last = np.full(n_social, -1)
    np.maximum.at(second_last, person_of_extra[on_second], extra[on_second])
    p2 = np.flatnonzero(second_last >= 0)
    fill_person.append(p2)
    fill_visitor.append(device_base + 2 * p2 + 1)
    fill_t.append(t[second_last[p2]] + 60 + rng.exponential(360, len(p2)).astype(np.int64))

    # Organic leads: found the site another way; one visitor, no tracked click.
    n_org = round(scale.organic_leads_per_social * n_social)
    org = n_social + np.arange(n_org)
    fill_person.append(org)
    fill_visitor.append(device_base + 2 * org)
    fill_t.append(START + rng.integers(0, END - START - DAY, n_org))

    fp, fv, ft = (np.concatenate(a) for a in (fill_person, fill_visitor, fill_t))
    keep = ft < END
    fp, fv, ft = fp[keep], fv[keep], ft[keep]
    expected_deals = scale.deal_per_social_lead * n_social + scale.deal_per_organic_lead * n_org
    n_crm = max(1, round(scale.crm_only_deal_share * expected_deals))
    n_people = n_social + n_org + n_crm
    kind = np.concatenate([np.full(n_social, SOCIAL), np.full(n_org, ORGANIC), np.full(n_crm, CRM_ONLY)])
    last_fill = np.full(n_people, -1, dtype=np.int64)
    np.maximum.at(last_fill, fp, ft)
    form = _forms(rng, fp, kind)
    order = np.lexsort((fv, ft))
    fills = Fills(fp[order], fv[order], ft[order], form[order])
    conv_click = np.full(n_people, -1, dtype=np.int64)

    # Bots: link-preview fetchers right after posting, crawlers and scripts later. Never convert.
    n_bot = rng.binomial(n_h + 1, scale.bot_click_share)
    preview = (s.network == "linkedin") & (rng.random(s.n) < 0.3)
    b_share = np.concatenate([np.repeat(np.arange(s.n), n_bot), np.flatnonzero(preview)])
    b_ua = np.concatenate(
        [
            rng.choice(len(names.BOT_USER_AGENTS), n_bot.sum(), p=names.BOT_UA_WEIGHTS),
            np.full(
                preview.sum(),
                names.BOT_USER_AGENTS.index(
                    next(u for u in names.BOT_USER_AGENTS if u.startswith("LinkedInBot"))
                ),
            ),
        ]
    )
    b_t = s.posted_at[b_share] + np.concatenate(
        [
            rng.exponential(0.5 * DAY, n_bot.sum()).astype(np.int64) + 30,
            rng.integers(2, 60, preview.sum()),
        ]
    )
    bot_base = device_base + 2 * n_people
    b_vis = bot_base + b_ua * 16 + rng.integers(0, 16, len(b_ua))
    bkeep = b_t < END

    clicks_share = np.concatenate([share, b_share[bkeep]])
    clicks_t = np.concatenate([t, b_t[bkeep]])
    human_ua = rng.choice(len(names.HUMAN_USER_AGENTS), h, p=names.HUMAN_UA_WEIGHTS)
    ua = np.concatenate(
        [
            np.asarray(names.HUMAN_USER_AGENTS, dtype=object)[human_ua],
            np.asarray(names.BOT_USER_AGENTS, dtype=object)[b_ua[bkeep]],
        ]
    )
    clicks_vis = np.concatenate([visitor, b_vis[bkeep]])
    bot = np.concatenate([np.zeros(h, dtype=bool), np.ones(bkeep.sum(), dtype=bool)])
    order = np.lexsort((clicks_vis, clicks_share, clicks_t))
    clicks = Clicks(clicks_share[order], clicks_t[order], clicks_vis[order], bot[order], ua[order])
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    conv_click[:n_social] = position[conv]  # human clicks come first before the final sort
    people = People(_prospect_emails(rng, n_people), kind.astype(np.int8), last_fill, conv_click)
    return clicks, people, fills


def _forms(rng: np.random.Generator, person: np.ndarray, kind: np.ndarray) -> np.ndarray:
    forms = np.asarray(names.FORMS, dtype=object)
    return forms[rng.choice(len(forms), len(person), p=[0.3, 0.25, 0.2, 0.1, 0.15])]


def _prospect_emails(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.integers(0, len(names.FIRST_NAMES), n)
    last = rng.integers(0, len(names.LAST_NAMES), n)
    domain = rng.integers(0, len(names.PROSPECT_DOMAINS), n)
    seen: dict[str, int] = {}
    out = np.empty(n, dtype=object)
    for i in range(n):  # per person (thousands), not per event
        local = f"{names.FIRST_NAMES[first[i]]}.{names.LAST_NAMES[last[i]]}".lower().translate(_ASCII)
        addr = f"{local}@{names.PROSPECT_DOMAINS[domain[i]]}"
        k = seen.get(addr, 0)
        seen[addr] = k + 1
        out[i] = f"{local}{k}@{names.PROSPECT_DOMAINS[domain[i]]}" if k else addr
    return out


def typed_like_a_human(rng: np.random.Generator, canonical: np.ndarray) -> np.ndarray:
    """The same address as a form or a CRM user types it: case and stray whitespace vary."""
    style = rng.choice(5, len(canonical), p=[0.45, 0.25, 0.1, 0.1, 0.1])
    out = np.empty(len(canonical), dtype=object)
    for i, (addr, st) in enumerate(zip(canonical, style, strict=True)):  # per lead, not per event
        local, _, domain = addr.partition("@")
        if st == 0:
            out[i] = addr
        elif st == 1:
            out[i] = f"{local.title()}@{domain.title()}"
        elif st == 2:
            out[i] = f" {local.title()}@{domain}"
        elif st == 3:
            out[i] = addr.upper()
        else:
            out[i] = f"{addr}  "
    return out


def visitor_ids(visitor: np.ndarray, seed: int) -> pa.Array:
    return hex_ids("v_", visitor, seed, "visitor")


def click_events(clicks: Clicks, s: Shares, contents: Contents, seed: int) -> Events:
    rng = stream(seed, "click_events")
    n = len(clicks.t)
    content = s.content[clicks.share]
    base_url = contents.url.to_numpy(zero_copy_only=False)[np.maximum(content, 0)]
    base_url = np.where(content >= 0, base_url, f"https://{COMPANY_DOMAIN}/").astype(object)
    network = s.network[clicks.share]
    # UTMs survive on most clicks; browsers and apps strip them from the rest.
    has_utm = rng.random(n) < 0.7
    medium = np.where(s.is_page[clicks.share], "social", "employee_advocacy").astype(object)
    campaign = contents.campaign[np.maximum(content, 0)]
    campaign = np.where(content >= 0, campaign, None)
    utm_source = np.where(has_utm, network, None)
    utm_medium = np.where(has_utm, medium, None)
    utm_campaign = np.where(has_utm, campaign, None)
    query = pc.binary_join_element_wise(
        "utm_source=",
        pa.array(utm_source, pa.string()),
        "&utm_medium=",
        pa.array(utm_medium, pa.string()),
        "",
    )
    url = pa.array(base_url, pa.string())
    landing = pc.coalesce(pc.binary_join_element_wise(url, query, "?"), url)
    del base_url, url, query  # millions of clicks at SF100: only the table is kept
    referrer = np.where(network == "twitter", "https://t.co/", "https://www.linkedin.com/").astype(object)
    referrer = np.where(clicks.bot | (rng.random(n) < 0.3), None, referrer)
    cols = {
        "click_id": hex_ids("clk_", np.arange(n), seed, "click"),
        "tracking_token": s.token.take(pa.array(clicks.share)),
        "visitor_id": visitor_ids(clicks.visitor, seed),
        "occurred_at": clicks.t,
        "user_agent": clicks.ua,
        "landing_url": landing,
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "utm_content": None,
    }
    # `referrer` is not in the contract: landing must keep it as an extra field.
    return make_events("click", cols, clicks.t, rng, extras={"referrer": pa.array(referrer, pa.string())})


def form_fill_events(fills: Fills, people: People, seed: int) -> Events:
    rng = stream(seed, "form_fill_events")
    n = len(fills.t)
    cols = {
        "submission_id": hex_ids("ff_", np.arange(n), seed, "form_fill"),
        "visitor_id": visitor_ids(fills.visitor, seed),
        "email": typed_like_a_human(rng, people.email[fills.person]),
        "form_id": fills.form,
        "occurred_at": fills.t,
    }
    return make_events("form_fill", cols, fills.t, rng)
