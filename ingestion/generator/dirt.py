"""Lay one event type's clean rows out into monthly files, and make them dirty the way real
exports are: late rows, exact duplicates, malformed records. Everything injected is counted.

Malformed records are extra rows (copies of real rows under a fresh key, then broken), so the
clean rows stay exactly the ground truth whatever gets quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from ingestion.contract import BIGINT, MONEY, TIMESTAMP, EventType, event_type_of
from ingestion.generator.config import YEAR, Scale
from ingestion.generator.events import Events
from ingestion.generator.ids import stream
from ingestion.generator.writers import export_value

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
FOLDER_STYLE = ("engagement", "audience", "page_followers", "deal")  # type/part-YYYY-MM.ext
TEXT_ONLY_KINDS = ("bad_timestamp", "non_numeric", "broken_row")
BAD_TIMESTAMPS = ("2025-13-45T25:61:00Z", "yesterday", "2025-02-30T10:00:00Z", "31.12.2025 kl. 10", "N/A")
BAD_NUMBERS = ("n/a", "1,234", "12k", "-", "NaN-ish")
BAD_ENUMS = {"network": "myspace", "author_type": "bot", "engagement_type": "like", "event": "won"}


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
    rows: np.ndarray  # indices into Events.table, in file order, duplicates included
    bad: list[Bad] = field(default_factory=list)
    bad_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    duplicates: int = 0
    late: int = 0


def month_of(t: np.ndarray) -> np.ndarray:
    return (t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) - (YEAR - 1970) * 12).clip(
        0, 11
    )


def plan_files(ev: Events, scale: Scale, seed: int, type_index: int) -> tuple[list[FilePlan], dict]:
    rng = stream(seed, f"dirt:{ev.name}")
    n = len(ev)
    month = month_of(ev.time)
    present = np.unique(month)
    k = len(present)
    file_of_month = np.full(12, -1)
    file_of_month[present] = np.arange(k)
    home = file_of_month[month]  # file index of each row

    # Late rows: arrive one (sometimes two) files after their own month.
    arrival = home.copy()
    n_late = 0
    if k >= 2 and n >= 20:
        cand = np.flatnonzero(home < k - 1)
        n_late = min(len(cand), max(1, round(scale.late_rate * n)))
        late = rng.choice(cand, n_late, replace=False)
        hop = np.where(rng.random(n_late) < 0.3, 2, 1)
        arrival[late] = np.minimum(home[late] + hop, k - 1)
    is_late = arrival != home

    plans = []
    for f, m in enumerate(present):
        fmt = FORMATS[(f + type_index) % 3]
        stamp = f"{YEAR}-{m + 1:02d}"
        rel = (
            f"{ev.name}/part-{stamp}.{EXTENSIONS[fmt]}"
            if ev.name in FOLDER_STYLE
            else (f"{ev.name}-{stamp}.{EXTENSIONS[fmt]}")
        )
        on_time = np.flatnonzero((arrival == f) & ~is_late)
        came_late = np.flatnonzero((arrival == f) & is_late)
        # Rows are already in time order; late ones are appended at the end of the export.
        rows = np.concatenate([on_time, came_late])
        plans.append(FilePlan(ev.name, rel, fmt, int(m), rows, late=len(came_late)))

    # Exact duplicates: half repeated within their own file, half re-exported in another file.
    n_dup = max(2, round(scale.duplicate_rate * n)) if n >= 10 else 0
    dup_rows = rng.choice(n, n_dup, replace=False) if n_dup else np.zeros(0, dtype=np.int64)
    across = np.arange(n_dup) % 2 == 1 if k >= 2 else np.zeros(n_dup, dtype=bool)
    within_n, across_n = int((~across).sum()), int(across.sum())
    src = arrival[dup_rows]
    dst = np.where(across, np.where(src + 1 < k, src + 1, src - 1), src)
    for f in np.unique(dst):  # one insert per file: inserting row by row is quadratic
        p = plans[f]
        rows = dup_rows[dst == f]
        pos = np.sort(rng.integers(0, len(p.rows) + 1, len(rows)))
        p.rows = np.insert(p.rows, pos, rows)
        p.duplicates += len(rows)

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
    if any(f.type in (BIGINT, MONEY) for f in et.fields):
        kinds.append("non_numeric")
    kinds.append("broken_row")
    return kinds


def _inject_malformed(ev: Events, plans: list[FilePlan], scale: Scale, rng: np.random.Generator) -> dict:
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
        for src in sources:  # ~0.2% of rows: a Python loop is fine here
            serial += 1
            typed = ev.table.slice(int(src), 1).to_pylist()[0]
            _fresh_key(typed, et, serial, rng)
            bad = _break(kind, typed, int(ev.offset[src]), et, ts_fields, rng)
            target = eligible[int(rng.integers(0, len(eligible)))]
            pending[target].append((int(rng.integers(0, len(plans[target].rows) + 1)), bad))
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
            next(f for f in et.fields if f.type in (BIGINT, MONEY) and f.required)
            if any(f.type in (BIGINT, MONEY) and f.required for f in et.fields)
            else next(f for f in et.fields if f.type in (BIGINT, MONEY))
        )
        row[f.name] = BAD_NUMBERS[int(rng.integers(0, len(BAD_NUMBERS)))]
    return Bad(kind, row, typed)
