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
A big mart split into month partitions is fingerprinted per month in the same scan, and only
its changed months are written (the others' files are hard links), its table patched by those
months. The new DuckDB file then starts as a copy of the current one (a reflink where the
filesystem has them) in which only the changed marts' tables are replaced or patched; a build
that rebuilt every mart (a full refresh, an as-of build, the rebuild after an erasure, whose old
file still holds the erased rows in freed blocks) writes the file whole.

A Parquet file is a function of its rows alone, whoever writes it: every month's file (and
every unsplit mart's file) is one COPY of its rows sorted on the mart's key, which gate 2 has
just held them to (unique and complete, so no two rows tie), or on every column where the mart
declares no such key; so a carried-over file is byte for byte what a whole publish would write
(see _write_partition). A key of two columns sorts a quarter faster than all of a mart's
columns do (SF100 ``mart_audience_pairs``, 22 million rows: 17.9 against 24.6 CPU s, same bytes).

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
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from builds.dbt_build import MARTS_SCHEMA, WATERMARK, normalize_as_of
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
# Big dated marts are split into one Parquet folder per month (hive style, month=YYYY-MM) so
# that readers filtering on time open only the files they need, and so that a publish rewrites
# only the months that changed; small marts stay one file. At 50,000 rows a whole rewrite costs
# more than the few months a day's batch touches (SF10: the 100k-row share marts, 4 of 13
# months changed, see docs/design.md); below it, a month's file would be a few thousand rows.
PARTITION_MIN_ROWS = 50_000
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
# ``dtype_backend="pyarrow"`` still gives the exact decimal. Bumped when the files' metadata or
# layout changes, so that a publish rewrites Parquet it would otherwise carry over (3: one file
# per month written on its own, see _write_partition; fingerprints per month in the manifest).
PARQUET_FORMAT = 3
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


def _month_fingerprints(con: duckdb.DuckDBPyConnection, table: str, column: str) -> dict[str | None, str]:
    """A dated mart's fingerprint per month of ``column`` (None: no date), in one grouped scan:
    the months whose fingerprint is unchanged keep their Parquet partition. The month is UTC's,
    the session's (the warehouse's connections are in UTC), as the partition folders' names
    and _in_month's bounds are. The scan groups rows by UTC day, integer arithmetic on the
    epoch, and only the few hundred days by month: date_trunc on every row of a TIMESTAMPTZ
    goes through ICU's calendar, which was 60% of the scan (SF10 ``fct_engagements``, 1.5M
    rows: 0.27 CPU s, 0.12 by day)."""
    rows = con.execute(
        f"""select strftime(month, '%Y-%m'), sum(rows)::bigint, sum(hashes)
            from (select {_month_of_day('day')} as month, rows, hashes
                  from (select {_utc_day(column)} as day, count(*) as rows, sum(hash(t)::hugeint) as hashes
                        from {table} as t group by all))
            group by all"""
    ).fetchall()
    return {month: f"{n}:{h}" for month, n, h in rows}


def _utc_day(column: str) -> str:
    """A date or timestamp column's UTC day, as days since 1970: floor division of its epoch,
    integer arithmetic (date_trunc on a TIMESTAMPTZ goes through ICU's calendar for every row)."""
    return f"fdiv(epoch_us({quote_ident(column)}), 86400000000)"


def _month_of_day(day: str) -> str:
    """The first day of the month of a _utc_day (a DATE: no time zone, no ICU)."""
    return f"date_trunc('month', date '1970-01-01' + cast({day} as integer))"


def _total(fingerprints: dict[str | None, str]) -> str:
    """The whole mart's fingerprint from its months' (as _fingerprint computes it)."""
    rows = hashes = 0
    for fp in fingerprints.values():
        n, h = fp.split(":")
        rows, hashes = rows + int(n), hashes + int(h)
    return f"{rows}:{hashes if rows else None}"


def _partition_folder(month: str | None) -> str:
    # The names DuckDB's hive partitioning gives (a NULL value: its default partition), the
    # layout readers already glob.
    return f"month={month if month is not None else '__HIVE_DEFAULT_PARTITION__'}"


def _in_month(column: str, dtype: str, month: str | None) -> str:
    """A predicate for the rows of one month: a range on the column itself, so that a table
    clustered by month skips the other months' row groups (zone maps)."""
    col = quote_ident(column)
    if month is None:
        return f"{col} is null"
    year, mon = (int(x) for x in month.split("-"))
    after = f"{year + mon // 12:04d}-{mon % 12 + 1:02d}-01"
    return f"{col} >= cast('{month}-01' as {dtype}) and {col} < cast('{after}' as {dtype})"


def _order_by(sort_key: tuple[str, ...] | None) -> str:
    """A mart's Parquet order: its key (no two rows tie on it), else every column."""
    return ", ".join(map(quote_ident, sort_key)) if sort_key else "all"


def _write_partition(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], month_of: str,
    month: str | None, target: Path, sort_key: tuple[str, ...] | None,
) -> None:
    """One month's Parquet file, its rows sorted on the key (_order_by). The file is a function of
    that month's rows alone (the sort's output is cut into row groups of ROW_GROUP_SIZE from
    the first row), so a partition rewritten by an incremental publish has the bytes a whole
    publish writes. (DuckDB's partition_by writer is not: at a million rows its threads cut
    row groups differently from run to run.)"""
    dtype = dict(columns)[month_of]
    folder = target / _partition_folder(month)
    folder.mkdir(parents=True)
    con.execute(
        f"""copy (select * from {table} where {_in_month(month_of, dtype, month)}
                  order by {_order_by(sort_key)})
            to {quote_str(str(folder / 'data_0.parquet'))}
            (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE}{_parquet_options(columns)})"""
    )


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


def _publish_mart(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], target: Path, *,
    partition_min_rows: int, previous: Path | None, before: dict, table_held: bool,
    sort_key: tuple[str, ...] | None = None,
) -> dict:
    """One rebuilt mart into the new version: fingerprinted (one scan, no sort; per month for
    a dated one), then written only as far as it changed. Returns its manifest entry.

    ``previous`` is its Parquet folder in the previous version and ``before`` its manifest
    entry there; ``table_held``: the new DuckDB file (a copy of the previous one) holds its
    previous table, with the same columns; ``sort_key`` the key its Parquet is sorted on
    (None: every column). A file sorted otherwise is never carried over."""
    source = f"{MARTS_SCHEMA}.{quote_ident(name)}"
    table = f"pub.main.{quote_ident(name)}"
    dated = _partition_column(columns)
    by_month = _month_fingerprints(con, source, dated) if dated else None
    fingerprint = _total(by_month) if by_month is not None else _fingerprint(con, source)
    rows = int(fingerprint.split(":")[0])
    month_of = dated if rows >= partition_min_rows else None
    sorted_by = list(sort_key) if sort_key else None
    comparable = (
        previous is not None and previous.is_dir()
        and before.get("partitioned_by_month_of") == month_of
        and before.get("parquet_format") == PARQUET_FORMAT
        and before.get("sorted_by") == sorted_by
    )
    entry = {"rows": rows, "partitioned_by_month_of": month_of, "fingerprint": fingerprint,
             "parquet_format": PARQUET_FORMAT, "sorted_by": sorted_by}
    if not month_of:
        unchanged = comparable and before.get("fingerprint") == fingerprint
        if unchanged:
            _carry_over(previous, target)
        if unchanged and table_held:
            duckdb_done = "carried over"
        elif table_held and _patch_by_key(con, name, columns, sort_key, fingerprint):
            duckdb_done = "patched"
        else:
            _create_table(con, name)
            duckdb_done = "written"
        if not unchanged:
            target.mkdir()
            # Sorted here, not in the table: dbt's parallel builds store rows in whatever
            # order threads finish, and the same log must publish the same bytes. Read from
            # the warehouse, whose table equals the new one (written or patched to the same
            # fingerprint) and holds no deleted rows: a patched table's cost a fifth more to
            # scan (SF100 ``mart_audience_pairs``, the sorted copy: 29.1 against 23.6 CPU s).
            con.execute(
                f"""copy (select * from {source} order by {_order_by(sort_key)})
                    to {quote_str(str(target / 'data.parquet'))}
                    (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE}
                     {_parquet_options(columns)})"""
            )
        return entry | {"parquet": "carried over" if unchanged else "written", "duckdb": duckdb_done}
    months = {_partition_folder(m): (m, fp) for m, fp in by_month.items()}
    entry["months"] = {folder: fp for folder, (_, fp) in sorted(months.items())}
    earlier = (before.get("months") or {}) if comparable else {}
    kept = {folder for folder, (_, fp) in months.items()
            if earlier.get(folder) == fp and (previous / folder).is_dir()}
    redo = sorted(folder for folder in months if folder not in kept)
    gone = sorted(folder for folder in earlier if folder not in months)
    dtype = dict(columns)[month_of]
    # The previous table is patched by month (its changed months deleted and inserted again)
    # where fewer rows change than stay: clustered by month, a month's rows are whole row
    # groups, which the range predicates skip or drop. Otherwise it is written whole.
    changed_rows = sum(int(months[f][1].split(":")[0]) for f in redo)
    if table_held and kept and (redo or gone) and changed_rows <= rows // 2:
        for folder in redo + gone:
            month = months[folder][0] if folder in months else _month_of_folder(folder)
            con.execute(f"delete from {table} where {_in_month(month_of, dtype, month)}")
        for folder in redo:
            month = _in_month(month_of, dtype, months[folder][0])
            con.execute(f"insert into {table} select * from {source} where {month}")
        duckdb_done = "patched"
    elif table_held and not (redo or gone):
        duckdb_done = "carried over"
    else:
        _create_table(con, name, cluster_by=month_of)
        duckdb_done = "written"
    for folder in sorted(months):
        if folder in kept:
            _carry_over(previous / folder, target / folder)
        else:
            _write_partition(con, table, columns, month_of, months[folder][0], target, sort_key)
    return entry | {
        "parquet": "written" if not kept else "patched" if redo else "carried over",
        "duckdb": duckdb_done,
        "months_written": redo,
    }


def _patch_by_key(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]],
    sort_key: tuple[str, ...] | None, fingerprint: str,
) -> bool:
    """Patch the previous table of an incremental mart held in the new file: the rows its
    build wrote (log position past the newest the table holds) replace those of the same key.
    True when the patched table's fingerprint is the mart's, False (the table then needs
    writing whole) where that cannot hold: no key, no log position, more rows written than
    kept, or rows the build deleted, which only the fingerprint sees. The check is one scan;
    writing the table whole is a copy of every row (SF100 ``mart_audience_pairs``, 22 million
    rows of which a one-row batch rewrote 660: 16.9 CPU s written whole)."""
    if not sort_key or WATERMARK not in dict(columns):
        return False
    table, source = f"pub.main.{quote_ident(name)}", f"{MARTS_SCHEMA}.{quote_ident(name)}"
    watermark = quote_ident(WATERMARK)
    (through,) = con.execute(f"select max({watermark}) from {table}").fetchone()
    if through is None:
        return False
    written = f"{watermark} > {int(through)}"
    (count,) = con.execute(f"select count(*) from {source} where {written}").fetchone()
    if count > int(fingerprint.split(":")[0]) // 2:
        return False
    same_key = " and ".join(f"_w.{c} is not distinct from _t.{c}" for c in map(quote_ident, sort_key))
    con.execute(f"delete from {table} as _t where exists (select 1 from {source} as _w where _w.{written}"
                f" and {same_key})")
    con.execute(f"insert into {table} select * from {source} where {written}")
    return _fingerprint(con, table) == fingerprint


def _month_of_folder(folder: str) -> str | None:
    value = folder.removeprefix("month=")
    return None if value == "__HIVE_DEFAULT_PARTITION__" else value


def _create_table(con: duckdb.DuckDBPyConnection, name: str, cluster_by: str | None = None) -> None:
    """A mart's table written whole (and its ``marts.`` view). Unsorted: the Parquet is sorted
    where it is written. A partitioned mart's rows are clustered by month, which its Parquet
    partitions and the patches of later publishes read and delete by range."""
    table = f"pub.main.{quote_ident(name)}"
    order = f" order by {_month_of_day(_utc_day(cluster_by))}" if cluster_by else ""
    con.execute(f"drop table if exists {table}")
    con.execute(f"create table {table} as select * from {MARTS_SCHEMA}.{quote_ident(name)}{order}")
    con.execute(f"create or replace view pub.{MARTS_SCHEMA}.{quote_ident(name)} as select * from {table}")


def _write_version(
    settings: Settings, staging: Path, *, build_id: str | None, as_of: str | None, partition_min_rows: int,
    previous: tuple[Path, dict] | None = None, rebuilt: set[str] | None = None,
    sort_keys: dict[str, tuple[str, ...]] | None = None,
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
            before = (previous[1].get("marts", {}).get(name) or {}) if previous else {}
            wall, cpu = time.perf_counter(), time.process_time()
            if name in reusable and name not in rebuilt:
                # Not rebuilt: the table the previous version published, as it is.
                entry = dict(before, parquet="carried over", duckdb="carried over")
                _carry_over(previous[0] / PARQUET_NAME / name, parquet / name)
            else:
                entry = _publish_mart(
                    con, name, columns, parquet / name, partition_min_rows=partition_min_rows,
                    previous=previous[0] / PARQUET_NAME / name if previous else None, before=before,
                    table_held=name in reusable, sort_key=(sort_keys or {}).get(name),
                )
            # What this mart cost the publish (CPU: the process's, DuckDB's threads included).
            entry["seconds"] = {"wall": round(time.perf_counter() - wall, 3),
                                "cpu": round(time.process_time() - cpu, 3)}
            manifest["marts"][name] = entry
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
    sort_keys: dict[str, tuple[str, ...]] | None = None,
) -> Path:
    """Publish the warehouse's marts to destination; returns the destination.

    ``rebuilt`` names the marts the build made (None: every mart may have changed); the
    others are the tables of build ``based_on`` and are taken from its publication without
    being read, provided the current version is that build's. A rebuilt mart whose content
    equals the current version's is carried over too (see _write_version). ``sort_keys``:
    per mart, a key no two of its rows share (gate 2's ``MartRules.sort_key``), which its
    Parquet is sorted on; a mart without one is sorted on every column.

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
                previous=previous, rebuilt=rebuilt, sort_keys=sort_keys,
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


def current_publication(destination: Path) -> dict:
    """The current version's manifest (publication.json); empty when nothing is published."""
    version = current_version(destination)
    if not version:
        return {}
    return json.loads((destination / VERSIONS / version / "publication.json").read_text())


def published_marts(destination: Path) -> dict[str, int]:
    """Mart → rows of the current publication (from its manifest)."""
    return {k: v["rows"] for k, v in current_publication(destination).get("marts", {}).items()}
