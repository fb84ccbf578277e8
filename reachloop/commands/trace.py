"""``reachloop trace DEAL_ID``: a deal's journey and the credit of each touch under every model."""

from __future__ import annotations

import argparse
import json

from eventlog.settings import Settings
from reports.trace import json_default, render, trace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trace",
        help="a deal's journey and the credit of each touch under every model",
        description="Print every step that led to a deal — the shares its contacts clicked and "
        "who posted them, every click (touch or not, and why not), form fills, the deal's "
        "events — in time order, with each touch's credit under every attribution model. "
        "Reads the published snapshot if there is one, else the warehouse.",
    )
    p.add_argument("deal_id", metavar="DEAL_ID", help="the CRM deal id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = trace(Settings.from_env(args.home), args.deal_id)
    if args.json:
        print(json.dumps(result, indent=2, default=json_default))
    else:
        print(render(result))
    return 0
