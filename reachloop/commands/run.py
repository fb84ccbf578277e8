"""``reachloop run DIR``: land, then build."""

from __future__ import annotations

import argparse
from pathlib import Path

from reachloop.commands import build, land


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="land every file under DIR, then build",
        description="reachloop land DIR followed by reachloop build.",
    )
    p.add_argument("path", metavar="DIR", type=Path, help="a landing folder")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    build.add_build_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    land.run(args)
    return build.run(args)
