"""Strict where the contract is strict: a value DuckDB would read by guessing (a timestamp
without an offset as UTC, 1.5 rounded to 2, 0x10 read as hex, 0.005 USD rounded to 0.01) is
quarantined with its reason instead of landing changed."""

from __future__ import annotations

from ingestion.landing import land_path
from tests.helpers import query, write_dedented


def _land(settings, path, key):
    from eventlog.warehouse import warehouse

    with warehouse(settings) as con:
        return land_path(con, path, key)


def test_timestamps_counts_and_amounts_are_taken_as_written_or_quarantined(settings, pii_key, tmp_path) -> None:
    write_dedented(
        tmp_path / "in" / "page_followers.csv",
        """
        page_id,observed_at,followers
        ok-z,2026-03-01T10:00:00Z,10
        ok-offset,2026-03-01T10:00:00+05:30,12.0
        ok-compact,2026-03-01 10:00:00.250-0800,+7
        no-offset,2026-03-01T10:00:00,10
        date-only,2026-03-01,10
        bad-offset,2026-03-01T10:00:00+25:00,10
        fraction,2026-03-02T10:00:00Z,1.5
        hex,2026-03-03T10:00:00Z,0x10
        exponent,2026-03-04T10:00:00Z,1e3
        """,
    )
    write_dedented(
        tmp_path / "in" / "deal.csv",
        """
        deal_event_id,deal_id,event,occurred_at,amount,currency
        ok-cents,d1,created,2026-03-01T00:00:00Z,1000.50,usd
        ok-yen,d2,created,2026-03-01T00:00:00Z,1200.00,JPY
        ok-none,d3,created,2026-03-01T00:00:00Z,99.99,
        half-cent,d4,created,2026-03-01T00:00:00Z,0.005,USD
        yen-cents,d5,created,2026-03-01T00:00:00Z,100.5,jpy
        """,
    )
    results = {r.event_type: r for r in _land(settings, tmp_path / "in", pii_key)}
    assert (results["page_followers"].rows_landed, results["page_followers"].rows_quarantined) == (3, 6)
    assert (results["deal"].rows_landed, results["deal"].rows_quarantined) == (3, 2)
    landed = query(
        settings.warehouse,
        "select page_id, epoch(observed_at)::bigint, followers from raw.page_followers order by 1",
    )
    assert landed == [
        ("ok-compact", 1772388000, 7),  # 10:00:00.25 at -08:00 = 18:00:00.25 UTC (epoch truncates)
        ("ok-offset", 1772339400, 12),  # 10:00 at +05:30 = 04:30 UTC
        ("ok-z", 1772359200, 10),
    ]
    quarantined = dict(
        query(
            settings.warehouse,
            "select raw::json->>'page_id', reason || ': ' || detail from meta.quarantine"
            " where event_type = 'page_followers'",
        )
    )
    offset = ": no valid UTC offset (Z, or -14:00 to +14:00)"
    assert quarantined == {
        "no-offset": f"invalid_timestamp: observed_at = 2026-03-01T10:00:00{offset}",
        "date-only": f"invalid_timestamp: observed_at = 2026-03-01{offset}",
        "bad-offset": "invalid_timestamp: observed_at = 2026-03-01T10:00:00+25:00" + offset,
        "fraction": "invalid_number: followers = 1.5: not an integer",
        "hex": "invalid_number: followers = 0x10: not an integer",
        "exponent": "invalid_number: followers = 1e3: not an integer",
    }
    assert query(settings.warehouse, "select deal_id, amount::double, currency from raw.deal order by 1") == [
        ("d1", 1000.5, "USD"), ("d2", 1200, "JPY"), ("d3", 99.99, None),
    ]
    quarantined = dict(
        query(
            settings.warehouse,
            "select raw::json->>'deal_id', reason || ': ' || detail from meta.quarantine where event_type = 'deal'",
        )
    )
    assert quarantined == {
        "d4": "invalid_number: amount = 0.005 USD: more decimals than the currency has (2)",
        "d5": "invalid_number: amount = 100.5 JPY: more decimals than the currency has (0)",
    }
