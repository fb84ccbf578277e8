"""``reachloop generate``: a synthetic landing folder plus ground truth."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from eventlog.errors import ReachloopError
from reachloop.outputs import output_folder


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a synthetic workload (every event type) and its ground truth",
        description="Write DIR/landing (CSV, JSON Lines and Parquet files of every event type) "
        "and DIR/ground_truth (which share really drove each lead and deal). SF1 is a "
        "1,000-employee company over one year; the same seed gives the same bytes. With "
        "--as-exports, also DIR/exports: the same company as the vendor exports the source "
        "adapters read (one folder per format) and DIR/ground_truth/export_ids.parquet (which id "
        "the exports land for which id the contract files land).",
    )
    p.add_argument("--scale", type=float, default=0.1, metavar="SF", help="scale factor (default 0.1)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--as-exports",
        action="store_true",
        help="also write the same company as vendor exports: DIR/exports/<format>/ (HR roster, "
        "members' Connections.csv, advocacy shares, post analytics, LinkedIn API pulls, GA4, HubSpot), "
        "each folder landable with `reachloop land --format <format> DIR/exports/<format>`, as "
        "DIR/exports/README.md and exports.json list; DIR/landing stays as without the flag",
    )
    p.add_argument(
        "--comparable",
        action="store_true",
        help="with --as-exports: leave out of DIR/landing too what no export can say (bots, "
        "reshare events, X network sizes, ...: DIR/exports/README.md lists them), so that landing "
        "DIR/landing and landing DIR/exports build the same marts",
    )
    p.add_argument(
        "--deliveries",
        action="store_true",
        help="also copy DIR/landing into DIR/deliveries/<family>/<YYYY-MM-DD>/, the layout the Airflow "
        "landing DAGs read (point REACHLOOP_LANDING at DIR/deliveries)",
    )
    p.add_argument(
        "--delivery-date",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="with --deliveries: the day the deliveries are dated (default: yesterday, UTC — the "
        "interval an unpaused landing DAG runs first, so it lands them at once)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from generator import generate
    from generator.exports import VENDOR_LIMITS

    if args.scale <= 0:
        raise ReachloopError(f"--scale must be positive, got {args.scale}")
    if args.comparable and not args.as_exports:
        raise ReachloopError("--comparable shapes DIR/landing after the exports: give --as-exports too")
    if args.delivery_date and not args.deliveries:
        raise ReachloopError("--delivery-date dates the sample deliveries: give --deliveries too")
    output_folder(args.out)
    summary = generate(
        args.scale, args.seed, args.out, progress=not args.json, as_exports=args.as_exports,
        vendor_limits=tuple(VENDOR_LIMITS) if args.comparable else (),
    )
    if args.deliveries:
        from ingestion.deliveries import route_deliveries

        day = args.delivery_date or datetime.now(UTC).date() - timedelta(days=1)
        copied = route_deliveries(args.out / "landing", args.out / "deliveries", day)
        summary["deliveries"] = {"root": str(args.out / "deliveries"), "date": day.isoformat(),
                                 "files": len(copied)}
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    counts = summary.get("events", {})
    print(f"generated SF{args.scale:g} (seed {args.seed}) in {args.out}/landing:")
    for name, n in counts.items():
        print(f"  {name:<15} {n:>10,}")
    print(f"ground truth in {args.out}/ground_truth")
    if args.deliveries:
        d = summary["deliveries"]
        print(f"{d['files']} sample deliveries in {d['root']}/<family>/{d['date']}/: the landing DAGs' "
              f"run for {d['date']} lands them (set REACHLOOP_LANDING={d['root']})")
    if args.as_exports:
        print(f"vendor exports in {args.out}/exports (README.md says what they cannot carry); land with:")
        for f in summary["exports"]["formats"]:
            print(f"  {f['command'].replace('DIR/', f'{args.out}/')}")
    return 0
