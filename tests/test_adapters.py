"""Source adapters: shapes, dirty values, merges and deletions, idempotency, one transaction."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.adapters import (
    ADAPTERS,
    adapter_for,
    detect_format,
    formats_from_config,
    land_source,
)
from ingestion.adapters import base as adapter_base
from ingestion.pseudonymize import install_macro, pseudonym
from reachloop.cli import main
from tests.helpers import land_in as land
from tests.helpers import query
from tests.helpers import write_dedented as write

SAMPLES = Path(__file__).resolve().parents[1] / "ingestion" / "adapters" / "samples"


def counts(settings: Settings, *tables: str) -> list[int]:
    sql = "select " + ", ".join(f"(select count(*) from raw.{t})" for t in tables)
    return list(query(settings.warehouse, sql)[0])


# --- detection and format specs -------------------------------------------------------------


def test_each_sample_is_detected_as_its_format() -> None:
    for folder in SAMPLES.iterdir():
        for path in folder.iterdir():
            assert detect_format(path) == folder.name, path


def test_format_specs_and_config() -> None:
    adapter, options = adapter_for("salesforce:tz=Europe/Berlin,decimal=comma")
    assert (adapter.name, options.tz, options.decimal) == ("salesforce", "Europe/Berlin", "comma")
    with pytest.raises(ReachloopError, match="unknown format 'marketo'"):
        adapter_for("marketo")
    with pytest.raises(ReachloopError, match="unknown format option 'colour=red'"):
        adapter_for("hubspot:colour=red")
    formats = formats_from_config('{"crm": "salesforce:tz=Europe/Berlin"}')
    assert formats == {"crm": "salesforce:tz=Europe/Berlin"}  # others: contract files + detection
    assert formats_from_config(get_variable=lambda k: '{"web": "web_clicks:token_param=t"}')["web"] == (
        "web_clicks:token_param=t"
    )
    with pytest.raises(ReachloopError):
        formats_from_config('{"crm": "hubspot:decimal=dot"}')
    assert set(ADAPTERS) == {
        "linkedin", "advocacy_shares", "advocacy_report", "hubspot", "salesforce", "web_clicks",
        "linkedin_connections", "post_analytics", "hr_roster", "ga4", "segment",
    }
    # An adapter's own options are known to it alone.
    assert adapter_for("hr_roster:employee_id=Personalnummer")[1].get("employee_id") == "Personalnummer"
    with pytest.raises(ReachloopError, match="unknown format option 'employee=e1'"):
        adapter_for("hubspot:employee=e1")


# --- shapes: fail loudly, land nothing ------------------------------------------------------


def test_missing_columns_are_named_and_nothing_lands(settings, pii_key, tmp_path, capsys) -> None:
    path = write(
        tmp_path / "shares.csv",
        """
        Employee ID,Network,Post Link,Shared At,Tracked Link
        emp-1,LinkedIn,https://x.example/p/1,2026-03-01T10:00:00Z,https://a.example/?rlt=t1
        """,
    )
    assert main(["land", "--format", "advocacy_shares", str(path)]) == 1
    err = capsys.readouterr().err
    assert "missing columns: post url" in err and "unexpected: post link" in err
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


def test_a_bad_file_in_a_crm_folder_rolls_back_the_whole_export(settings, pii_key, tmp_path) -> None:
    folder = tmp_path / "hubspot"
    shutil.copytree(SAMPLES / "hubspot", folder)
    write(folder / "tickets.csv", "Ticket ID,Subject\n1,help\n")
    [result] = land(settings, folder, pii_key, "hubspot")
    assert result.status == "rejected" and "tickets.csv: not a known export object" in result.message
    assert counts(settings, "form_fill", "deal") == [0, 0]


def test_a_failure_after_some_event_types_landed_leaves_none(settings, pii_key, monkeypatch) -> None:
    """One transaction across the event types one vendor file produces."""
    real_stage_in = adapter_base.stage_in

    def fail_on_engagement(con, event_type, select):
        if event_type == "engagement":
            raise RuntimeError("disk on fire")
        real_stage_in(con, event_type, select)

    monkeypatch.setattr("ingestion.adapters.land.stage_in", fail_on_engagement)
    with warehouse(settings) as con, pytest.raises(RuntimeError):
        install_macro(con, pii_key)
        land_source(con, SAMPLES / "linkedin" / "pull-2026-03-02.jsonl", "linkedin")
    assert counts(settings, "share", "share_metrics", "engagement") == [0, 0, 0]
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


def test_linkedin_envelope_and_endpoints_are_checked(settings, pii_key, tmp_path) -> None:
    path = tmp_path / "pull.jsonl"
    path.write_text(json.dumps({"pulled_at": "2026-03-01T00:00:00Z", "endpoint": "adAnalytics", "response": {}}))
    [result] = land(settings, path, pii_key, "linkedin")
    assert result.status == "rejected" and "unexpected endpoint(s) adAnalytics" in result.message


# --- dirty values ---------------------------------------------------------------------------


def test_amounts_currencies_and_local_times(settings, pii_key, tmp_path) -> None:
    folder = tmp_path / "hs"
    write(
        folder / "deals.csv",
        """
        Record ID,Deal Stage,Create Date,Amount,Currency,Is Closed Won
        1,appointmentscheduled,2026-03-01 09:00,"1.234,50",€,false
        2,appointmentscheduled,2026-03-01 09:00,"12.000",EUR,false
        3,appointmentscheduled,2026-03-29 09:00,"US$ 2.500,00",,false
        4,appointmentscheduled,2026-03-01T09:00:00-05:00,"1,234.50",usd,false
        """,
    )
    results = land(settings, folder, pii_key, "hubspot:tz=Europe/Berlin,decimal=comma")
    assert [(r.rows_landed, r.rows_quarantined) for r in results] == [(3, 1)]
    rows = query(
        settings.warehouse,
        "select deal_id, amount::varchar, currency, occurred_at::varchar from raw.deal order by deal_id",
    )
    assert rows == [
        ("1", "1234.50", "EUR", "2026-03-01 08:00:00+00"),  # CET: UTC+1
        ("2", "12000.00", "EUR", "2026-03-01 08:00:00+00"),
        ("3", "2500.00", "USD", "2026-03-29 07:00:00+00"),  # CEST from 29 March: UTC+2
    ]
    # '1,234.50' is no amount in a decimal-comma export: quarantined, not read as 1.2345
    [(reason, detail)] = query(settings.warehouse, "select reason, detail from meta.quarantine")
    assert reason == "invalid_number" and "1,234.50" in detail


def test_emails_differing_in_case_and_spaces_are_one_pseudonym(settings, pii_key) -> None:
    land(settings, SAMPLES / "hubspot", pii_key, "hubspot:tz=America/New_York")
    land(settings, SAMPLES / "salesforce", pii_key, "salesforce")
    jane = pseudonym("jane.doe@globex.example", pii_key, email=True)
    mia = pseudonym("mia.wong@umbrella.example", pii_key, email=True)
    # form: " Jane.Doe@Globex.example "; CRM: "jane.doe@globex.example"
    assert query(settings.warehouse, "select count(*) from raw.form_fill where email = ?", [jane]) == [(1,)]
    assert query(settings.warehouse, "select count(*) from raw.deal where contact_email = ?", [jane]) == [(1,)]
    # form: "mia.wong@umbrella.example"; Salesforce lead: " Mia.Wong@Umbrella.example"
    assert query(settings.warehouse, "select count(*) from raw.form_fill where email = ?", [mia]) == [(1,)]
    assert query(settings.warehouse, "select count(*) from raw.deal where contact_email = ?", [mia]) == [(1,)]


def test_unknown_network_is_quarantined_not_guessed(settings, pii_key) -> None:
    land(settings, SAMPLES / "advocacy_shares", pii_key)
    assert query(settings.warehouse, "select reason, detail from meta.quarantine") == [
        ("invalid_enum", "network = myspace")
    ]


def test_tracked_link_query_strings_never_reach_the_log(settings, pii_key) -> None:
    land(settings, SAMPLES / "web_clicks", pii_key)
    rows = query(settings.warehouse, "select landing_url, utm_source from raw.click where click_id = 'h-006'")
    assert rows == [("https://acme.example/blog/closing-the-loop", None)]
    assert query(settings.warehouse, "select count(*) from raw.click where extra like '%@%'") == [(0,)]


# --- overlapping exports, counts going down -------------------------------------------------


def test_overlapping_exports_land_each_event_once(settings, pii_key, tmp_path) -> None:
    land(settings, SAMPLES / "hubspot", pii_key, "hubspot:tz=America/New_York")
    later = tmp_path / "hubspot-later"
    shutil.copytree(SAMPLES / "hubspot", later)
    with (later / "deal_property_history.csv").open("a") as fh:
        fh.write("703,dealstage,closedlost,2026-03-20 10:00,CRM_UI\n")
    results = land(settings, later, pii_key, "hubspot:tz=America/New_York")
    deal = next(r for r in results if r.event_type == "deal")
    assert (deal.rows_read, deal.rows_landed, deal.rows_duplicate) == (10, 1, 9)
    assert query(
        settings.warehouse, "select event, occurred_at::varchar from raw.deal where deal_event_id like '%703:1774%'"
    ) == [("closed_lost", "2026-03-20 14:00:00+00")]  # EDT after 8 March: UTC-4
    again = land(settings, later, pii_key, "hubspot:tz=America/New_York")
    assert [r.status for r in again] == ["skipped"]


def test_linkedin_counts_that_went_down_land_as_reported(settings, pii_key) -> None:
    land(settings, SAMPLES / "linkedin", pii_key)
    rows = query(
        settings.warehouse,
        "select observed_at::varchar, reactions, impressions from raw.share_metrics"
        " where extra like '%lifetime%' order by observed_at",
    )
    assert rows == [("2026-03-02 06:00:00+00", 12, 450), ("2026-03-05 06:00:00+00", 10, 560)]


# --- merges and deletions -------------------------------------------------------------------


def test_merged_contacts_and_deals_follow_the_survivor(settings, pii_key) -> None:
    results = land(settings, SAMPLES / "hubspot", pii_key, "hubspot:tz=America/New_York")
    assert "1 history versions skipped" in results[0].message  # deal 702, merged into 701
    assert query(settings.warehouse, "select count(*) from raw.deal where deal_id = '702'") == [(0,)]
    # deal 701 names contact 502, merged into 501: every address of 501 is on the deal
    emails = {pseudonym(e, pii_key, email=True) for e in ("jane.doe@globex.example", "j.doe@gmail.example")}
    added = query(settings.warehouse, "select contact_email from raw.deal where deal_id = '701' and event = 'contact_added'")
    assert {e for (e,) in added} == emails


def test_deleted_salesforce_records_make_no_events(settings, pii_key) -> None:
    [result] = land(settings, SAMPLES / "salesforce", pii_key, "salesforce")
    assert "1 deleted opportunities skipped" in result.message
    assert query(settings.warehouse, "select distinct deal_id from raw.deal") == [("006000000000001AAA",)]
    # the role names merged contact 003…2: the survivor's, its merged contact's and its lead's addresses
    assert query(settings.warehouse, "select count(*) from raw.deal where event = 'contact_added'") == [(3,)]
