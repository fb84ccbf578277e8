"""``reachloop batches``: list landed batches, reject one (retraction), restore it."""

from __future__ import annotations

import argparse
import json

from eventlog import batches
from eventlog.settings import Settings
from eventlog.warehouse import warehouse, writer_lock


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batches",
        help="list landed batches with their gate outcome; reject or restore one",
        description="Every landed file is a batch. Rejecting one records a decision in "
        "meta.batch_events (the event log itself is never edited): builds leave the batch out "
        "from then on, starting from scratch. Restoring it takes it back; gate 1 checks it again.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    ls = actions.add_parser("list", help="batches with gate 1 outcome and rejection")
    ls.add_argument("--event-type", help="only batches of this event type")
    ls.add_argument("--problems", action="store_true", help="only batches not passed or rejected")
    ls.add_argument("--json", action="store_true", help="one JSON object per batch")
    ls.set_defaults(func=run_list)

    rj = actions.add_parser("reject", help="leave a batch out of every later build")
    rj.add_argument("batch_id", metavar="BATCH_ID")
    rj.add_argument("--reason", required=True, help="why (kept with the decision)")
    rj.set_defaults(func=run_reject)

    rs = actions.add_parser("restore", help="take a rejected batch back")
    rs.add_argument("batch_id", metavar="BATCH_ID")
    rs.add_argument("--reason", help="why (optional)")
    rs.set_defaults(func=run_restore)


def run_list(args: argparse.Namespace) -> int:
    with warehouse(Settings.from_env(args.home), read_only=True) as con:
        rows = batches.list_batches(con, event_type=args.event_type, problems_only=args.problems)
    if args.json:
        for r in rows:
            print(json.dumps(r.as_dict()))
        return 0
    print(f"{'batch':<32} {'event type':<15} {'rows':>9} {'gate 1':<8} {'ingested at':<21} state")
    for r in rows:
        state = f"rejected: {r.reason}" if r.rejected else "accepted"
        print(
            f"{r.batch_id:<32} {r.event_type:<15} {r.rows_landed:>9,} {r.gate:<8} {r.ingested_at:<21} {state}"
        )
    print(f"{len(rows)} batches")
    return 0


def run_reject(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    with writer_lock(settings, "reject"), warehouse(settings) as con:
        batches.reject(con, args.batch_id, args.reason)
    print(f"rejected {args.batch_id}: the next build leaves it out (and rebuilds from scratch)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    with writer_lock(settings, "restore"), warehouse(settings) as con:
        batches.restore(con, args.batch_id, args.reason)
    print(f"restored {args.batch_id}: gate 1 checks it again at the next build")
    return 0
