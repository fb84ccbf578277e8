"""``reachloop quarantine``: the records landing set aside, with where they came from and why."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eventlog.settings import Settings
from eventlog.status import quarantined_records
from eventlog.warehouse import warehouse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quarantine",
        help="list quarantined records: file, line, reason and the PII-masked text",
        description="Records that broke the landing contract (meta.quarantine), oldest file first: "
        "the batch and file they came from, their line, the reason and its detail, and the raw "
        "text with PII masked. Fix the source and deliver a corrected file.",
    )
    p.add_argument("--batch", metavar="BATCH_ID", help="only this batch's records")
    p.add_argument(
        "--file", metavar="PATH",
        help="only records of this file (its path as landed, or its trailing part: click.csv)",
    )
    p.add_argument("--reason", metavar="REASON", help="only this reason (reachloop status lists them)")
    p.add_argument("--limit", type=int, default=50, metavar="N",
                   help="show at most N records (default 50; 0 for all)")
    p.add_argument("--json", action="store_true", help="one JSON object per record")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    files = None
    if args.file:
        files = [args.file, str(Path(args.file).resolve())]
    with warehouse(settings, read_only=True) as con:
        total, records = quarantined_records(
            con, batch_id=args.batch, files=files, reason=args.reason, limit=args.limit or None,
        )
        known = con.execute("select distinct reason from meta.quarantine order by 1").fetchall()
    reasons = [r for (r,) in known]
    if args.json:
        for r in records:
            print(json.dumps(r))
        return 0
    if not total:
        print("no quarantined records" + (" match" if args.batch or args.file or args.reason else ""))
        if args.reason and args.reason not in reasons:
            print(f"(reasons in the log: {', '.join(reasons) or 'none'})")
        return 0
    for r in records:
        line = f":{r['line']}" if r["line"] is not None else ""
        detail = f" ({r['detail']})" if r["detail"] else ""
        print(f"{r['file']}{line}  [{r['event_type']}, batch {r['batch_id']}]")
        print(f"  {r['reason']}{detail}")
        print(f"  {r['raw']}")
    shown = f", showing the first {len(records):,} (--limit 0 for all)" if len(records) < total else ""
    print(f"{total:,} quarantined records{shown}")
    return 0
