"""The lake (eventlog/lake.py): the event log as Parquet for the Spark engine, written once per
batch and never rewritten; the ledger beside it; the engine setting. DuckDB only: no Spark."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from eventlog.contract import EVENT_TYPES
from eventlog.errors import ReachloopError
from eventlog.lake import batch_folder, export_lake, lake_dir, registration_sql
from eventlog.settings import Settings, build_engine
from eventlog.warehouse import warehouse
from tests.helpers import land_in


@pytest.fixture
def landed(settings: Settings, pii_key: bytes, small_workload: Path, tmp_path: Path) -> Settings:
    """Three share files and one click file of the shared workload, landed."""
    folder = tmp_path / "in"
    folder.mkdir()
    for f in sorted((small_workload / "landing").glob("share-2025-0[1-3].*"))[:3]:
        shutil.copy(f, folder)
    for f in sorted((small_workload / "landing").glob("click-2025-01.*"))[:1]:
        shutil.copy(f, folder)
    land_in(settings, folder, pii_key)
    return settings


def _files(lake: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in sorted(lake.glob("events/**/*.parquet"))}


def test_every_batch_lands_in_its_own_folder_once(
    landed: Settings, pii_key: bytes, small_workload: Path, tmp_path: Path
) -> None:
    with warehouse(landed) as con:
        exported = export_lake(con, landed)
        batches = con.execute("select event_type, batch_id from meta.batches").fetchall()
        shares = con.execute("select count(*) from raw.share").fetchone()[0]
    lake = lake_dir(landed)
    assert exported.batches == len(batches) == 4
    assert all(batch_folder(lake, t, b).is_dir() for t, b in batches)
    with duckdb.connect() as con:
        got = con.execute(
            "select count(*), count(distinct batch_id) from read_parquet(?, hive_partitioning = true)",
            [str(lake / "events" / "event_type=share" / "*" / "*.parquet")],
        ).fetchone()
        ledger = con.execute("select count(*) from read_parquet(?)",
                             [str(lake / "meta" / "batches" / "part-0.parquet")]).fetchone()[0]
    assert got == (shares, 3) and ledger == 4

    before = _files(lake)
    with warehouse(landed) as con:
        assert export_lake(con, landed).batches == 0  # nothing new: nothing written
    assert _files(lake) == before

    # a rejected batch stays in the lake (staging leaves it out by the ledger's decision)
    rejected = batches[0][1]
    with warehouse(landed) as con:
        con.execute("insert into meta.batch_events values (?, 'reject', 'test', now())", [rejected])
        export_lake(con, landed)
    assert _files(lake) == before
    with duckdb.connect() as con:
        decisions = con.execute("select batch_id, action from read_parquet(?)",
                                [str(lake / "meta" / "batch_events" / "part-0.parquet")]).fetchall()
    assert decisions == [(rejected, "reject")]

    # a new batch adds its folder and touches no other
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(sorted((small_workload / "landing").glob("click-2025-02.*"))[0], folder)
    land_in(landed, folder, pii_key)
    with warehouse(landed) as con:
        assert export_lake(con, landed).batches == 1
    after = _files(lake)
    assert {p: after[p] for p in before} == before and len(after) == len(before) + 1


def test_an_erasure_rewrites_the_batches_without_the_erased_rows(landed: Settings) -> None:
    lake = lake_dir(landed)
    with warehouse(landed) as con:
        export_lake(con, landed)
        author = con.execute("select author_id from raw.share where author_type = 'employee' limit 1").fetchone()[0]
        # what reachloop erase does to the log (ingestion/erasure.py), reduced to its effect here
        con.execute("delete from raw.share where author_id = ?", [author])
        con.execute("insert into meta.erasure_requests values ('r1', 1, 'email', null, now(), 1, null)")
        left = con.execute("select count(*) from raw.share").fetchone()[0]
        assert export_lake(con, landed).batches == 4  # every batch written again
    with duckdb.connect() as con:
        rows = con.execute(
            "select count(*), count(*) filter (where author_id = ?) from read_parquet(?)",
            [author, str(lake / "events" / "event_type=share" / "*" / "*.parquet")],
        ).fetchone()
    assert rows == (left, 0)
    with warehouse(landed) as con:
        assert export_lake(con, landed).batches == 0  # and then left alone again


def test_registration_names_every_event_type_and_the_ledger(landed: Settings) -> None:
    with warehouse(landed) as con:
        export_lake(con, landed)
        sql = registration_sql(con, "s3a://bucket/lake")
    for event_type in EVENT_TYPES:
        assert f"create or replace view raw.`{event_type}` as" in sql
    assert "parquet.`s3a://bucket/lake/events/event_type=share`" in sql
    for table in ("batches", "batch_events", "builds"):
        assert f"parquet.`s3a://bucket/lake/meta/{table}`" in sql
    local = (lake_dir(landed) / "register.sql").read_text()
    # an event type with no batch yet is an empty view of the right shape, not a missing folder
    assert "from parquet.`" not in next(s for s in local.split(";\n") if "raw.`deal`" in s)
    assert "where false" in next(s for s in local.split(";\n") if "raw.`deal`" in s)


def test_the_engine_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REACHLOOP_ENGINE", raising=False)
    assert build_engine() == "duckdb"
    monkeypatch.setenv("REACHLOOP_ENGINE", "Spark")
    assert build_engine() == "spark"
    assert build_engine("duckdb") == "duckdb"  # the option beats the environment
    with pytest.raises(ReachloopError, match="unknown engine 'trino'"):
        build_engine("trino")
