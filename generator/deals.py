"""CRM deals, event-sourced: `deal` events from creation through stage and amount changes
to won, lost or still open at the end of the data window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator.config import DAY, END, START, Scale
from generator.events import Events, make_events
from generator.funnel import CRM_ONLY, ORGANIC, SOCIAL, People, typed_like_a_human
from generator.ids import hex_ids, stream

CURRENCIES = np.array(["USD", "EUR", "GBP"], dtype=object)
# Slots of a deal's life, in time order; each deal has a subset of them.
CREATED, PROPOSAL, AMOUNT, CONTACT, NEGOTIATION, CLOSE = range(6)


@dataclass
class Deals:
    n: int
    deal_id: pa.Array
    primary: np.ndarray  # person index of the contact on `created`
    second: np.ndarray  # person index added by `contact_added`, -1 when none (or not yet)
    created_at: np.ndarray
    status: np.ndarray  # 'won' / 'lost' / 'open' as of the end of the window (object)


def build_deals(people: People, scale: Scale, seed: int) -> tuple[Deals, Events]:
    rng = stream(seed, "deals")
    kind = people.kind
    p_deal = np.select(
        [kind == SOCIAL, kind == ORGANIC], [scale.deal_per_social_lead, scale.deal_per_organic_lead], 1.0
    )
    # A lead whose form fill fell outside the window cannot become a deal.
    primary = np.flatnonzero(
        (rng.random(len(kind)) < p_deal) & ((kind == CRM_ONLY) | (people.last_fill >= 0))
    )
    # Sales picks the lead up days to weeks after the last form fill; CRM-only deals any time.
    delay = np.minimum(DAY + rng.exponential(12 * DAY, len(primary)), 60 * DAY).astype(np.int64)
    created = np.where(
        kind[primary] == CRM_ONLY,
        START + rng.integers(30 * DAY, END - START - DAY, len(primary)),
        people.last_fill[primary] + delay,
    )
    keep = created < END
    primary, created = primary[keep], created[keep]
    order = np.argsort(created, kind="stable")
    primary, created = primary[order], created[order]
    n = len(primary)

    # A second contact for some deals: another lead, not a deal of its own, whose form fills
    # all came before the deal was created (so its journey can count towards the deal).
    pool = np.setdiff1d(np.flatnonzero((kind != CRM_ONLY) & (people.last_fill >= 0)), primary)
    pool = pool[np.argsort(people.last_fill[pool], kind="stable")]
    before = np.searchsorted(people.last_fill[pool], created)
    wants = np.flatnonzero((rng.random(n) < scale.second_contact_share) & (before > 0))
    pick = pool[(rng.random(len(wants)) * before[wants]).astype(np.int64)]
    _, first = np.unique(pick, return_index=True)  # one deal per second contact
    second = np.full(n, -1)
    second[wants[first]] = pick[first]

    # Slot times: cumulative gaps of days to weeks.
    gaps = np.stack(
        [
            np.zeros(n),
            DAY + rng.exponential(7 * DAY, n),
            rng.exponential(6 * DAY, n),
            rng.exponential(5 * DAY, n),
            DAY + rng.exponential(8 * DAY, n),
            7 * DAY + rng.exponential(20 * DAY, n),
        ],
        axis=1,
    ).astype(np.int64)
    slot_t = created[:, None] + np.cumsum(gaps, axis=1)
    outcome = rng.choice(3, n, p=[0.38, 0.4, 0.22])  # won / lost / stays open
    present = np.stack(
        [
            np.ones(n, dtype=bool),
            rng.random(n) < 0.85,
            rng.random(n) < 0.4,
            second >= 0,
            rng.random(n) < 0.6,
            outcome < 2,
        ],
        axis=1,
    )
    present &= slot_t < END
    status = np.where(present[:, CLOSE], np.where(outcome == 0, "won", "lost"), "open").astype(object)
    second = np.where(present[:, CONTACT], second, -1)

    amount0 = np.round(rng.lognormal(np.log(18_000), 0.9, n), -2).astype(np.int64) * 100  # cents
    amount1 = (np.round(amount0 * rng.lognormal(0, 0.25, n), -4)).astype(np.int64)
    amount1 = np.maximum(amount1, 10_000)
    latest = np.where(present[:, AMOUNT], amount1, amount0)
    currency = CURRENCIES[rng.choice(3, n, p=[0.75, 0.15, 0.1])]
    # CRMs let people type currency codes; a few arrive lower-case (the contract upper-cases).
    typed_currency = np.where(
        rng.random(n) < 0.05, np.char.lower(currency.astype(str)).astype(object), currency
    )

    deal, slot = np.nonzero(present)
    m = len(deal)
    event = np.asarray(
        ["created", "stage_changed", "amount_changed", "contact_added", "stage_changed", "closed_won"],
        dtype=object,
    )[slot]
    event = np.where((slot == CLOSE) & (outcome[deal] == 1), "closed_lost", event)
    stage_by_slot = np.asarray(
        ["qualification", "proposal", None, None, "negotiation", "closed_won"], dtype=object
    )
    stage = stage_by_slot[slot]
    stage = np.where(event == "closed_lost", "closed_lost", stage)
    amount = np.full(m, -1, dtype=np.int64)
    amount = np.where(slot == CREATED, amount0[deal], amount)
    amount = np.where(slot == AMOUNT, amount1[deal], amount)
    amount = np.where(event == "closed_won", latest[deal], amount)
    has_amount = amount >= 0
    contact_email = np.full(m, None, dtype=object)
    c_rows = np.flatnonzero(slot == CREATED)
    contact_email[c_rows] = typed_like_a_human(rng, people.email[primary[deal[c_rows]]])
    a_rows = np.flatnonzero(slot == CONTACT)
    contact_email[a_rows] = typed_like_a_human(rng, people.email[second[deal[a_rows]]])
    t = slot_t[deal, slot]

    deal_id = hex_ids("deal_", np.arange(n), seed, "deal")
    cols = {
        "deal_event_id": hex_ids("de_", np.arange(m), seed, "deal_event"),
        "deal_id": deal_id.take(pa.array(deal)),
        "event": event,
        "occurred_at": t,
        "amount": pa.array(np.where(has_amount, amount, 0), pa.int64(), mask=~has_amount),
        "currency": np.where(has_amount, typed_currency[deal], None),
        "stage": stage,
        "contact_email": contact_email,
    }
    order = np.lexsort((slot, deal, t))
    table_cols = {
        k: (v.take(pa.array(order)) if isinstance(v, pa.Array) else np.asarray(v)[order])
        for k, v in cols.items()
    }
    events = make_events("deal", table_cols, t[order], rng)
    return Deals(n, deal_id, primary, second, created, status), events
