"""The ``reachloop`` command line: the same steps the Airflow DAGs run, without Airflow."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from eventlog.errors import ReachloopError
from reachloop import __version__

# Sub-command modules under reachloop/commands/, in the order --help lists them.
COMMANDS = ("generate", "land", "status", "build", "run", "batches", "trace", "plan", "report", "docs")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="reachloop",
        description="Event-sourced employee-advocacy analytics with closed-loop attribution.",
    )
    top.add_argument("--version", action="version", version=f"reachloop {__version__}")
    top.add_argument(
        "--home", help="where reachloop keeps its files (default: $REACHLOOP_HOME or ./.reachloop)"
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"reachloop.commands.{name}").register(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ReachloopError as exc:
        print(f"reachloop {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"reachloop {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure still gets one line; details on demand
        if os.environ.get("REACHLOOP_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0]
        print(
            f"reachloop {args.command}: {type(exc).__name__}: {first} "
            "(set REACHLOOP_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
