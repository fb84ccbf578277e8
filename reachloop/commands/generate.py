"""``reachloop generate``: a synthetic landing folder plus ground truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eventlog.errors import ReachloopError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a synthetic workload (every event type) and its ground truth",
        description="Write DIR/landing (CSV, JSON Lines and Parquet files of every event type) "
        "and DIR/ground_truth (which share really drove each lead and deal). SF1 is a "
        "1,000-employee company over one year; the same seed gives the same bytes.",
    )
    p.add_argument("--scale", type=float, default=0.1, metavar="SF", help="scale factor (default 0.1)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from generator import generate

    if args.scale <= 0:
        raise ReachloopError(f"--scale must be positive, got {args.scale}")
    summary = generate(args.scale, args.seed, args.out, progress=not args.json)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    counts = summary.get("events", {})
    print(f"generated SF{args.scale:g} (seed {args.seed}) in {args.out}/landing:")
    for name, n in counts.items():
        print(f"  {name:<15} {n:>10,}")
    print(f"ground truth in {args.out}/ground_truth")
    return 0
