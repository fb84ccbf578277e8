"""``reachloop status``: what the event log holds, per event type."""

from __future__ import annotations

import argparse
import json

from reachloop.settings import Settings
from reachloop.status import log_status
from reachloop.warehouse import warehouse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="landed, duplicate and quarantined counts per event type",
        description="Counts over the whole event log: per event type landed, duplicates and "
        "quarantined records; quarantined records by reason.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    with warehouse(settings, read_only=True) as con:
        status = log_status(con)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"event log at {settings.warehouse}")
    print(f"  {'event type':<15} {'landed':>12} {'duplicates':>11} {'quarantined':>12}")
    for name, c in status["event_types"].items():
        print(f"  {name:<15} {c['landed']:>12,} {c['duplicates']:>11,} {c['quarantined']:>12,}")
    if status["quarantine_reasons"]:
        print("quarantined by reason:")
        for reason, n in status["quarantine_reasons"].items():
            print(f"  {reason:<20} {n:>8,}")
    print(f"last landed: {status['last_landed_at'] or 'never'}")
    return 0
