"""The ``reachloop`` command line: the same steps the Airflow DAGs run, without Airflow."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import import_module
from pathlib import Path

from eventlog.errors import ReachloopError
from eventlog.faults import WAREHOUSE_RECOVERY, damaged, disk_full, is_damage, is_disk_full
from eventlog.settings import Settings
from reachloop import __version__

# Sub-command modules under reachloop/commands/, in the order --help lists them.
COMMANDS = (
    "generate", "land", "status", "quarantine", "build", "run", "batches", "erase", "trace", "plan", "report",
    "docs",
)
VERBOSE_ENV = "REACHLOOP_VERBOSE"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="reachloop",
        description="Event-sourced employee-advocacy analytics with closed-loop attribution.",
    )
    top.add_argument("--version", action="version", version=f"reachloop {__version__}")
    top.add_argument(
        "--home", help="where reachloop keeps its files (default: $REACHLOOP_HOME or ./.reachloop)"
    )
    top.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"reachloop.commands.{name}").register(sub)
    # Also after the command (reachloop build --verbose), where people type it.
    for command in sub.choices.values():
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=_VERBOSE_HELP)
    return top


_VERBOSE_HELP = "also show what dbt, Great Expectations and Airflow log (quiet by default)"


def configure_logging(verbose: bool) -> None:
    """reachloop's own output is its prints; the libraries it drives (Great Expectations, dbt,
    Airflow) log at INFO through the root logger, which is noise on a terminal. Quiet unless
    --verbose (or REACHLOOP_VERBOSE=1), which also lets dbt print its run log."""
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    verbose = verbose or os.environ.get(VERBOSE_ENV, "") not in ("", "0")
    root = logging.getLogger()
    # Set up before any library does: a later basicConfig() is then a no-op. The libraries
    # also raise their own loggers' levels back (GX's data context logs INFO after dbt ran), so
    # the filter sits on the handler, where their records end up.
    if not any(isinstance(f, _QuietLibraries) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_QuietLibraries())
        root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)


_LIBRARIES = ("great_expectations", "dbt", "airflow", "py.warnings")


class _QuietLibraries(logging.Filter):
    """Below ERROR, only reachloop's own records pass, unless verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
            return True
        return record.name.split(".")[0] in _OURS


_OURS = {"reachloop", "eventlog", "ingestion", "generator", "attribution", "builds", "reports"}


def _home_hint(args: argparse.Namespace) -> str:
    """After `make demo`, `reachloop status` looks in ./.reachloop while the demo lives in
    ./.reachloop/demo: point at homes found below the one in use."""
    home = Settings.from_env(getattr(args, "home", None)).home
    if (home / "warehouse.duckdb").exists() or not home.is_dir():
        return ""
    found = sorted(p.parent for p in home.glob("*/warehouse.duckdb"))
    if not found:
        return ""
    here = Path.cwd()
    shown = [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in found]
    return f" — homes found under {home}: " + ", ".join(f"--home {s}" for s in shown)


def _machine_fault(args: argparse.Namespace, exc: Exception) -> ReachloopError | None:
    """A full disk or a damaged warehouse that escaped the places that word it (a library
    writing its own files): the same one line, said against the home."""
    settings = Settings.from_env(getattr(args, "home", None))
    if is_disk_full(exc):
        return disk_full(settings.home, f"running reachloop {args.command}", exc)
    if is_damage(exc):
        return damaged(settings.warehouse, str(exc).splitlines()[0], WAREHOUSE_RECOVERY)
    return None


def _stdout_gone() -> None:
    """The reader of our output went away (`| head`): send the rest nowhere, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        _stdout_gone()
        return 0
    except ReachloopError as exc:
        print(f"reachloop {args.command}: {exc}{_home_hint(args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"reachloop {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure still gets one line; details on demand
        if os.environ.get("REACHLOOP_DEBUG"):
            raise
        if fault := _machine_fault(args, exc):
            print(f"reachloop {args.command}: {fault}", file=sys.stderr)
            return 1
        first = (str(exc).splitlines() or [""])[0]
        print(
            f"reachloop {args.command}: {type(exc).__name__}: {first} "
            "(set REACHLOOP_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
