"""The landing DAGs' library step lands vendor exports in the format configured per family,
and contract files (or auto-detected exports) where none is configured."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from eventlog.errors import ReachloopError
from ingestion.adapters import formats_from_config
from ingestion.deliveries import land_interval
from tests.helpers import query

SAMPLES = Path(__file__).resolve().parent.parent / "ingestion" / "adapters" / "samples"


def deliver(root: Path, family: str, day: str, source: Path) -> None:
    target = root / family / day
    target.mkdir(parents=True, exist_ok=True)
    for f in source.iterdir():
        shutil.copy(f, target / f.name)


def test_configured_vendor_format_lands_a_crm_export(settings, tmp_path, monkeypatch) -> None:
    landing = tmp_path / "landing"
    deliver(landing, "crm", "2026-03-06", SAMPLES / "salesforce")
    monkeypatch.setenv("REACHLOOP_SOURCE_FORMATS", '{"crm": "salesforce"}')
    formats = formats_from_config()
    results = land_interval(
        settings, "crm", date(2026, 3, 6), date(2026, 3, 7), landing=landing, formats=formats
    )
    assert results and all(r.status == "landed" for r in results)
    assert {r.event_type for r in results} == {"deal"}
    assert query(settings.warehouse, "select count(*) from raw.deal")[0][0] > 0
    # the same interval again lands nothing twice
    again = land_interval(
        settings, "crm", date(2026, 3, 6), date(2026, 3, 7), landing=landing, formats=formats
    )
    assert all(r.status == "skipped" for r in again)


def test_unconfigured_family_auto_detects_exports_and_lands_contract_files(settings, tmp_path) -> None:
    landing = tmp_path / "landing"
    deliver(landing, "web", "2026-03-06", SAMPLES / "web_clicks")
    (landing / "web" / "2026-03-07").mkdir(parents=True)
    (landing / "web" / "2026-03-07" / "click.csv").write_text(
        "click_id,tracking_token,visitor_id,occurred_at\nk1,tok,v1,2026-03-07T10:00:00Z\n"
    )
    results = land_interval(settings, "web", date(2026, 3, 6), date(2026, 3, 8), landing=landing)
    assert [r.status for r in results] == ["landed", "landed"]
    assert query(settings.warehouse, "select count(*) > 1 from raw.click") == [(True,)]


def test_a_misrouted_contract_file_lands_nothing(settings, tmp_path) -> None:
    day = tmp_path / "landing" / "web" / "2026-03-06"
    day.mkdir(parents=True)
    (day / "click.csv").write_text("click_id,tracking_token,visitor_id,occurred_at\nk1,t,v,2026-03-06T00:00:00Z\n")
    (day / "deal.csv").write_text("deal_event_id,deal_id,event,occurred_at\nx,d,created,2026-03-06T00:00:00Z\n")
    with pytest.raises(ReachloopError, match="'deal' file in the 'web' deliveries"):
        land_interval(settings, "web", date(2026, 3, 6), date(2026, 3, 7), landing=tmp_path / "landing")
    assert not settings.warehouse.exists() or query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]
