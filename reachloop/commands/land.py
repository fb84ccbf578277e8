"""``reachloop land DIR``: append every file under DIR to the event log."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from eventlog.errors import ReachloopError
from eventlog.settings import Settings, pii_key
from eventlog.warehouse import warehouse, writer_lock
from ingestion.adapters import ADAPTERS, land_any
from ingestion.landing import FileResult, landing_files
from reachloop.progress import Progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "land",
        help="land every file under DIR into the event log",
        description="Land contract files (CSV, JSON Lines, Parquet): the event type is the file "
        "name up to its first '-' or '.' (click.csv, share_metrics-2026-03.jsonl) or the folder "
        "holding it (deal/part-7.parquet). Vendor exports land through source adapters: "
        "LinkedIn API pulls, a member's Connections.csv and post analytics (XLSX or JSON), HR "
        "rosters, advocacy platform shares and reports, HubSpot and Salesforce export folders, "
        "GA4 and Segment exports, web hit logs. Their format is detected from their columns or "
        "keys, or given with --format. Files already landed are skipped; records that break "
        "the contract are quarantined with a reason. Needs REACHLOOP_PII_KEY.",
    )
    p.add_argument("path", type=Path, metavar="DIR", help="a landing folder or a single file")
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help=f"source format of PATH: {', '.join(sorted(ADAPTERS))}; options after a colon, e.g. "
        "hubspot:tz=America/New_York or salesforce:decimal=comma (see docs/sources.md)",
    )
    p.add_argument(
        "--employee",
        metavar="EMPLOYEE_ID",
        help="whose export PATH is, for a member's own export (linkedin_connections, …)",
    )
    p.add_argument(
        "--observed-at",
        metavar="TS",
        help="when that export was taken (ISO 8601), where its file or folder name does not say",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.set_defaults(func=run)


def format_spec(args: argparse.Namespace) -> str | None:
    """--format with --employee and --observed-at folded in as the format's own options."""
    spec = getattr(args, "format", None)
    own = {"employee": getattr(args, "employee", None), "observed_at": getattr(args, "observed_at", None)}
    given = ",".join(f"{name}={value}" for name, value in own.items() if value)
    if not given:
        return spec
    if spec is None:
        raise ReachloopError("--employee and --observed-at describe an export: give its --format too")
    return f"{spec}{',' if ':' in spec else ':'}{given}"


def _describe(result: FileResult) -> str:
    if result.status == "landed":
        return (
            f"landed   {result.path} → {result.event_type}: {result.rows_landed:,} of"
            f" {result.rows_read:,} rows ({result.rows_duplicate:,} duplicate,"
            f" {result.rows_quarantined:,} quarantined"
            + (f", {result.rows_erased:,} erased: they name an erased person" if result.rows_erased else "")
            + ")"
            + (f"; {result.message}" if result.message else "")
        )
    if result.status == "skipped" and result.batch_id:
        return f"skipped  {result.path}: {result.message} as {result.batch_id}"
    if result.status == "skipped":
        return f"skipped  {result.path}: {result.message}"
    if result.status == "failed":
        return f"failed   {result.path}: {result.message}"
    return f"refused  {result.path}: {result.message}"


def run(args: argparse.Namespace) -> int:
    key = pii_key()
    settings = Settings.from_env(args.home)
    if not args.path.exists():
        raise ReachloopError(f"{args.path} does not exist")
    started = time.perf_counter()
    # One line per file is the log; on a terminal a bar over the files shows how far it is.
    progress = Progress("land", sum(1 for _ in landing_files(args.path)))

    def on_file(result: FileResult) -> None:
        progress.advance(Path(result.path).name)
        if not args.json:
            progress.print(_describe(result))

    try:
        with writer_lock(settings, "land"), warehouse(settings) as con:
            results = land_any(con, args.path, key, spec=format_spec(args), on_file=on_file)
    finally:
        progress.close()
    if args.json:
        for r in results:
            print(json.dumps(r.as_dict()))
    landed = [r for r in results if r.status == "landed"]
    rows = sum(r.rows_read for r in landed)
    # A vendor file can land as several batches (one per event type it yields): count files.
    files = len({r.path for r in landed})
    batches = f" as {len(landed)} batches" if len(landed) != files else ""
    summary = (
        f"{files} files landed{batches} ({rows:,} rows: {sum(r.rows_landed for r in landed):,} new, "
        f"{sum(r.rows_duplicate for r in landed):,} duplicate, "
        f"{sum(r.rows_quarantined for r in landed):,} quarantined), "
        f"{sum(r.status == 'skipped' for r in results)} skipped, "
        + (f"{failures} failed, " if (failures := sum(r.status == "failed" for r in results)) else "")
        + f"in {time.perf_counter() - started:.1f}s"
    )
    print(summary, file=sys.stderr if args.json else sys.stdout)
    if not results:
        raise ReachloopError(f"no landing files (.csv, .jsonl, .parquet) under {args.path}")
    # Every file was tried: a refused or failed one makes the exit status non-zero, after the
    # others landed.
    refused = [r for r in results if r.status not in ("landed", "skipped")]
    if refused:
        raise ReachloopError(f"{len(refused)} file(s) not landed: {refused[0].message} ({refused[0].path})")
    return 0
