"""The state of the event log, for operators and scripts (``reachloop status``)."""

from __future__ import annotations

import duckdb

from eventlog.contract import EVENT_TYPES


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
        **build_status(con),
        "event_types": per_type,
        "quarantine_reasons": reasons,
        "last_landed_at": last_landed.isoformat() if last_landed else None,
    }


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def build_status(con: duckdb.DuckDBPyConnection) -> dict:
    """The last build, the last publish and the last verdict of each quality gate."""
    out: dict = {"last_build": None, "last_publish": None, "gates": {}}
    if not _has_table(con, "meta", "builds"):  # a warehouse no build has touched yet
        return out
    columns = ("build_id", "status", "step", "error", "as_of", "full_refresh", "models", "tests",
               "published_to", "published_version", "started_at", "finished_at")
    select = ", ".join(columns)
    for key, where in (("last_build", "true"), ("last_publish", "status = 'succeeded'")):
        row = con.execute(
            f"select {select} from meta.builds where {where} order by started_at desc limit 1"
        ).fetchone()
        if row:
            record = dict(zip(columns, row, strict=True))
            record["started_at"], record["finished_at"] = _iso(row[-2]), _iso(row[-1])
            out[key] = record
    for gate in ("gate_1", "gate_2"):
        last = con.execute(
            "select build_id, max(checked_at) from meta.gate_results where gate = ? "
            "group by build_id order by 2 desc limit 1",
            [gate],
        ).fetchone()
        if not last:
            continue
        failed = con.execute(
            """
            select severity, target, batch_id, expectation, column_name, unexpected_count, observed
            from meta.gate_results where gate = ? and build_id = ? and not success
            order by severity, target, batch_id, expectation
            """,
            [gate, last[0]],
        ).fetchall()
        checks = con.execute(
            "select count(*) from meta.gate_results where gate = ? and build_id = ?", [gate, last[0]]
        ).fetchone()[0]
        critical = [f for f in failed if f[0] == "critical"]
        out["gates"][gate] = {
            "build_id": last[0],
            "checked_at": _iso(last[1]),
            "outcome": "failed" if critical else "warned" if failed else "passed",
            "checks": int(checks),
            "failures": [
                dict(zip(("severity", "target", "batch_id", "expectation", "column", "unexpected_count",
                          "observed"), f, strict=True))
                for f in failed
            ],
        }
    return out
