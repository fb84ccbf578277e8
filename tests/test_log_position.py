"""The log position: every landed batch's commit sequence number (docs/design.md, "Log position")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from builds.steps import start_build
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.landing import land_path

CLICKS = "click_id,tracking_token,visitor_id,occurred_at\n"


def _clicks(folder: Path, name: str, ids: list[str]) -> Path:
    path = folder / name
    path.write_text(CLICKS + "".join(f"{i},t1,v1,2025-03-01T10:00:00Z\n" for i in ids))
    return path


def _ledger(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select batch_id, log_position, committed_at >= ingested_at from meta.batches order by log_position"
    ).fetchall()


def test_each_landed_batch_gets_the_next_position_at_commit(
    settings: Settings, tmp_path: Path, pii_key: bytes
):
    folder = tmp_path / "in"
    folder.mkdir()
    with warehouse(settings) as con:
        first = land_path(con, _clicks(folder, "click-1.csv", ["c1"]), pii_key)
        # Several small files land in one transaction: one position each, in landing order.
        more = folder / "more"
        more.mkdir()
        for n in (2, 3, 4):
            _clicks(more, f"click-{n}.csv", [f"c{n}"])
        together = land_path(con, more, pii_key)
        # A file already landed is skipped: no batch, no position.
        land_path(con, folder / "click-1.csv", pii_key)
        ledger = _ledger(con)
    ids = [r.batch_id for r in [*first, *together]]
    assert [(b, p) for b, p, _ in ledger] == list(zip(ids, [1, 2, 3, 4], strict=True))
    assert all(after for _, _, after in ledger)


def test_a_warehouse_from_before_log_positions_numbers_its_batches_in_landing_order(
    settings: Settings, tmp_path: Path, pii_key: bytes
):
    folder = tmp_path / "in"
    folder.mkdir()
    with warehouse(settings) as con:
        for n in (1, 2, 3):
            land_path(con, _clicks(folder, f"click-{n}.csv", [f"c{n}"]), pii_key)
        # Make it an old ledger: no positions, and the second batch landed first.
        con.execute("drop index meta.batches_log_position")
        con.execute("alter table meta.batches drop column log_position")
        con.execute("alter table meta.batches drop column committed_at")
        con.execute(
            "update meta.batches set ingested_at = ingested_at - interval 1 hour where batch_id like '%'"
            " and file_path like '%click-2.csv'"
        )
        by_landing = [
            r[0]
            for r in con.execute(
                "select batch_id from meta.batches order by ingested_at, batch_id"
            ).fetchall()
        ]
    with warehouse(settings) as con:  # reopening migrates
        migrated = con.execute(
            "select batch_id, log_position, committed_at = ingested_at from meta.batches order by log_position"
        ).fetchall()
        # The next landing continues the sequence.
        land_path(con, _clicks(folder, "click-4.csv", ["c4"]), pii_key)
        newest = con.execute("select max(log_position) from meta.batches").fetchone()[0]
    assert migrated == [(b, i, True) for i, b in enumerate(by_landing, start=1)]
    assert newest == 4


def test_an_as_of_build_pins_the_last_position_committed_by_then(
    settings: Settings, tmp_path: Path, pii_key: bytes
):
    folder = tmp_path / "in"
    folder.mkdir()
    with warehouse(settings) as con:
        for n in (1, 2):
            land_path(con, _clicks(folder, f"click-{n}.csv", [f"c{n}"]), pii_key)
        # Batch 2's landing started an hour ago (ingested_at) but committed just now: a build as
        # of half an hour ago must not see it, though its ingested_at is before that moment.
        con.execute(
            "update meta.batches set committed_at = now() - interval 2 hour, ingested_at = now() - interval 2 hour"
            " where log_position = 1"
        )
        con.execute("update meta.batches set ingested_at = now() - interval 1 hour where log_position = 2")
    moment = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    past = start_build(settings, as_of=moment)
    current = start_build(settings)
    with warehouse(settings) as con:
        cutoffs = dict(
            con.execute(
                "select build_id, log_cutoff_position from meta.builds where build_id in (?, ?)",
                [past.build_id, current.build_id],
            ).fetchall()
        )
    assert (cutoffs[past.build_id], cutoffs[current.build_id]) == (1, 2)
