"""Batch retraction: reject and restore are events; list shows gate outcome and rejection."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventlog import batches
from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.landing import land_path
from reachloop.cli import main


@pytest.fixture
def one_batch(settings: Settings, tmp_path: Path, pii_key: bytes) -> str:
    path = tmp_path / "click-1.csv"
    path.write_text("click_id,tracking_token,visitor_id,occurred_at\nc1,t1,v1,2025-03-01T10:00:00Z\n")
    with warehouse(settings) as con:
        return land_path(con, path, pii_key)[0].batch_id


def test_reject_and_restore_are_recorded_as_events(settings: Settings, one_batch: str):
    with warehouse(settings) as con:
        batches.reject(con, one_batch, "vendor sent test data")
        assert batches.latest_action(con, one_batch) == "reject"
        with pytest.raises(ReachloopError, match="already rejected"):
            batches.reject(con, one_batch, "again")
        batches.restore(con, one_batch, "vendor confirmed")
        assert batches.latest_action(con, one_batch) == "restore"
        with pytest.raises(ReachloopError, match="not rejected"):
            batches.restore(con, one_batch)
        events = con.execute("select action, reason from meta.batch_events order by recorded_at").fetchall()
        assert events == [("reject", "vendor sent test data"), ("restore", "vendor confirmed")]
        # The event log itself is untouched.
        assert con.execute("select count(*) from raw.click").fetchone()[0] == 1


def test_reject_needs_a_known_batch_and_a_reason(settings: Settings, one_batch: str):
    with warehouse(settings) as con:
        with pytest.raises(ReachloopError, match="no batch"):
            batches.reject(con, "click-nope", "x")
        with pytest.raises(ReachloopError, match="reason"):
            batches.reject(con, one_batch, "  ")


def test_cli_lists_rejects_and_restores(settings: Settings, one_batch: str, capsys):
    assert main(["batches", "list"]) == 0
    out = capsys.readouterr().out
    assert one_batch in out and "pending" in out and "accepted" in out
    assert main(["batches", "reject", one_batch, "--reason", "duplicated export"]) == 0
    assert main(["batches", "list", "--problems", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert '"rejected": true' in lines[-1] and "duplicated export" in lines[-1]
    assert main(["batches", "restore", one_batch]) == 0
    assert main(["batches", "reject", "click-nope", "--reason", "x"]) == 1
    assert "no batch 'click-nope'" in capsys.readouterr().err
