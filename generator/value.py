"""What the program is worth: exchange rates, media rate cards and program costs.

Realistic levels rather than real quotes: EUR and GBP against USD near their 2025 levels with a
small daily drift (weekdays only, as FX feeds publish), GBP quoted the other way round (USD →
GBP) so that inverse rates are exercised; CPM, CPC and an engagement value per network from
published paid-social benchmarks (LinkedIn the dearest, XING's card in EUR), revised each
month; a monthly platform licence (per enrolled seat) and program manager time, and
quarterly incentives in GBP. The generic dirt (generator/dirt.py) adds duplicates and
malformed rows, among them bad currency codes and negative amounts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from generator.config import DAY, END, START, YEAR, Scale
from generator.events import Events, make_events
from generator.ids import stream

# Quotes start a month before the data year, so that the first shares and deals have a rate.
_QUOTES_FROM = START - 31 * DAY
_FX_HOUR = 16 * 3600  # the daily fixing, 16:00 UTC

# (from, to, level at the start, daily drift sigma)
_FX_SERIES = (("EUR", "USD", 1.04, 0.004), ("USD", "GBP", 0.80, 0.004))

# network → (currency, CPM, CPC, engagement value): paid-social benchmarks, per 1,000
# impressions, per click, per engagement.
MEDIA_CARDS: dict[str, tuple[str, float, float, float]] = {
    "linkedin": ("USD", 33.80, 5.58, 1.20),
    "twitter": ("USD", 6.46, 0.58, 0.35),
    "facebook": ("USD", 12.10, 0.97, 0.25),
    "xing": ("EUR", 18.50, 2.40, 0.80),
    "instagram": ("USD", 8.20, 1.20, 0.30),
    "other": ("USD", 5.00, 0.50, 0.20),
}
_METRICS = ("cpm", "cpc", "engagement")


def _text(values: np.ndarray, decimals: int) -> pa.Array:
    return pa.array([f"{v:.{decimals}f}" for v in values], pa.string())


def fx_rate_events(seed: int) -> Events:
    rng = stream(seed, "value:fx_rate")
    # a week before the first media rate quote, so that every quote converts
    days = np.arange(_QUOTES_FROM // DAY - 7, END // DAY, dtype=np.int64)
    weekdays = days[((days + 3) % 7) < 5]  # 1970-01-01 was a Thursday
    cols: dict[str, list] = {"from_currency": [], "to_currency": [], "rate": [], "observed_at": []}
    for src, dst, level, sigma in _FX_SERIES:
        walk = level * np.exp(np.cumsum(rng.normal(0.0, sigma, len(weekdays))))
        cols["from_currency"] += [src] * len(weekdays)
        cols["to_currency"] += [dst] * len(weekdays)
        cols["rate"].append(np.round(walk, 6))
        cols["observed_at"].append(weekdays * DAY + _FX_HOUR)
    time = np.concatenate(cols["observed_at"])
    columns = {
        "from_currency": cols["from_currency"],
        "to_currency": cols["to_currency"],
        "rate": _text(np.concatenate(cols["rate"]), 6),
        "observed_at": time,
    }
    return make_events("fx_rate", columns, time, rng)


def _month_starts() -> np.ndarray:
    months = [np.datetime64(f"{YEAR}-{m:02d}-01T00:00:00", "s") for m in range(1, 13)]
    return np.array([_QUOTES_FROM] + [int(m.astype(np.int64)) for m in months], dtype=np.int64)


def media_rate_events(seed: int) -> Events:
    rng = stream(seed, "value:media_rate")
    quotes = _month_starts()
    rows: dict[str, list] = {"network": [], "metric": [], "amount": [], "currency": [], "observed_at": []}
    for network, (currency, *base) in MEDIA_CARDS.items():
        for metric, amount in zip(_METRICS, base, strict=True):
            # each month's card within ±8 % of the benchmark
            drift = amount * (1 + rng.uniform(-0.08, 0.08, len(quotes)))
            rows["network"] += [network] * len(quotes)
            rows["metric"] += [metric] * len(quotes)
            rows["amount"] += [int(round(a * 100)) for a in drift]
            rows["currency"] += [currency] * len(quotes)
            rows["observed_at"] += list(quotes)
    time = np.array(rows["observed_at"], dtype=np.int64)
    order = np.argsort(time, kind="stable")
    columns = {k: [v[i] for i in order] for k, v in rows.items()}
    columns["amount"] = pa.array(columns["amount"], pa.int64())
    return make_events("media_rate", columns, time[order], rng)


def program_cost_events(scale: Scale, seed: int) -> Events:
    rng = stream(seed, "value:program_cost")
    fields = ("cost_id", "period_start", "period_end", "amount", "currency", "category")
    rows: dict[str, list] = {k: [] for k in fields}

    def add(cost_id: str, start: int, end: int, cents: int, currency: str, category: str) -> None:
        for k, v in zip(rows, (cost_id, start, end, cents, currency, category), strict=True):
            rows[k].append(v)

    month_starts = [int(m) for m in _month_starts()[1:]] + [END]
    seats = max(5, round(scale.employees * 0.3))  # enrolled in the advocacy platform
    for m in range(12):
        start, last_day = month_starts[m], month_starts[m + 1] - DAY
        stamp = f"{YEAR}-{m + 1:02d}"
        add(f"licence-{stamp}", start, last_day, seats * 1500, "USD", "licence")
        # program manager time, half a position, paid in EUR; an editor's time for the content
        for role, monthly, spread in (("pm", 4500, 150), ("editor", 2200, 100)):
            cents = int(round(rng.normal(monthly, spread) * 100))
            add(f"people-{role}-{stamp}", start, last_day, cents, "EUR", "people")
        # monthly incentives (gift cards, in GBP) and content production by an agency
        incentives = max(100.0, rng.normal(8.0, 1.0) * seats)
        add(f"incentives-{stamp}", start, last_day, int(round(incentives * 100)), "GBP", "incentives")
        add(f"agency-{stamp}", start, last_day, int(round(rng.normal(1800, 300) * 100)), "USD", "agency")
    # a kick-off event at the start of the year, one day
    add(f"kickoff-{YEAR}", month_starts[0] + 14 * DAY, month_starts[0] + 14 * DAY, 350000, "USD", "events")
    time = np.array(rows["period_start"], dtype=np.int64)
    columns = dict(rows)
    columns["amount"] = pa.array(rows["amount"], pa.int64())
    return make_events("program_cost", columns, time, rng)
