"""Landing by delivery: one source family per folder, one folder per delivery date.

One Airflow DAG per source family lands what its source delivered::

    $REACHLOOP_LANDING/<family>/<YYYY-MM-DD>/<files>     e.g. landing/web/2026-03-01/click-1.csv

A source drops each delivery into a folder named for its delivery date; the family's DAG
run for the data interval [start, end) lands every folder dated in it. Landing is
idempotent (the ledger knows every file's checksum), so re-running or backfilling an
interval lands nothing twice.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from eventlog.contract import EVENT_TYPES
from eventlog.errors import ReachloopError
from eventlog.settings import Settings, pii_key
from eventlog.warehouse import warehouse, writer_lock
from ingestion.landing import FileResult, event_type_for, landing_files

LANDING_ENV = "REACHLOOP_LANDING"

# Which event types each source system delivers: one landing DAG (and one Asset) per family.
SOURCE_FAMILIES: dict[str, tuple[str, ...]] = {
    "advocacy": ("share", "share_metrics", "engagement", "content"),  # the advocacy platform
    "web": ("click",),  # web analytics: clicks on tracked links
    "marketing": ("form_fill",),  # marketing automation
    "crm": ("deal",),
    "people": ("employee", "audience", "page_followers"),  # roster, networks, page followers
    "finance": ("fx_rate", "media_rate", "program_cost"),  # exchange rates, media rate cards, costs
    # the program team's own records: SSI and profile surveys, competitor audits, goals
    "program": ("profile_snapshot", "company_presence", "program_goal"),
}
FAMILY_OF = {et: family for family, types in SOURCE_FAMILIES.items() for et in types}
assert set(FAMILY_OF) == set(EVENT_TYPES), "every event type belongs to exactly one source family"


def landed_asset(family: str) -> dict[str, str]:
    """The Airflow Asset a family's landing publishes and the build DAG is scheduled on."""
    return {"name": f"reachloop_landed_{family}", "uri": f"reachloop://warehouse/raw/{family}"}
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_IN_NAME = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")



def landing_root(settings: Settings, configured: str | Path | None = None) -> Path:
    """Where deliveries arrive: explicit value, else $REACHLOOP_LANDING, else $REACHLOOP_HOME/landing."""
    value = configured or os.environ.get(LANDING_ENV)
    return Path(value).resolve() if value else settings.home / "landing"


def delivery_folders(root: Path, family: str, start: date, end: date) -> list[Path]:
    """The family's delivery folders dated in [start, end), oldest first."""
    if family not in SOURCE_FAMILIES:
        raise ReachloopError(f"unknown source family {family!r} (known: {', '.join(SOURCE_FAMILIES)})")
    base = root / family
    if not base.is_dir():
        return []
    return sorted(
        p for p in base.iterdir()
        if p.is_dir() and _DATE_DIR.match(p.name) and start <= date.fromisoformat(p.name) < end
    )


def land_interval(
    settings: Settings, family: str, start: date, end: date, *, landing: str | Path | None = None,
    formats: dict[str, str] | None = None, on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Land the family's deliveries dated in [start, end).

    A family with a format in ``formats`` (``ingestion.adapters.formats_from_config``) delivers
    vendor exports of that format; otherwise contract files, plus vendor files auto-detection
    recognizes. A contract file of an event type that is not the family's is refused before
    anything lands: a misrouted delivery is an operator error."""
    from ingestion.adapters import land_any

    root = landing_root(settings, landing)
    spec = (formats or {}).get(family)
    folders = delivery_folders(root, family, start, end)
    if spec is None:
        for folder in folders:
            for path in landing_files(folder):
                et = event_type_for(path, folder)
                if et in EVENT_TYPES and et not in SOURCE_FAMILIES[family]:
                    raise ReachloopError(
                        f"{path} is a {et!r} file in the {family!r} deliveries "
                        f"(expected {', '.join(SOURCE_FAMILIES[family])}): nothing landed"
                    )
    if not folders:
        return []
    key = pii_key()
    results = []
    with writer_lock(settings, "land"), warehouse(settings) as con:
        for folder in folders:
            results += land_any(con, folder, key, spec=spec, on_file=on_file)
    return results


NOT_LANDED = ("failed", "rejected", "unknown_type")


def not_landed_summary(results: list[FileResult]) -> str | None:
    """One line naming the files of a run that were tried and not landed (failed, refused), or
    None: a scheduler fails the run with it, after the other files landed."""
    bad = [r for r in results if r.status in NOT_LANDED]
    if not bad:
        return None
    shown = "; ".join(f"{r.path}: {r.message}" for r in bad[:3])
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return (
        f"{len(bad)} file(s) not landed ({shown}{more}): fix or replace them in their delivery "
        "folder and clear the run's land task (files already landed are skipped)"
    )


def route_deliveries(source: Path, root: Path, day: date | None = None) -> list[Path]:
    """Copy a flat export folder (``reachloop generate``'s landing/) into the delivery layout:
    each file goes to ``<root>/<family>/<date>/``, dated ``day`` or else by the month in its
    name (``click-2025-03.csv`` → 2025-03-01). For demos, tests and one-off backfills."""
    copied = []
    for path in landing_files(source):
        et = event_type_for(path, source)
        if et not in FAMILY_OF:
            continue
        when = day
        if when is None:
            m = _MONTH_IN_NAME.search(path.name)
            if not m:
                raise ReachloopError(f"no date in {path.name}: pass a delivery day")
            when = date(int(m[1]), int(m[2]), int(m[3] or 1))
        rel = path.relative_to(source)
        # Keep the event type findable: a file named for its folder (engagement/part-3.csv)
        # gets the folder's name as a prefix.
        name = path.name if len(rel.parts) == 1 else f"{et}-{path.name}"
        target = root / FAMILY_OF[et] / when.isoformat() / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(target)
    return copied
