"""After an erasure removed a person from the warehouse: what else under the home held them.

- The published versions and as-of publications were built from the log with the person in
  it (their rows, and their weight in every aggregate): after the rebuild has published a new
  version, every other version and every as-of publication is removed (an as-of build run
  after the erasure reproduces the past without the person).
- The warehouse file keeps deleted rows' old blocks until DuckDB reuses them: it is rewritten
  (``copy from database``) into a new file, which replaces it.
- Other files under the home (dbt's target and logs, Great Expectations' Data Docs, reports,
  status.json) are searched byte by byte for the pseudonyms: a text file has them replaced by
  ``<erased>``; a file that is not text, and holds one, is removed.

Delivery folders (``landing/``) are left alone: they are the sources' files, not reachloop's
(a re-delivery of them lands none of the person's rows).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from builds.publish import CURRENT, VERSIONS, current_version
from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from eventlog.sql import quote_str
from eventlog.warehouse import open_warehouse

ERASED = b"<erased>"
AS_OF = "as_of"
# Where deliveries wait (Airflow's landing folders): the sources' files, not ours to edit.
DELIVERIES = "landing"


def remove_old_publications(settings: Settings) -> list[str]:
    """Every published version but the current one, and every as-of publication; returns what
    went (paths relative to the home). Call after a publish made after the erasure."""
    removed = []
    destination = settings.published
    current = current_version(destination)
    versions = destination / VERSIONS
    if versions.is_dir():
        for folder in sorted(versions.iterdir()):
            if folder.name != current:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder.relative_to(settings.home)))
    as_of = settings.home / AS_OF
    if as_of.is_dir():
        for folder in sorted(as_of.iterdir()):
            shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink()
            removed.append(str(folder.relative_to(settings.home)))
    return removed


def purge_lake(settings: Settings) -> bool:
    """The Spark engine's copies of the log: the lake's batch folders are written again from
    the log without the erased rows (eventlog/lake.py), and the local Spark session's tables,
    which the next Spark build makes again anyway, are removed. False when the home has none."""
    from eventlog.lake import export_lake, lake_dir

    spark = settings.home / "spark"
    shutil.rmtree(spark, ignore_errors=True)
    if not (lake_dir(settings) / "events").is_dir():
        return False
    con = open_warehouse(settings.warehouse)
    try:
        export_lake(con, settings)
    finally:
        con.close()
    return True


def compact_warehouse(settings: Settings) -> int:
    """Rewrite the warehouse into a fresh file, so that no freed block keeps erased rows.
    Returns the new file's size. The old file stays locked (its connection open) until the new
    one is in place, so no other writer can open it meanwhile and write where nobody reads."""
    path = settings.warehouse
    fresh = path.with_name(f".{path.name}.compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = open_warehouse(path)
    try:
        con.execute("checkpoint")
        name = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach {quote_str(str(fresh))} as _compact")
        try:
            con.execute(f"copy from database {name} to _compact")
        finally:
            con.execute("detach _compact")
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    # The unique index and any column added since are the schema's: opening checks them.
    open_warehouse(path).close()
    return path.stat().st_size


def scrub_home_files(settings: Settings, texts: list[str]) -> list[str]:
    """Replace the pseudonyms (and clear texts) in every other file under the home, in any
    case; returns the files changed or removed (relative to the home). The warehouse and the
    current publication are not touched here (rewritten, and rebuilt, before)."""
    needle = re.compile(b"|".join(re.escape(t.encode()) for t in sorted(set(texts))), re.IGNORECASE)
    skip = {settings.warehouse, settings.warehouse.with_name(settings.warehouse.name + ".wal")}
    touched = []
    for root, dirs, files in os.walk(settings.home):
        here = Path(root)
        if here == settings.home:
            dirs[:] = [d for d in dirs if d != DELIVERIES]
        for name in files:
            path = here / name
            if path in skip or path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if not needle.search(data):
                continue
            if _published(settings, path):
                raise ReachloopError(
                    f"{path} still names an erased person after the rebuild: report this as a bug"
                )
            touched.append(str(path.relative_to(settings.home)))
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                path.unlink()
                continue
            data = needle.sub(ERASED, data)
            tmp = path.with_name(f".{path.name}.erasing")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    return touched


def _published(settings: Settings, path: Path) -> bool:
    return any(path.is_relative_to(settings.published / part) for part in (VERSIONS, CURRENT))
