"""``reachloop plan CONTENT_ID``: who should share a content item next, and when."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime

from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from planner.cadence import Cadence
from reports.trace import json_default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="who should share a content item next, and when",
        description="Print the share plan of a recent content item that is not yet widely shared: "
        "the opted-in employees to ask, best first (each adds the most members outside the company "
        "whom no earlier share reached), each at their usual posting hour under the cadence rules. "
        "Reads the build's plan (mart_share_plan) from the published snapshot, else the warehouse; "
        "--start, the cadence options or more --sharers than the build planned compute the item's "
        "plan again from the build's planner inputs in the warehouse.",
    )
    p.add_argument("content_id", metavar="CONTENT_ID", help="the content item")
    p.add_argument(
        "--sharers", type=int, metavar="K", help="suggest at most K sharers (default: the build's, 5)"
    )
    p.add_argument(
        "--start", metavar="TS", help="first moment of the plan, ISO 8601 (default: the build's plan moment)"
    )
    p.add_argument(
        "--min-hours-between-posts",
        type=float,
        metavar="H",
        help="hours between a person's posts, past or planned (default 24)",
    )
    p.add_argument(
        "--max-posts-per-week", type=int, metavar="N", help="posts of a person in any 7 days (default 3)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.sharers is not None and args.sharers < 1:
        raise ReachloopError("--sharers must be 1 or more")
    cadence = None
    rules = {
        "min_hours_between_posts": args.min_hours_between_posts,
        "max_posts_per_week": args.max_posts_per_week,
    }
    if any(v is not None for v in rules.values()):
        try:
            cadence = replace(Cadence(), **{k: v for k, v in rules.items() if v is not None})
        except ValueError as e:
            raise ReachloopError(str(e)) from e
    start = None
    if args.start is not None:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError as e:
            raise ReachloopError(f"--start {args.start!r} is not an ISO 8601 time") from e
        start = start if start.tzinfo else start.replace(tzinfo=UTC)  # no offset: UTC, as landing reads it
    from reports.share_plan import render, share_plan  # pandas: only when a plan is asked for

    result = share_plan(Settings.from_env(args.home), args.content_id, args.sharers, start, cadence)
    print(json.dumps(result, indent=2, default=json_default) if args.json else render(result))
    return 0
