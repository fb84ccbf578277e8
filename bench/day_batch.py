"""One day's delivery on top of a landed log, for the incremental benchmark.

The generator writes a year. The next day (``NEXT``, 2026-01-01) is made from a typical weekday
of it (``DAY``; the year's last days are quiet): every event of that day, moved to the next
day; events identified by an id get a fresh one (``<id>-next``),
snapshots (metrics, roster, audiences, followers) are new because their time moved. References
(share_id of an engagement, tracking_token of a click, deal_id of a deal event) still point at
what the log holds, so the day touches existing shares and deals as a real day does.
Written as one CSV file per event type, in the landing layout.

    python -m bench.day_batch DIR/landing OUT [--day 2025-06-11] [--rows-per-type N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from bench.pandas_peer import read_events
from eventlog.contract import BIGINT, EVENT_TYPES, TIMESTAMP

DAY = pd.Timestamp("2025-06-11", tz="UTC")  # a Wednesday
NEXT = pd.Timestamp("2026-01-01", tz="UTC")
SUFFIX = "-next"
# Events identified by an id (not by a moment): the id that must be new, and ids that go with it.
NEW_IDS = {
    "content": ("content_id",),
    "share": ("share_id", "tracking_token"),
    "engagement": ("engagement_id",),
    "click": ("click_id",),
    "form_fill": ("submission_id",),
    "deal": ("deal_event_id",),
    "program_goal": ("goal_id",),  # the same goal_id would revise a goal, not set a new one
}


def make_day_batch(landing: Path, out: Path, day: pd.Timestamp = DAY,
                   rows_per_type: int | None = None) -> dict[str, int]:
    """The day's events moved to NEXT, one CSV per event type; with ``rows_per_type``, only the
    day's first rows of each type (by time): a batch that touches every event type the day does
    with almost no data, so what its build costs is what does not follow the change."""
    shift = NEXT - day
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, et in EVENT_TYPES.items():
        df = read_events(landing, name)
        times = [f.name for f in et.fields if f.type == TIMESTAMP]
        when = times[-1] if name != "employee" else "observed_at"
        day_rows = df[(df[when] >= day) & (df[when] < day + pd.Timedelta(days=1))].copy()
        if rows_per_type is not None:
            day_rows = day_rows.sort_values(when, kind="stable").head(rows_per_type)
        for t in times:
            # An optional timestamp no row of a small workload sets reads back as objects.
            day_rows[t] = pd.to_datetime(day_rows[t], utc=True) + shift
            day_rows[t] = day_rows[t].dt.strftime("%Y-%m-%dT%H:%M:%S%z")
        for col in NEW_IDS.get(name, ()):
            day_rows[col] = day_rows[col] + SUFFIX
        for f in et.fields:
            if f.type == BIGINT:
                day_rows[f.name] = day_rows[f.name].astype("Int64")
        counts[name] = len(day_rows)
        if len(day_rows):
            day_rows.to_csv(out / f"{name}-2026-01-01.csv", index=False)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.day_batch",
        description="Write one day's delivery (a weekday of a generated year, moved to the next day) "
        "as CSV files in the landing layout; prints the rows per event type as JSON.",
    )
    p.add_argument("landing", type=Path, help="the generated workload's landing folder (DIR/landing)")
    p.add_argument("out", type=Path, help="where the day's files go (land them with reachloop land OUT)")
    p.add_argument("--day", default=DAY.date().isoformat(),
                   help=f"the day of the year to copy (default {DAY.date()}, a Wednesday)")
    p.add_argument("--rows-per-type", type=int, metavar="N",
                   help="only the day's first N rows of each event type (the build's floor)")
    args = p.parse_args(argv)
    if not args.landing.is_dir():
        p.error(f"no landing folder at {args.landing}")
    counts = make_day_batch(args.landing, args.out, pd.Timestamp(args.day, tz="UTC"), args.rows_per_type)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
