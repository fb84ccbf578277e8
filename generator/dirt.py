"""Lay one event type's clean rows out into monthly files, and make them dirty the way real
exports are: late rows, exact duplicates, malformed records. Everything injected is counted.

Malformed records are extra rows (copies of real rows under a fresh key, then broken), so the
clean rows stay exactly the ground truth whatever gets quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from eventlog.contract import BIGINT, DOUBLE, MONEY, TIMESTAMP, EventType, event_type_of
from generator.config import YEAR, Scale
from generator.events import Events, LazyEvents
from generator.ids import stream
from generator.writers import export_value

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
# type/part-YYYY-MM.ext
FOLDER_STYLE = ("engagement", "audience", "page_followers", "deal", "profile_snapshot")
TEXT_ONLY_KINDS = ("bad_timestamp", "non_numeric", "broken_row")
BAD_TIMESTAMPS = ("2025-13-45T25:61:00Z", "yesterday", "2025-02-30T10:00:00Z", "31.12.2025 kl. 10", "N/A")
BAD_NUMBERS = ("n/a", "1,234", "12k", "-", "NaN-ish")
NUMBERS = (BIGINT, DOUBLE, MONEY)
BAD_ENUMS = {
    "network": "myspace", "author_type": "bot", "engagement_type": "like", "event": "won", "metric": "cpa",
}
BAD_CURRENCIES = ("US$", "EURO", "XYZ", "£")


@dataclass
class Bad:
    kind: str
    row: dict[str, object]  # export values (timestamps as text), already broken
    typed: dict[str, object]  # the same row with typed values, for Parquet (missing/enum kinds)


@dataclass
class FilePlan:
    event_type: str
    relpath: str
    fmt: str
    month: int  # 0..11, the month of arrival
    index: int  # the file's place among the type's files
    arrival: np.ndarray  # file index each row of the type arrives in (shared by its files)
    is_late: np.ndarray  # per row of the type: arrives after its own month's file
    size: int = 0  # rows in the file before malformed records, duplicates included
    dup_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dup_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bad: list[Bad] = field(default_factory=list)
    bad_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    duplicates: int = 0
    late: int = 0

    def rows(self) -> np.ndarray:
        """Indices into the type's events, in file order, duplicates included. Made when the
        file is written: a type's files hold all its rows, too many to keep as indices."""
        here = self.arrival == self.index
        # Rows are already in time order; late ones are appended at the end of the export.
        rows = np.concatenate([np.flatnonzero(here & ~self.is_late), np.flatnonzero(here & self.is_late)])
        return np.insert(rows, self.dup_pos, self.dup_rows) if len(self.dup_rows) else rows


def plan_files(
    ev: Events | LazyEvents, scale: Scale, seed: int, type_index: int
) -> tuple[list[FilePlan], dict]:
    rng = stream(seed, f"dirt:{ev.name}")
    n = len(ev)
    month = ev.months()
    present = np.unique(month)
    k = len(present)
    file_of_month = np.full(12, -1, dtype=np.int8)
    file_of_month[present] = np.arange(k)
    home = file_of_month[month]  # file index of each row
    del month

    # Late rows: arrive one (sometimes two) files after their own month.
    arrival = home.copy()
    n_late = 0
    if k >= 2 and n >= 20:
        cand = np.flatnonzero(home < k - 1)
        n_late = min(len(cand), max(1, round(scale.late_rate * n)))
        late = rng.choice(cand, n_late, replace=False)
        del cand
        hop = np.where(rng.random(n_late) < 0.3, 2, 1)
        arrival[late] = np.minimum(home[late] + hop, k - 1)
    is_late = arrival != home
    del home

    plans = []
    for f, m in enumerate(present):
        fmt = FORMATS[(f + type_index) % 3]
        stamp = f"{YEAR}-{m + 1:02d}"
        rel = (
            f"{ev.name}/part-{stamp}.{EXTENSIONS[fmt]}"
            if ev.name in FOLDER_STYLE
            else (f"{ev.name}-{stamp}.{EXTENSIONS[fmt]}")
        )
        here = arrival == f
        size, came_late = int(np.count_nonzero(here)), int(np.count_nonzero(here & is_late))
        plans.append(FilePlan(ev.name, rel, fmt, int(m), f, arrival, is_late, size, late=came_late))

    # Exact duplicates: half repeated within their own file, half re-exported in another file.
    n_dup = max(2, round(scale.duplicate_rate * n)) if n >= 10 else 0
    dup_rows = rng.choice(n, n_dup, replace=False) if n_dup else np.zeros(0, dtype=np.int64)
    across = np.arange(n_dup) % 2 == 1 if k >= 2 else np.zeros(n_dup, dtype=bool)
    within_n, across_n = int((~across).sum()), int(across.sum())
    src = arrival[dup_rows].astype(np.int64)
    dst = np.where(across, np.where(src + 1 < k, src + 1, src - 1), src)
    for f in np.unique(dst):  # one insert per file: inserting row by row is quadratic
        p = plans[f]
        p.dup_rows = dup_rows[dst == f]
        p.dup_pos = np.sort(rng.integers(0, p.size + 1, len(p.dup_rows)))
        p.size += len(p.dup_rows)
        p.duplicates += len(p.dup_rows)

    malformed = _inject_malformed(ev, plans, scale, rng)
    stats = {
        "late": n_late,
        "duplicates": {"within_file": within_n, "across_files": across_n},
        "malformed": malformed,
    }
    return plans, stats


def applicable_kinds(name: str) -> list[str]:
    et = event_type_of(name)
    kinds = ["missing_required", "bad_timestamp"]
    if any(f.allowed for f in et.fields):
        kinds.append("bad_enum")
    if any(f.type in NUMBERS for f in et.fields):
        kinds.append("non_numeric")
    if any(f.iso_currency for f in et.fields):
        kinds.append("bad_currency")
    if any(f.positive or f.non_negative for f in et.fields):
        kinds.append("negative_amount")
    if any(f.maximum is not None for f in et.fields):
        kinds.append("out_of_range")
    kinds.append("broken_row")
    return kinds


def _inject_malformed(
    ev: Events | LazyEvents, plans: list[FilePlan], scale: Scale, rng: np.random.Generator
) -> dict:
    et = event_type_of(ev.name)
    ts_fields = [f.name for f in et.fields if f.type == TIMESTAMP]
    counts: dict[str, int] = {}
    pending: list[list[tuple[int, Bad]]] = [[] for _ in plans]
    serial = 0
    for kind in applicable_kinds(ev.name):
        eligible = [i for i, p in enumerate(plans) if p.fmt != "parquet" or kind not in TEXT_ONLY_KINDS]
        if not eligible or len(ev) == 0:
            counts[kind] = 0
            continue
        n_bad = max(1, round(scale.malformed_rate_per_kind * len(ev)))
        counts[kind] = n_bad
        sources = rng.integers(0, len(ev), n_bad)
        typed_rows = ev.take(sources).to_pylist()
        for src, typed in zip(sources, typed_rows, strict=True):  # ~0.2% of rows: a Python loop is fine
            serial += 1
            _fresh_key(typed, et, serial, rng)
            bad = _break(kind, typed, int(ev.offset[src]), et, ts_fields, rng)
            target = eligible[int(rng.integers(0, len(eligible)))]
            pending[target].append((int(rng.integers(0, plans[target].size + 1)), bad))
    for p, items in zip(plans, pending, strict=True):
        items.sort(key=lambda x: x[0])
        p.bad = [b for _, b in items]
        p.bad_pos = np.array([pos for pos, _ in items], dtype=np.int64)
    return counts


def _fresh_key(row: dict, et: EventType, serial: int, rng: np.random.Generator) -> None:
    key = et.key
    if len(key) == 1:
        row[key[0]] = f"{row[key[0]]}-m{serial}"
        return
    # Composite keys include a timestamp: move it by a few seconds so the key is new.
    ts = next(k for k in key if et.get(k).type == TIMESTAMP)
    row[ts] = row[ts] + timedelta(seconds=1 + int(rng.integers(0, 59)))


def _break(
    kind: str, typed: dict, offset: int, et: EventType, ts_fields: list[str], rng: np.random.Generator
) -> Bad:
    row = {k: export_value(v, offset) for k, v in typed.items()}
    if kind == "missing_required":
        names = [f.name for f in et.required]
        victim = names[int(rng.integers(0, len(names)))]
        row[victim] = typed[victim] = None
    elif kind == "bad_timestamp":
        row[ts_fields[0]] = BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]
    elif kind == "bad_enum":
        f = next(f for f in et.fields if f.allowed)
        row[f.name] = typed[f.name] = BAD_ENUMS.get(f.name, "unknown")
    elif kind == "non_numeric":
        f = (
            next(f for f in et.fields if f.type in NUMBERS and f.required)
            if any(f.type in NUMBERS and f.required for f in et.fields)
            else next(f for f in et.fields if f.type in NUMBERS)
        )
        row[f.name] = BAD_NUMBERS[int(rng.integers(0, len(BAD_NUMBERS)))]
    elif kind == "bad_currency":
        f = next(f for f in et.fields if f.iso_currency)
        row[f.name] = typed[f.name] = BAD_CURRENCIES[int(rng.integers(0, len(BAD_CURRENCIES)))]
    elif kind == "negative_amount":
        f = next(f for f in et.fields if f.positive or f.non_negative)
        typed[f.name] = -typed[f.name]
        row[f.name] = export_value(typed[f.name], offset)
    elif kind == "out_of_range":
        # e.g. an SSI pillar typed on a 0-100 scale where the contract says 0-25
        f = next(f for f in et.fields if f.maximum is not None)
        row[f.name] = typed[f.name] = f.maximum * 4 + 1
    return Bad(kind, row, typed)
