"""The state of the event log, for operators and scripts (``reachloop status``)."""

from __future__ import annotations

import duckdb

from ingestion.contract import EVENT_TYPES


def log_status(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts over the whole log: per event type, and quarantined records by reason."""
    per_type = {
        name: {"landed": 0, "duplicates": 0, "quarantined": 0, "rows_read": 0, "batches": 0}
        for name in EVENT_TYPES
    }
    rows = con.execute(
        """
        select event_type, sum(rows_landed), sum(rows_duplicate), sum(rows_quarantined),
               sum(rows_read), count(*), max(ingested_at)
        from meta.batches group by event_type
        """
    ).fetchall()
    last_landed = None
    for et, landed, dup, quar, read, batches, at in rows:
        per_type[et] = {
            "landed": int(landed), "duplicates": int(dup), "quarantined": int(quar),
            "rows_read": int(read), "batches": int(batches),
        }
        last_landed = max(filter(None, [last_landed, at]), default=None)
    reasons = dict(
        con.execute(
            "select reason, count(*) from meta.quarantine group by reason order by reason"
        ).fetchall()
    )
    return {
        "event_types": per_type,
        "quarantine_reasons": reasons,
        "last_landed_at": last_landed.isoformat() if last_landed else None,
    }
