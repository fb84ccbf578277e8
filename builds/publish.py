"""Write-audit-publish, last step: swap the checked marts in for readers, atomically.

Layout of a destination (``$REACHLOOP_HOME/published`` or an ``as_of/<stamp>`` folder)::

    current -> versions/<v>
    reachloop.duckdb -> current/reachloop.duckdb
    parquet -> current/parquet
    versions/<v>/reachloop.duckdb, versions/<v>/parquet/<mart>/…, versions/<v>/publication.json

A publish writes a complete new version beside the current one (readers never see the
build's own file, the warehouse), then makes it current with one atomic rename of the
``current`` symlink: the DuckDB file and the Parquet always belong to the same version, and a
reader holding the old file open keeps reading its old inode. Until that rename nothing a
reader can see has changed, and a failure removes the half-written version: the last good
publication stays byte-for-byte as it was. Old versions are pruned, keeping the last few.

A build that changed a few marts rewrites only those. The build says which marts it rebuilt
(``meta.builds.models_built``); the others are the tables of the last good build, which the
current version published: their Parquet is carried over as hard links and their tables are
not read at all. A rebuilt mart is fingerprinted (its rows and the sum of their hashes, in
publication.json, one scan) and carried over too when that equals the current version's.
The new DuckDB file then starts as a copy of the current one (a reflink where the filesystem
has them) in which only the changed marts' tables are replaced; a build that rebuilt every
mart (a full refresh, an as-of build, the rebuild after an erasure, whose old file still holds
the erased rows in freed blocks) writes the file whole.

The DuckDB file is for every reader, not only ours: it is written in DuckDB 1.0's storage
format (the DuckDB 1.x clients BI drivers bundle cannot open a newer one), read-only on disk,
with each mart as ``main.<mart>`` and as the view ``marts.<mart>`` (the name dbt docs show),
and a ``regclass`` type alias that SQLAlchemy's PostgreSQL-style reflection needs (see
``_REFLECTION_SHIMS``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from builds.dbt_build import MARTS_SCHEMA, normalize_as_of
from eventlog.errors import ReachloopError
from eventlog.faults import WAREHOUSE_RECOVERY, plain_faults
from eventlog.settings import Settings
from eventlog.sql import quote_ident, quote_str
from eventlog.warehouse import open_warehouse

DUCKDB_NAME = "reachloop.duckdb"
PARQUET_NAME = "parquet"
CURRENT = "current"
VERSIONS = "versions"
KEEP_VERSIONS = 3
# Big facts are split into one Parquet folder per month (hive style, month=YYYY-MM) so that
# readers filtering on time open only the files they need; small marts stay one file.
PARTITION_MIN_ROWS = 1_000_000
ROW_GROUP_SIZE = 122_880
# The oldest storage format DuckDB 2.0 writes that DuckDB 1.x (1.0 onwards) reads.
STORAGE_VERSION = "v1.0.0"
# duckdb_engine reflects through SQLAlchemy's PostgreSQL dialect, whose primary-key, unique and
# foreign-key queries cast to REGCLASS, a type DuckDB lacks: Superset's get_pk_constraint
# failed with "Type with name REGCLASS does not exist". An alias resolves it (the cast only
# compares with pg_description, which is empty), and the queries return "no constraints".
_REFLECTION_SHIMS = "create type pub.main.regclass as varchar"
# Money is DECIMAL(18,2) in the Parquet files (exact for DuckDB, Spark, Arrow and BI tools), but
# pandas' default reader turns decimals into Python ``Decimal`` objects, which do not compute as
# numbers. pyarrow builds a column from the dtype the file's "pandas" metadata names, so each
# money column names the float dtype ``double[pyarrow]``: ``pd.read_parquet`` gives numbers
# (every amount below 10^13 reads back to the cent with ``round(x, 2)``), and
# ``dtype_backend="pyarrow"`` still gives the exact decimal. Bumped when the files' metadata
# changes, so that a publish rewrites Parquet it would otherwise carry over.
PARQUET_FORMAT = 2
PANDAS_MONEY_DTYPE = "double[pyarrow]"
# ioctl(FICLONE): share the previous DuckDB file's blocks (btrfs, XFS) instead of copying them.
_FICLONE = 0x40049409


def _new_version() -> str:
    # Sortable, unique enough for one writer (publishes are serialized with the warehouse).
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[tuple[str, str]]]]:
    rows = con.execute(
        """
        select table_name, list(column_name order by column_index), list(data_type order by column_index)
        from duckdb_columns()
        where database_name = current_database() and schema_name = ?
          and table_name in (select table_name from duckdb_tables()
                             where database_name = current_database() and schema_name = ?)
        group by table_name order by table_name
        """,
        [MARTS_SCHEMA, MARTS_SCHEMA],
    ).fetchall()
    return [(name, list(zip(cols, types, strict=True))) for name, cols, types in rows]


def _partition_column(columns: list[tuple[str, str]]) -> str | None:
    """The first timestamp-like column: facts are partitioned by its month. None for a mart
    that has a ``month`` column of its own (the partition column's name): it stays one file."""
    if any(name == "month" for name, _ in columns):
        return None
    for name, dtype in columns:
        if dtype.upper().startswith(("TIMESTAMP", "DATE")):
            return name
    return None


def _pandas_metadata(columns: list[tuple[str, str]]) -> str | None:
    """The Parquet file's "pandas" metadata: the pandas dtype of each DECIMAL column (see
    PANDAS_MONEY_DTYPE); None when the mart has no decimals."""
    decimals = [name for name, dtype in columns if dtype.upper().startswith("DECIMAL")]
    if not decimals:
        return None
    return json.dumps(
        {
            "index_columns": [],
            "column_indexes": [],
            "columns": [
                {"name": n, "field_name": n, "pandas_type": "decimal", "numpy_type": PANDAS_MONEY_DTYPE,
                 "metadata": None}
                for n in decimals
            ],
            "creator": {"library": "reachloop"},
        }
    )


def _parquet_options(columns: list[tuple[str, str]]) -> str:
    metadata = _pandas_metadata(columns)
    return f", kv_metadata {{pandas: {quote_str(metadata)}}}" if metadata else ""


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A mart's content, whatever its row order: its row count and the sum of its rows'
    hashes. Equal fingerprints mean the Parquet of the last version can be reused."""
    rows, hashes = con.execute(f"select count(*), sum(hash(t)::hugeint) from {table} as t").fetchone()
    return f"{rows}:{hashes}"


def _previous_manifest(destination: Path) -> tuple[Path, dict] | None:
    """The current version's folder and manifest, to carry unchanged marts over from."""
    version = current_version(destination)
    if not version:
        return None
    folder = destination / VERSIONS / version
    try:
        return folder, json.loads((folder / "publication.json").read_text())
    except (OSError, ValueError):
        return None


def _carry_over(previous: Path, target: Path) -> None:
    """A mart's Parquet folder from the last version, as hard links (a copy across devices):
    no rewrite, and the old version can be pruned without touching the new one's files."""
    for source in sorted(previous.rglob("*")):
        dest = target / source.relative_to(previous)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)
        except OSError:
            shutil.copy2(source, dest)


def _clone_file(source: Path, target: Path) -> None:
    """target as a copy of source: a reflink where the filesystem has them (no data written),
    else a plain copy (the kernel's, no re-encoding)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
            return
        except OSError:
            pass
        shutil.copyfileobj(src, dst, 1 << 20)


def _reusable_tables(
    con: duckdb.DuckDBPyConnection, marts: list[tuple[str, list[tuple[str, str]]]],
    rebuilt: set[str] | None, previous: tuple[Path, dict] | None,
) -> set[str]:
    """The marts whose table and Parquet the previous version holds as this publication can
    take them over: same columns (its file's catalog, no data read), Parquet in the current
    format, a fingerprint in its manifest. Empty for a build that rebuilt every mart
    (``rebuilt`` None): its publication is written whole."""
    if rebuilt is None or previous is None or not (previous[0] / DUCKDB_NAME).is_file():
        return set()
    entries = previous[1].get("marts", {})
    candidates = {
        name for name, _ in marts
        if name in entries and "fingerprint" in entries[name]
        and entries[name].get("parquet_format") == PARQUET_FORMAT
        and (previous[0] / PARQUET_NAME / name).is_dir()
    }
    if not candidates:
        return set()
    con.execute(f"attach {quote_str(str(previous[0] / DUCKDB_NAME))} as prev (read_only)")
    try:
        held = dict(con.execute(
            "select table_name, list([column_name, data_type] order by column_index) from duckdb_columns()"
            " where database_name = 'prev' and schema_name = 'main' group by table_name"
        ).fetchall())
    finally:
        con.execute("detach prev")
    return {
        name for name, columns in marts
        if name in candidates and held.get(name) == [list(c) for c in columns]
    }


def _write_version(
    settings: Settings, staging: Path, *, build_id: str | None, as_of: str | None, partition_min_rows: int,
    previous: tuple[Path, dict] | None = None, rebuilt: set[str] | None = None,
) -> dict:
    """The new version in staging. A mart the build did not rebuild is taken from the previous
    version unread; a rebuilt one is fingerprinted (a scan) and, when equal to the previous
    version's, taken over too; only the others are sorted and written."""
    staging.mkdir(parents=True)
    parquet = staging / PARQUET_NAME
    parquet.mkdir()
    # Through a warehouse connection, the new file attached: DuckDB shares one instance per
    # file within a process, so this works even while an in-process dbt still holds it.
    con = open_warehouse(settings.warehouse)
    try:
        marts = _mart_tables(con)
        if not marts:
            raise ReachloopError(f"nothing to publish: the warehouse has no tables in schema {MARTS_SCHEMA}")
        reusable = _reusable_tables(con, marts, rebuilt, previous)
        # An incremental build starts the new file as a copy of the previous one (its tables
        # already there, in the same storage format) and replaces only the marts that changed;
        # otherwise the file is written whole.
        if reusable:
            _clone_file(previous[0] / DUCKDB_NAME, staging / DUCKDB_NAME)
        con.execute(
            f"attach {quote_str(str(staging / DUCKDB_NAME))} as pub "
            f"(storage_version {quote_str(STORAGE_VERSION)})"
        )
        held = {name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'pub' and schema_name = 'main'"
        ).fetchall()}
        names = {name for name, _ in marts}
        for gone in sorted(held - names - {"_publication"}):  # marts the project no longer has
            con.execute(f"drop table pub.main.{quote_ident(gone)}")
            con.execute(f"drop view if exists pub.{MARTS_SCHEMA}.{quote_ident(gone)}")
        con.execute("drop table if exists pub.main._publication")
        con.execute(f"create schema if not exists pub.{MARTS_SCHEMA}")
        manifest = {"build_id": build_id, "as_of": as_of, "marts": {}}
        for name, columns in marts:
            table = f"pub.main.{quote_ident(name)}"
            before = (previous[1].get("marts", {}).get(name) or {}) if previous else {}
            if name in reusable and name not in rebuilt:
                # Not rebuilt: the table the previous version published, as it is.
                manifest["marts"][name] = dict(before, parquet="carried over", duckdb="carried over")
                _carry_over(previous[0] / PARQUET_NAME / name, parquet / name)
                continue
            # A scan of the warehouse's table, no sort: most rebuilt marts of a small build
            # come out as they were.
            fingerprint = _fingerprint(con, f"{MARTS_SCHEMA}.{quote_ident(name)}")
            rows = int(fingerprint.split(":")[0])
            target = parquet / name
            month_of = _partition_column(columns) if rows >= partition_min_rows else None
            unchanged = (
                before.get("fingerprint") == fingerprint
                and before.get("partitioned_by_month_of") == month_of
                and before.get("parquet_format") == PARQUET_FORMAT
                and (previous[0] / PARQUET_NAME / name).is_dir()
            )
            table_kept = unchanged and name in reusable
            if not table_kept:
                con.execute(f"drop table if exists {table}")
                # Sorted on every column: dbt's parallel builds store rows in whatever order
                # threads finish, and the same log must publish the same bytes.
                con.execute(
                    f"create table {table} as select * from {MARTS_SCHEMA}.{quote_ident(name)} order by all"
                )
                con.execute(
                    f"create or replace view pub.{MARTS_SCHEMA}.{quote_ident(name)} as select * from {table}"
                )
            if unchanged:
                _carry_over(previous[0] / PARQUET_NAME / name, target)
            elif month_of:
                con.execute(
                    f"""copy (select *, strftime({quote_ident(month_of)}, '%Y-%m') as month from {table})
                        to {quote_str(str(target))}
                        (format parquet, compression zstd, partition_by (month),
                         row_group_size {ROW_GROUP_SIZE}{_parquet_options(columns)})"""
                )
            else:
                target.mkdir()
                con.execute(
                    f"""copy {table} to {quote_str(str(target / 'data.parquet'))}
                        (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE}
                         {_parquet_options(columns)})"""
                )
            manifest["marts"][name] = {
                "rows": rows, "partitioned_by_month_of": month_of, "fingerprint": fingerprint,
                "parquet_format": PARQUET_FORMAT,
                "parquet": "carried over" if unchanged else "written",
                "duckdb": "carried over" if table_kept else "written",
            }
        manifest["published_at"] = datetime.now(UTC).isoformat()
        # Typed whatever the values: as_of is NULL for the current publication, and an untyped
        # NULL column would reach BI tools as type "NULL".
        con.execute(
            "create table pub.main._publication as select ?::varchar as version, ?::varchar as build_id, "
            "?::timestamptz as as_of, ?::timestamptz as published_at",
            [staging.name.removeprefix(".tmp-"), build_id, as_of and normalize_as_of(as_of),
             manifest["published_at"]],
        )
        if not reusable:  # a copied file has it already
            con.execute(_REFLECTION_SHIMS)
        con.execute("detach pub")
    finally:
        con.close()
    # Readers only read: no client can write to (or take a write lock on) a publication.
    (staging / DUCKDB_NAME).chmod(0o444)
    return manifest


def _swap_link(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.swap")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)  # rename(2): atomic; readers see the old or the new tree, never none


def current_version(destination: Path) -> str | None:
    link = destination / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def publish(
    settings: Settings,
    destination: Path,
    *,
    build_id: str | None = None,
    as_of: str | None = None,
    keep: int = KEEP_VERSIONS,
    partition_min_rows: int = PARTITION_MIN_ROWS,
    rebuilt: set[str] | None = None,
    based_on: str | None = None,
) -> Path:
    """Publish the warehouse's marts to destination; returns the destination.

    ``rebuilt`` names the marts the build made (None: every mart may have changed); the
    others are the tables of build ``based_on`` and are taken from its publication without
    being read, provided the current version is that build's. A rebuilt mart whose content
    equals the current version's is carried over too (see _write_version).

    A full disk at any point (the DuckDB file, the Parquet, the manifest, the swap) removes the
    new version and raises DiskFull: the current version is left as it was, byte for byte."""
    with plain_faults(
        destination, doing=f"publishing to {destination}", recovery=WAREHOUSE_RECOVERY,
        damage_in=settings.warehouse,
    ):
        destination.mkdir(parents=True, exist_ok=True)
        versions = destination / VERSIONS
        versions.mkdir(exist_ok=True)
        _remove_leftovers(versions)
        version = _new_version()
        staging = versions / f".tmp-{version}"
        final = versions / version
        previous = _previous_manifest(destination)
        # Not rebuilt means "as the last good build left it": only that build's publication
        # holds those tables (a publish by hand, or by an older build, may not).
        if previous is None or based_on is None or previous[1].get("build_id") != based_on:
            rebuilt = None
        try:
            manifest = _write_version(
                settings, staging, build_id=build_id, as_of=as_of, partition_min_rows=partition_min_rows,
                previous=previous, rebuilt=rebuilt,
            )
            (staging / "publication.json").write_text(json.dumps(manifest, indent=2) + "\n")
            os.replace(staging, final)
            # The swap, one rename: `current` points at the new version, and reachloop.duckdb
            # and parquet are fixed links through it, so a reader (or a crash) never pairs the
            # DuckDB file of one version with the Parquet of another.
            _swap_link(destination / CURRENT, f"{VERSIONS}/{version}")
        except BaseException:
            (destination / f".{CURRENT}.swap").unlink(missing_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
            if current_version(destination) != version:
                shutil.rmtree(final, ignore_errors=True)
            raise
        for name in (DUCKDB_NAME, PARQUET_NAME):
            _ensure_link(destination / name, f"{CURRENT}/{name}")
    prune(destination, keep)
    return destination


def _ensure_link(link: Path, target: str) -> None:
    """Make link a symlink to target, atomically, unless it already is (a publication of an
    older layout had a plain DuckDB file and a per-version Parquet link here)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    _swap_link(link, target)


def _remove_leftovers(versions: Path) -> None:
    """A publish killed half-way leaves a .tmp- folder nobody reads: clear it."""
    for p in versions.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)


def prune(destination: Path, keep: int = KEEP_VERSIONS) -> list[str]:
    """Remove all but the newest ``keep`` versions (never the current one). Readers that
    opened an old DuckDB file keep their open inode; the directory entry is what goes."""
    current = current_version(destination)
    names = sorted(p.name for p in (destination / VERSIONS).iterdir() if not p.name.startswith("."))
    doomed = [n for n in names[: max(len(names) - max(keep, 1), 0)] if n != current]
    for name in doomed:
        shutil.rmtree(destination / VERSIONS / name, ignore_errors=True)
    return doomed


def published_marts(destination: Path) -> dict[str, int]:
    """Mart → rows of the current publication (from its manifest)."""
    version = current_version(destination)
    if not version:
        return {}
    manifest = json.loads((destination / VERSIONS / version / "publication.json").read_text())
    return {k: v["rows"] for k, v in manifest["marts"].items()}
