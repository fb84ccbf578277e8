"""``reachloop status``: what the event log holds, per event type."""

from __future__ import annotations

import argparse
import json

from eventlog.settings import Settings
from eventlog.status import log_status, read_status_snapshot
from eventlog.warehouse import WarehouseBusy, warehouse


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
    status = _read_status(settings)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"event log at {settings.warehouse}")
    if status.get("snapshot_at"):
        print(f"  (a land or build holds the warehouse: as of its snapshot at {status['snapshot_at']})")
    print(f"  {'event type':<15} {'landed':>12} {'duplicates':>11} {'quarantined':>12} {'erased':>8}")
    for name, c in status["event_types"].items():
        print(f"  {name:<15} {c['landed']:>12,} {c['duplicates']:>11,} {c['quarantined']:>12,}"
              f" {c.get('erased', 0):>8,}")
    if status["quarantine_reasons"]:
        print("quarantined by reason:")
        for reason, n in status["quarantine_reasons"].items():
            print(f"  {reason:<20} {n:>8,}")
    print(f"last landed: {status['last_landed_at'] or 'never'}")
    if status.get("erasure_requests"):
        print(f"erasure requests: {status['erasure_requests']:,} (reachloop erase; later deliveries'"
              " rows naming those people are dropped at landing)")
    _print_builds(status)
    return 0


def _read_status(settings: Settings) -> dict:
    """The warehouse itself when free; while a land or build holds it (DuckDB lets no other
    process open the file then, not even to read), the snapshot its writer left beside it."""
    try:
        with warehouse(settings, read_only=True, lock_timeout=0) as con:
            return log_status(con)
    except WarehouseBusy:
        snapshot = read_status_snapshot(settings.status_snapshot)
        if snapshot is None:
            raise
        return snapshot


def _print_builds(status: dict) -> None:
    build, published = status.get("last_build"), status.get("last_publish")
    if build:
        failed = f" at {build['step']}: {build['error']}" if build["status"] == "failed" else ""
        print(f"last build: {build['build_id']} {build['status']}{failed} (started {build['started_at']})")
    else:
        print("last build: never")
    if published:
        print(f"last publish: version {published['published_version']} to {published['published_to']} "
              f"(build {published['build_id']}, {published['finished_at']})")
    else:
        print("last publish: never")
    for gate, g in status.get("gates", {}).items():
        print(f"{gate.replace('_', ' ')}: {g['outcome']} ({g['checks']} checks, build {g['build_id']})")
        if g.get("rejected_batches"):
            print(f"  {g['rejected_batches']} rejected batch(es) left out (reachloop batches list)")
        for f in g["failures"][:10]:
            where = f"{f['target']} {f['batch_id']}" if f["batch_id"] else f["target"]
            where += f" (file {f['file']})" if f.get("file") else ""
            col = f"({f['column']})" if f["column"] else ""
            n = f", {f['unexpected_count']:,} rows" if f["unexpected_count"] is not None else ""
            print(f"  {f['severity']:<8} {f['expectation']}{col} on {where}{n}")
        if len(g["failures"]) > 10:
            print(f"  … {len(g['failures']) - 10} more (reachloop status --json)")
