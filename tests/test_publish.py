"""Write-audit-publish: atomic, versioned, pruned; a failure leaves readers' bytes alone."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from builds import publish as pub
from builds.steps import publish_destination
from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from tests.helpers import tree_digest


def _make_marts(settings: Settings, shares: int = 50, engagements: int = 3000) -> None:
    with warehouse(settings) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            f"""create or replace table marts.mart_engagement_rate as
                select 'sh_' || i as share_id, i * 10 as impressions from range({shares}) t(i)"""
        )
        con.execute(
            f"""create or replace table marts.fct_engagements as
                select 'e_' || i as engagement_id,
                       timestamptz '2025-01-01' + to_days(cast(i % 90 as integer)) as occurred_at,
                       cast((i % 7) * 1.25 as decimal(18, 2)) as amount
                from range({engagements}) t(i)"""
        )


def test_publish_writes_duckdb_and_parquet_atomically(settings: Settings):
    _make_marts(settings)
    dest = pub.publish(settings, settings.published, build_id="b1", partition_min_rows=1000)
    assert dest == settings.published
    assert (dest / "parquet").is_symlink() and not os.path.isabs(os.readlink(dest / "parquet"))
    # one rename makes a version current: the DuckDB file and the Parquet resolve into it together
    db, parquet = (Path(os.path.realpath(dest / n)) for n in ("reachloop.duckdb", "parquet"))
    assert db.parent == parquet.parent == Path(os.path.realpath(dest / "current"))
    with duckdb.connect(str(settings.published_duckdb), read_only=True) as con:
        assert con.execute("select count(*) from mart_engagement_rate").fetchone()[0] == 50
        assert con.execute("select build_id from _publication").fetchone()[0] == "b1"
        # Small marts are one file; big facts are split by month (hive style).
        assert con.execute(
            f"select count(*) from read_parquet('{dest}/parquet/mart_engagement_rate/data.parquet')"
        ).fetchone()[0] == 50
        months = con.execute(
            f"select count(distinct month), count(*) from read_parquet("
            f"'{dest}/parquet/fct_engagements/*/*.parquet', hive_partitioning = true)"
        ).fetchone()
        assert months == (3, 3000)
        codec = con.execute(
            f"select distinct compression from parquet_metadata('{dest}/parquet/mart_engagement_rate/data.parquet')"
        ).fetchall()
        assert codec == [("ZSTD",)]
        exact = con.execute(
            f"select sum(amount) from read_parquet('{dest}/parquet/fct_engagements/*/*.parquet')"
        ).fetchone()[0]
    # Money stays DECIMAL in the files, and pandas' default reader gives numbers, split by month or not.
    frame = pd.read_parquet(dest / "parquet" / "fct_engagements")
    assert pd.api.types.is_float_dtype(frame["amount"]) and len(frame) == 3000
    assert round(float(frame["amount"].sum()), 2) == float(exact)
    assert pub.published_marts(dest) == {"fct_engagements": 3000, "mart_engagement_rate": 50}


def test_dated_marts_of_fifty_thousand_rows_are_split_by_month(settings: Settings):
    """The default threshold (docs/analysts.md): a dated mart of 50,000 rows is split by month,
    one a row smaller is one file, and the documented recursive glob reads either whole."""
    with warehouse(settings) as con:
        con.execute("create schema if not exists marts")
        for name, rows in (("fct_split", 50_000), ("fct_whole", 49_999)):
            con.execute(
                f"""create table marts.{name} as
                    select 'r_' || i as row_id, timestamptz '2025-01-01' + to_days(cast(i % 59 as integer)) as at
                    from range({rows}) t(i)"""
            )
    dest = pub.publish(settings, settings.published, build_id="b1")
    parquet = Path(os.path.realpath(dest / "parquet"))
    assert sorted(p.name for p in (parquet / "fct_split").iterdir()) == ["month=2025-01", "month=2025-02"]
    assert [p.name for p in (parquet / "fct_whole").iterdir()] == ["data.parquet"]
    with duckdb.connect() as con:
        for name, rows in (("fct_split", 50_000), ("fct_whole", 49_999)):
            assert con.execute(
                f"select count(*) from read_parquet('{parquet}/{name}/**/*.parquet', hive_partitioning = true)"
            ).fetchone()[0] == rows


@pytest.mark.parametrize("dtype", ["timestamptz", "timestamp", "date"])
def test_month_fingerprints_group_by_the_calendar_month(dtype: str):
    """Rows grouped by UTC day, then days by month, land in the month date_trunc gives, at the
    edges too: the last microsecond of a month, before 1970 (floor, not truncating, division)."""
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(
        f"""create table t as select cast(v as {dtype}) as ts, i from (values
            ('1969-12-31 23:59:59.999999', 1), ('1969-12-01 00:00:00', 2), ('1970-01-01 00:00:00', 3),
            ('1970-01-31 23:59:59.999999', 4), ('1970-02-01 00:00:00', 5), ('2024-02-29 12:00:00', 6),
            ('2024-03-01 00:00:00', 7), ('1900-01-01 00:00:00', 8), (null, 9)) v(v, i)"""
    )
    expected = {
        month: f"{n}:{h}" for month, n, h in con.execute(
            "select strftime(date_trunc('month', ts), '%Y-%m'), count(*), sum(hash(t)::hugeint) from t group by all"
        ).fetchall()
    }
    assert pub._month_fingerprints(con, "t", "ts") == expected
    assert len(expected) == 7


def test_a_reader_holding_the_old_file_is_not_broken(settings: Settings):
    _make_marts(settings, shares=10)
    pub.publish(settings, settings.published)
    reader = duckdb.connect(str(settings.published_duckdb), read_only=True)
    try:
        _make_marts(settings, shares=20)
        pub.publish(settings, settings.published)
        # The open reader still sees its snapshot; a new reader sees the new one.
        assert reader.execute("select count(*) from mart_engagement_rate").fetchone()[0] == 10
    finally:
        reader.close()
    with duckdb.connect(str(settings.published_duckdb), read_only=True) as con:
        assert con.execute("select count(*) from mart_engagement_rate").fetchone()[0] == 20


def test_a_failed_publish_leaves_the_last_good_output_byte_for_byte(settings: Settings, monkeypatch):
    _make_marts(settings)
    pub.publish(settings, settings.published)
    before = tree_digest(settings.published)
    real_copy = pub._write_version

    def half_then_fail(*args, **kwargs):
        real_copy(*args, **kwargs)  # the whole new version is written ...
        raise OSError("disk full")  # ... and then something breaks before the swap

    _make_marts(settings, shares=99)
    monkeypatch.setattr(pub, "_write_version", half_then_fail)
    with pytest.raises(OSError):
        pub.publish(settings, settings.published)
    assert tree_digest(settings.published) == before
    assert not list((settings.published / "versions").glob(".tmp-*"))


def test_nothing_to_publish_is_an_error(settings: Settings):
    with warehouse(settings):
        pass
    with pytest.raises(ReachloopError, match="nothing to publish"):
        pub.publish(settings, settings.published)
    assert not settings.published_duckdb.exists()


def test_old_versions_are_pruned(settings: Settings):
    _make_marts(settings)
    for _ in range(5):
        pub.publish(settings, settings.published, keep=2)
    versions = sorted(p.name for p in (settings.published / "versions").iterdir())
    assert len(versions) == 2
    assert pub.current_version(settings.published) == versions[-1]
    # Read-only files do not stand in the way of the swap or the pruning.
    for v in versions:
        assert (settings.published / "versions" / v / "reachloop.duckdb").stat().st_mode & 0o777 == 0o444


def test_as_of_builds_publish_beside_the_current_output(settings: Settings):
    _make_marts(settings)
    pub.publish(settings, settings.published)
    before = tree_digest(settings.published)
    dest = publish_destination(settings, "2025-06-30T00:00:00Z")
    assert dest.parent == settings.home / "as_of"
    pub.publish(settings, dest, as_of="2025-06-30T00:00:00Z")
    assert (dest / "reachloop.duckdb").exists()
    assert tree_digest(settings.published) == before


@pytest.mark.slow  # a real build (gate 1 and dbt): ~8 s alone on 2 cores, more under load
def test_a_batch_landing_mid_build_waits_for_the_next_build(tmp_path, monkeypatch) -> None:
    """The gate-bypass window: a batch that lands after a build started (between its gate 1 and
    its dbt step, as an Airflow landing task can) is neither gated nor built by that build."""
    import duckdb

    from builds import steps as pipeline
    from eventlog.settings import Settings
    from eventlog.warehouse import warehouse
    from ingestion.landing import land_path

    monkeypatch.setenv("REACHLOOP_HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    header = "share_id,author_type,author_id,network,posted_at,tracking_token\n"
    first = tmp_path / "a" / "share.csv"
    first.parent.mkdir()
    first.write_text(header + "s1,page,page:acme,linkedin,2026-03-01T10:00:00Z,t1\n")
    late = tmp_path / "b" / "share.csv"
    late.parent.mkdir()
    late.write_text(header + "s2,page,page:acme,linkedin,2026-03-02T10:00:00Z,t2\n")
    with warehouse(settings) as con:
        land_path(con, first, b"k")
    outcome = pipeline.start_build(settings)
    pipeline.run_gate_1(settings, outcome.build_id)
    with warehouse(settings) as con:  # lands after gate 1 of this build
        land_path(con, late, b"k")
        # and a mart some earlier version of the project had, since renamed away
        con.execute("create schema if not exists marts; create table marts.mart_renamed_away as select 1 as x")
        # and an intermediate model it had, since removed (dbt leaves its table behind)
        con.execute("create schema if not exists intermediate;"
                    " create table intermediate.int_removed as select 1 as x")
    pipeline.run_dbt(settings, outcome.build_id)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        built = {r[0] for r in con.execute("select share_id from marts.fct_shares").fetchall()}
        marts = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        intermediate = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'intermediate'").fetchall()}
        raw = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    assert built == {"s1"}
    assert "mart_renamed_away" not in marts and "mart_reach_vs_network" in marts
    assert "int_removed" not in intermediate and "int_share_metrics_latest" in intermediate
    assert "share" in raw  # the event log is not dbt's to drop
    # The rest of the build: what was published is recorded mart by mart (gate 2's volume check
    # compares the next build with it).
    pipeline.run_gate_2(settings, outcome.build_id)
    destination, _ = pipeline.run_publish(settings, outcome.build_id)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        recorded = dict(con.execute(
            "select mart, rows from meta.published_marts where build_id = ?", [outcome.build_id]).fetchall())
        status = con.execute("select status from meta.builds where build_id = ?", [outcome.build_id]).fetchone()
    assert recorded == pub.published_marts(destination) and recorded["fct_shares"] == 1
    assert status == ("succeeded",)


def test_a_changed_dbt_project_rebuilds_from_scratch(settings: Settings):
    """Incremental models cannot be patched row by row from state that older models made: a
    build after the models changed (an upgrade, an edit) is a full refresh, and says why."""
    from builds import steps

    older = _start_after(settings, "an-older-project")
    assert older.full_refresh and older.note == "full refresh: the dbt project or its engine changed since the last build"
    same = _start_after(settings, steps._dbt_project_digest())
    assert not same.full_refresh and same.note == ""


def test_the_project_digest_covers_the_libraries_models_import(tmp_path: Path):
    """int_markov_removal_effects imports attribution/, the share plan planner/: a change there
    changes marts, so it must count as a project change (a build must not skip it)."""
    import shutil

    from builds import steps

    for sub in steps.MODEL_SOURCES:
        source = steps.REPO / sub
        if source.is_dir():
            shutil.copytree(source, tmp_path / sub, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            (tmp_path / sub).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / sub)
    before = steps._dbt_project_digest(tmp_path)
    assert before == steps._dbt_project_digest(steps.REPO)
    for library in ("attribution/markov.py", "planner/coverage.py"):
        with (tmp_path / library).open("a") as f:
            f.write("\n# changed\n")
        after = steps._dbt_project_digest(tmp_path)
        assert after != before, library
        before = after


def test_an_upgraded_engine_counts_as_a_changed_project(monkeypatch):
    """The checks an incremental build skips assume the tables it patches came from the same
    engine: a new DuckDB, dbt or dataframe library changes the digest, so the next build is full."""
    import importlib.metadata

    from builds import steps

    before = steps._dbt_project_digest()
    assert before == steps._dbt_project_digest()
    real_version = importlib.metadata.version
    for package in steps.ENGINE_PACKAGES:
        monkeypatch.setattr(importlib.metadata, "version",
                            lambda name, package=package: "0.0.1" if name == package else real_version(name))
        assert steps._dbt_project_digest() != before, package
    monkeypatch.undo()
    assert steps._dbt_project_digest() == before


def _start_after(settings: Settings, digest: str):
    """start_build after one succeeded build made with the given project digest."""
    from builds import steps

    with warehouse(settings) as con:
        con.execute("delete from meta.builds")
        con.execute(
            "insert into meta.builds (build_id, status, full_refresh, started_at, project_digest)"
            " values ('b-1', 'succeeded', false, now(), ?)",
            [digest],
        )
    return steps.start_build(settings)


def test_unchanged_marts_carry_their_parquet_over(settings: Settings):
    """A mart whose rows did not change is not rewritten: its Parquet files in the new version
    are the last version's (hard links, same inode), and survive the old version's pruning."""
    _make_marts(settings)
    first = pub.publish(settings, settings.published, build_id="b1", partition_min_rows=1000)
    old = Path(os.path.realpath(first / "current"))
    with warehouse(settings) as con:
        con.execute("update marts.mart_engagement_rate set impressions = impressions + 1 where share_id = 'sh_1'")
    pub.publish(settings, settings.published, build_id="b2", partition_min_rows=1000)
    new = Path(os.path.realpath(settings.published / "current"))
    manifest = json.loads((new / "publication.json").read_text())
    assert manifest["marts"]["fct_engagements"]["parquet"] == "carried over"
    # What each mart cost this publish, carried over or written.
    assert all(set(m["seconds"]) == {"wall", "cpu"} for m in manifest["marts"].values())
    assert manifest["marts"]["mart_engagement_rate"]["seconds"]["wall"] > 0
    assert manifest["marts"]["mart_engagement_rate"]["parquet"] == "written"
    carried = sorted((new / "parquet" / "fct_engagements").rglob("*.parquet"))
    same = [old / f.relative_to(new) for f in carried]
    assert carried and all(f.stat().st_ino == g.stat().st_ino for f, g in zip(carried, same, strict=True))
    written = new / "parquet" / "mart_engagement_rate" / "data.parquet"
    assert written.stat().st_ino != (old / "parquet" / "mart_engagement_rate" / "data.parquet").stat().st_ino
    pub.prune(settings.published, keep=1)
    assert not old.exists() and all(f.stat().st_nlink == 1 for f in carried)  # the new version's own now
    with duckdb.connect() as con:
        assert con.execute(
            f"select count(*) from read_parquet('{new}/parquet/fct_engagements/*/*.parquet')"
        ).fetchone()[0] == 3000
        assert con.execute(
            f"select impressions from read_parquet('{new}/parquet/mart_engagement_rate/data.parquet')"
            " where share_id = 'sh_1'"
        ).fetchone()[0] == 11


def _published_tables(duckdb_file: Path) -> dict[str, list[tuple]]:
    """Every table of a published file (``_publication`` aside), rows sorted."""
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' and table_name <> '_publication'"
        ).fetchall()]
        return {n: con.execute(f'select * from main."{n}" order by all').fetchall() for n in names}


def _catalog(duckdb_file: Path) -> list[tuple]:
    """The views and types a publication offers readers besides its tables."""
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        return con.execute(
            "select 'view', schema_name, view_name from duckdb_views() where not internal"
            " union all select 'type', schema_name, type_name from duckdb_types() where not internal"
            " and database_name = current_database() order by all"
        ).fetchall()


def test_an_incremental_publish_rewrites_only_the_marts_that_changed(settings: Settings, tmp_path: Path):
    """A build that rebuilt two marts, one of which came out as it was: only the other is
    written; the marts it did not rebuild are not even read. The new file equals a whole
    publish of the same warehouse, table by table, in the format and mode readers rely on."""
    _make_marts(settings)
    with warehouse(settings) as con:
        con.execute("create table marts.mart_steady as select 'k' || i as k from range(10) t(i)")
    first = pub.publish(settings, settings.published, build_id="b1", partition_min_rows=1000)
    old = Path(os.path.realpath(first / "current"))
    with warehouse(settings) as con:
        con.execute("update marts.mart_engagement_rate set impressions = -1 where share_id = 'sh_1'")
        # Not rebuilt, so never read: a change behind the build's back stays unpublished.
        con.execute("update marts.fct_engagements set amount = 0")
    pub.publish(settings, settings.published, build_id="b2", partition_min_rows=1000,
                rebuilt={"mart_engagement_rate", "mart_steady", "int_other"}, based_on="b1")
    new = Path(os.path.realpath(settings.published / "current"))
    marts = json.loads((new / "publication.json").read_text())["marts"]
    assert {n: (m["parquet"], m["duckdb"]) for n, m in marts.items()} == {
        "fct_engagements": ("carried over", "carried over"),
        "mart_steady": ("carried over", "carried over"),  # rebuilt, same content
        "mart_engagement_rate": ("written", "written"),
    }
    for name in ("fct_engagements", "mart_steady"):
        files = sorted((new / "parquet" / name).rglob("*.parquet"))
        assert files and all(f.stat().st_ino == (old / f.relative_to(new)).stat().st_ino for f in files)
    assert (new / "parquet/mart_engagement_rate/data.parquet").stat().st_ino != \
        (old / "parquet/mart_engagement_rate/data.parquet").stat().st_ino
    tables, before = _published_tables(new / "reachloop.duckdb"), _published_tables(old / "reachloop.duckdb")
    assert tables["fct_engagements"] == before["fct_engagements"] and tables["mart_steady"] == before["mart_steady"]
    assert (-1,) in {(r[1],) for r in tables["mart_engagement_rate"]}
    # What a whole publish of the same marts writes (fct_engagements as b1 published it).
    with warehouse(settings) as con:
        con.execute("update marts.fct_engagements set amount = cast((cast(substr(engagement_id, 3) as int) % 7)"
                    " * 1.25 as decimal(18, 2))")
    whole = pub.publish(settings, tmp_path / "whole", build_id="b2", partition_min_rows=1000)
    assert tables == _published_tables(whole / "reachloop.duckdb")
    assert _catalog(new / "reachloop.duckdb") == _catalog(whole / "reachloop.duckdb")
    with duckdb.connect(str(new / "reachloop.duckdb"), read_only=True) as con:
        assert con.execute("select build_id from _publication").fetchall() == [("b2",)]
        assert con.execute("select count(*) from marts.mart_engagement_rate where impressions = -1").fetchone() == (1,)
        assert con.execute("select tags['storage_version'] from duckdb_databases() where not internal"
                           " and database_name = current_database()").fetchone()[0].startswith("v1.0.0")
    assert (new / "reachloop.duckdb").stat().st_mode & 0o777 == 0o444
    # Another build's publication is current (here: b2's, not b1's): nothing is taken unread.
    pub.publish(settings, settings.published, build_id="b3", partition_min_rows=1000, rebuilt=set(), based_on="b1")
    latest = json.loads((settings.published / "current" / "publication.json").read_text())["marts"]
    assert {m["duckdb"] for m in latest.values()} == {"written"}


def test_a_full_disk_in_an_incremental_publish_leaves_the_last_good_output_byte_for_byte(
    settings: Settings, monkeypatch
):
    """The copy of the previous DuckDB file is made inside the new version's folder: a failure
    after it (here the disk fills while the Parquet is linked) removes it with the folder."""
    _make_marts(settings)
    pub.publish(settings, settings.published, build_id="b1")
    before = tree_digest(settings.published)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pub, "_carry_over", disk_full)
    with pytest.raises((OSError, ReachloopError)):
        pub.publish(settings, settings.published, build_id="b2", rebuilt=set(), based_on="b1")
    assert tree_digest(settings.published) == before
    assert not list((settings.published / "versions").glob(".tmp-*"))


def _parquet_bytes(version: Path, name: str) -> dict[str, bytes]:
    folder = version / "parquet" / name
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*.parquet"))}


def test_a_partitioned_mart_rewrites_only_the_months_that_changed(settings: Settings, tmp_path: Path, monkeypatch):
    """A big dated mart is fingerprinted per month: a build that changed one month, emptied
    another and started a new one rewrites those partitions only (the others are the previous
    version's files), patches its table by those months, and publishes what a whole publish
    of the same marts publishes: the same tables and, partition for partition, the same bytes."""
    monkeypatch.setattr(pub, "ROW_GROUP_SIZE", 256)  # several row groups per month: their cuts count
    _make_marts(settings)
    with warehouse(settings) as con:  # a DATE column, and rows without one (the default partition)
        con.execute(
            """create table marts.fct_visits as
               select 'v_' || i as visit_id, case when i % 50 <> 0 then date '2025-01-01' + cast(i % 60 as integer) end as day
               from range(2000) t(i)"""
        )
    first = pub.publish(settings, settings.published, build_id="b1", partition_min_rows=1000)
    old = Path(os.path.realpath(first / "current"))
    with warehouse(settings) as con:
        con.execute("update marts.fct_engagements set amount = 99 where engagement_id = 'e_31'")  # Feb
        con.execute("delete from marts.fct_engagements where occurred_at >= '2025-03-01'")  # Mar gone
        con.execute("insert into marts.fct_engagements values ('e_new', '2025-04-02', 1)")  # Apr new
        con.execute("update marts.fct_visits set visit_id = 'v_x' where visit_id = 'v_50'")  # day null
    pub.publish(settings, settings.published, build_id="b2", partition_min_rows=1000,
                rebuilt={"fct_engagements", "fct_visits"}, based_on="b1")
    new = Path(os.path.realpath(settings.published / "current"))
    marts = json.loads((new / "publication.json").read_text())["marts"]
    fct, visits = marts["fct_engagements"], marts["fct_visits"]
    assert (fct["parquet"], fct["duckdb"], fct["months_written"]) == ("patched", "patched", ["month=2025-02", "month=2025-04"])
    assert sorted(fct["months"]) == ["month=2025-01", "month=2025-02", "month=2025-04"]
    assert (visits["parquet"], visits["duckdb"], visits["months_written"]) == (
        "patched", "patched", ["month=__HIVE_DEFAULT_PARTITION__"])
    assert marts["mart_engagement_rate"]["parquet"] == "carried over"  # not rebuilt
    for name, written in (("fct_engagements", fct["months_written"]), ("fct_visits", visits["months_written"])):
        for f in sorted((new / "parquet" / name).rglob("*.parquet")):
            was = old / f.relative_to(new)
            same = was.exists() and f.stat().st_ino == was.stat().st_ino
            assert same == (f.parent.name not in written), f
    assert not (new / "parquet/fct_engagements/month=2025-03").exists()
    whole = pub.publish(settings, tmp_path / "whole", build_id="b2", partition_min_rows=1000)
    whole = Path(os.path.realpath(whole / "current"))
    for name in ("fct_engagements", "fct_visits"):
        assert _parquet_bytes(new, name) == _parquet_bytes(whole, name), name
    assert _published_tables(new / "reachloop.duckdb") == _published_tables(whole / "reachloop.duckdb")
    assert _catalog(new / "reachloop.duckdb") == _catalog(whole / "reachloop.duckdb")
    fresh = json.loads((whole / "publication.json").read_text())["marts"]
    assert {n: (m["fingerprint"], m.get("months")) for n, m in fresh.items()} == \
        {n: (m["fingerprint"], m.get("months")) for n, m in marts.items()}


def test_a_full_disk_in_a_partition_patch_leaves_the_last_good_output_byte_for_byte(settings: Settings, monkeypatch):
    """The table patched in the copied file and some months linked, the disk fills while a
    changed month is written: the new version goes, the current one is as it was."""
    _make_marts(settings)
    pub.publish(settings, settings.published, build_id="b1", partition_min_rows=1000)
    before = tree_digest(settings.published)
    with warehouse(settings) as con:
        con.execute("update marts.fct_engagements set amount = 99 where occurred_at >= '2025-03-01'")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pub, "_write_partition", disk_full)
    with pytest.raises((OSError, ReachloopError)):
        pub.publish(settings, settings.published, build_id="b2", partition_min_rows=1000,
                    rebuilt={"fct_engagements"}, based_on="b1")
    assert tree_digest(settings.published) == before
    assert not list((settings.published / "versions").glob(".tmp-*"))


def _parquet_rows(version: Path, name: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{version}/parquet/{name}/**/*.parquet')").fetchall()


def test_a_marts_parquet_is_sorted_on_its_key(settings: Settings, tmp_path: Path):
    """Sorted on the key gate 2 vouches for (no two rows tie), a mart's Parquet is still a
    function of its rows alone: a whole publish writes the same bytes. A file sorted on another
    key (or on every column) is written again, not carried over, though its rows are the same."""
    _make_marts(settings, shares=300)
    keys = {"mart_engagement_rate": ("share_id",), "fct_engagements": ("engagement_id",)}
    first = Path(os.path.realpath(pub.publish(settings, settings.published, build_id="b1",
                                              partition_min_rows=1000, sort_keys=keys) / "current"))
    marts = json.loads((first / "publication.json").read_text())["marts"]
    assert marts["mart_engagement_rate"]["sorted_by"] == ["share_id"]
    rows = _parquet_rows(first, "mart_engagement_rate")
    assert rows == sorted(rows, key=lambda r: r[0]) and rows != sorted(rows, key=lambda r: r[1])
    whole = Path(os.path.realpath(pub.publish(settings, tmp_path / "whole", build_id="b1",
                                              partition_min_rows=1000, sort_keys=keys) / "current"))
    for name in keys:
        assert _parquet_bytes(first, name) == _parquet_bytes(whole, name), name
    pub.publish(settings, settings.published, build_id="b2", partition_min_rows=1000,
                rebuilt=set(keys), based_on="b1", sort_keys={"fct_engagements": ("engagement_id",)})
    new = Path(os.path.realpath(settings.published / "current"))
    marts = json.loads((new / "publication.json").read_text())["marts"]
    assert (marts["fct_engagements"]["parquet"], marts["mart_engagement_rate"]["parquet"]) == ("carried over", "written")
    assert marts["mart_engagement_rate"]["sorted_by"] is None
    assert sorted(_parquet_rows(new, "mart_engagement_rate")) == sorted(rows)


def _make_pairs(settings: Settings) -> None:
    """An incremental mart: its rows carry the log position of the run that wrote them."""
    with warehouse(settings) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            """create or replace table marts.mart_pairs as
               select case when i % 100 <> 0 then 'a' || i % 40 end as a, 'b' || i // 40 as b,
                      i as v, 1::bigint as log_position_through
               from range(3000) t(i)"""
        )


def test_an_incremental_mart_is_patched_by_key_in_the_published_file(settings: Settings, tmp_path: Path):
    """The rows a build wrote (past the log position the published table holds) replace those
    of their keys in the previous table, nulls in a key included, instead of the table being
    written whole; a build that also deleted rows, or rewrote most of them, is caught by the
    fingerprint, and its table is written whole. Either way the file equals a whole publish."""
    _make_pairs(settings)
    keys = {"mart_pairs": ("a", "b")}
    pub.publish(settings, settings.published, build_id="b1", sort_keys=keys)

    def build(n: int, change: str) -> dict:
        with warehouse(settings) as con:
            con.execute(change)
        pub.publish(settings, settings.published, build_id=f"b{n}", rebuilt={"mart_pairs"},
                    based_on=f"b{n - 1}", sort_keys=keys)
        new = Path(os.path.realpath(settings.published / "current"))
        whole = Path(os.path.realpath(pub.publish(settings, tmp_path / f"whole{n}", sort_keys=keys) / "current"))
        assert _published_tables(new / "reachloop.duckdb") == _published_tables(whole / "reachloop.duckdb")
        assert _parquet_bytes(new, "mart_pairs") == _parquet_bytes(whole, "mart_pairs")
        return json.loads((new / "publication.json").read_text())["marts"]["mart_pairs"]

    patched = build(2, """update marts.mart_pairs set v = -v, log_position_through = 2 where b in ('b0', 'b7');
                          insert into marts.mart_pairs values ('a_new', 'b0', 0, 2), (null, 'b_new', 0, 2)""")
    assert (patched["duckdb"], patched["parquet"], patched["rows"]) == ("patched", "written", 3002)
    deleted = build(3, """delete from marts.mart_pairs where v = 405;
                          update marts.mart_pairs set v = 1, log_position_through = 3 where b = 'b1'""")
    assert (deleted["duckdb"], deleted["rows"]) == ("written", 3001)
    most = build(4, "update marts.mart_pairs set v = 2, log_position_through = 4 where v > 100")
    assert most["duckdb"] == "written"
