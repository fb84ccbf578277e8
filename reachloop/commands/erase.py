"""``reachloop erase``: remove a person from the event log, the marts, every publication and
every later delivery (a data subject's erasure request)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from builds.erasure import compact_warehouse, purge_lake, remove_old_publications, scrub_home_files
from builds.steps import STEPS, build
from eventlog.errors import ReachloopError
from eventlog.settings import PII_KEY_ENV, PREVIOUS_PII_KEY_ENV, Settings, pii_key, previous_pii_key
from eventlog.warehouse import warehouse, writer_lock
from ingestion.erasure import (
    EMAIL,
    MEMBER_ID,
    PSEUDONYM,
    carry_over,
    clear_texts,
    erase,
    recorded_pseudonyms,
    request_pseudonyms,
)
from ingestion.pseudonymize import install_macro, key_id
from reachloop.progress import Progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "erase",
        help="erase a person: their rows in the log, the marts, every publication and later deliveries",
        description="Records an erasure request (the person's pseudonym only), deletes every row "
        "that names them from the event log, quarantine and the built tables (the ledger counts "
        "them as rows_erased), rebuilds from scratch and publishes, removes older published "
        "versions and as-of publications, rewrites the warehouse file and replaces the pseudonym "
        "in other files under the home. Later deliveries' rows that name the person are dropped "
        "at landing and counted. Running it again for the same person finishes what a failed "
        "run left (e.g. a rebuild that failed).",
    )
    who = p.add_argument_group(
        "the person", "one or more, repeatable: every identifier the person is known by (one request)"
    )
    who.add_argument("--email", action="append", default=[],
                     help="the person's email (any case, surrounding spaces ignored)")
    who.add_argument("--member-id", action="append", default=[],
                     help="a LinkedIn member id: bare, as a URN (urn:li:person:…) or a profile URL")
    who.add_argument("--pseudonym", action="append", default=[],
                     help="the pseudonym itself, for an operator who only has the hash")
    rotation = p.add_argument_group(
        "key rotation", "docs/operators.md, \"Rotating REACHLOOP_PII_KEY\""
    )
    rotation.add_argument(
        "--carry-over", metavar="OLD_HOME", type=Path,
        help="copy OLD_HOME's erasure requests into this home (made under REACHLOOP_PII_KEY_PREVIOUS), "
        "before re-landing its deliveries under the new key",
    )
    rotation.add_argument(
        "--reapply", action="store_true",
        help="erase every person recorded in this home again, and rebuild (after a re-landing)",
    )
    p.add_argument("--reason", help="why (kept with the request, e.g. a ticket number; no personal data)")
    p.add_argument("--dry-run", action="store_true", help="count what would go, per table; change nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _identifiers(args: argparse.Namespace) -> list[tuple[str, str]]:
    given = [(kind, value) for kind in (EMAIL, MEMBER_ID, PSEUDONYM) for value in getattr(args, kind)]
    if not given and not args.reapply and not args.carry_over:
        raise ReachloopError("name the person: --email, --member-id or --pseudonym (or --reapply)")
    return given


def _carry_over(settings: Settings, old_home: Path, key: bytes | None) -> int:
    previous = previous_pii_key()
    if not previous:
        raise ReachloopError(
            f"--carry-over needs {PREVIOUS_PII_KEY_ENV}: the key the old home's pseudonyms were made with"
        )
    if key and previous == key:
        raise ReachloopError(f"{PREVIOUS_PII_KEY_ENV} equals {PII_KEY_ENV}: nothing to rotate")
    old = Settings.from_env(old_home).warehouse
    if not old.exists():
        raise ReachloopError(f"no warehouse in {old_home}")
    with writer_lock(settings, "erase"), warehouse(settings) as con:
        return carry_over(con, str(old), key_id(previous))


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home)
    identifiers = _identifiers(args)
    # --pseudonym needs no key; with one, the erased visitors are remembered for later deliveries.
    needs_key = any(kind != PSEUDONYM for kind, _ in identifiers) or args.carry_over
    key = pii_key() if needs_key or os.environ.get(PII_KEY_ENV) else None
    if args.carry_over:
        copied = _carry_over(settings, args.carry_over, key)
        print(f"carried over {copied:,} erasure request rows from {args.carry_over}: land the retained "
              f"deliveries with {PREVIOUS_PII_KEY_ENV} set, then run reachloop erase --reapply")
        if not identifiers and not args.reapply:
            return 0
    if not settings.warehouse.exists():
        raise ReachloopError(f"no warehouse in {settings.home}: nothing to erase from")
    pseudonyms = {
        p: kind for kind, value in identifiers for p in request_pseudonyms(kind, value, key)
    }
    clear = [t for kind, value in identifiers for t in clear_texts(kind, value)]
    if args.reapply:
        with warehouse(settings, read_only=True) as con:
            recorded = recorded_pseudonyms(con, key and key_id(key))
        pseudonyms = {**recorded, **pseudonyms}
        if not pseudonyms:
            raise ReachloopError("nobody was erased in this home: nothing to reapply")
    # One writer at a time: a land or build started meanwhile waits until the log, the marts and
    # the home's files are all free of the person (the rebuild inside holds the same lock).
    with writer_lock(settings, "erase"):
        return _erase(args, settings, pseudonyms, clear, key)


def _erase(
    args: argparse.Namespace, settings: Settings, pseudonyms: dict[str, str], clear: list[str],
    key: bytes | None,
) -> int:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    with warehouse(settings) as con:
        if key:
            install_macro(con, key)
        result = erase(
            con, pseudonyms, reason=args.reason, dry_run=args.dry_run, key_installed=key is not None,
            key=key and key_id(key), clear=clear,
        )
        published_before = con.execute(
            "select count(*) from meta.builds where status = 'succeeded'"
        ).fetchone()[0] > 0
    seconds["erase"] = time.perf_counter() - started
    report: dict = {**result.as_dict(), "seconds": seconds}
    if args.dry_run:
        return _print(args, report)
    if published_before:
        progress = Progress("rebuild", len(STEPS))
        phase = time.perf_counter()
        try:
            outcome = build(settings, full_refresh=True, on_step=progress.step)
        except Exception as exc:
            raise ReachloopError(
                f"erased {result.rows_erased:,} rows from the log, but the rebuild failed ({exc}): "
                "the published output still holds the person; fix the cause and run the same "
                "reachloop erase again, which finishes the job"
            ) from exc
        finally:
            progress.close()
        seconds["rebuild"] = time.perf_counter() - phase
        report["published_version"] = outcome.version
    phase = time.perf_counter()
    report["removed_publications"] = remove_old_publications(settings)
    report["lake_rewritten"] = purge_lake(settings)
    report["warehouse_bytes"] = compact_warehouse(settings)
    report["files_scrubbed"] = scrub_home_files(settings, [*result.pseudonyms, *clear])
    seconds["purge"] = time.perf_counter() - phase
    seconds["total"] = time.perf_counter() - started
    return _print(args, report)


def _print(args: argparse.Namespace, report: dict) -> int:
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    verb = "would erase" if report["dry_run"] else "erased"
    again = " (this person was erased before)" if report["already_requested"] else ""
    print(f"{verb} {report['rows_erased']:,} rows of the log and quarantine, "
          f"from {report['batches']:,} batches{again}")
    for relation, n in report["tables"].items():
        print(f"  {relation:<48} {n:>9,}")
    if report["visitors"]:
        print(f"  {report['visitors']:,} visitor(s) whose only link was this person (their clicks go too)")
    if report["dry_run"]:
        print("dry run: nothing changed")
        return 0
    if report.get("published_version"):
        print(f"rebuilt from scratch and published version {report['published_version']}")
    for path in report["removed_publications"]:
        print(f"  removed {path}")
    for path in report["files_scrubbed"]:
        print(f"  scrubbed {path}")
    s = report["seconds"]
    print(f"request {report['request_id']} recorded; later deliveries' rows naming this person are "
          f"dropped at landing ({s['total']:.1f}s)")
    return 0
