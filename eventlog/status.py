"""The state of the event log, for operators and scripts (``reachloop status``)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from eventlog.batches import LATEST_DECISION_SQL, LATEST_GATE_SQL
from eventlog.contract import EVENT_TYPES


def log_status(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts over the whole log: per event type, and quarantined records by reason."""
    per_type = {
        name: {"landed": 0, "duplicates": 0, "quarantined": 0, "erased": 0, "rows_read": 0, "batches": 0}
        for name in EVENT_TYPES
    }
    # rows_erased: a warehouse no writer opened since erasure came has no such column yet.
    erased = "coalesce(sum(rows_erased), 0)" if _has_column(con, "batches", "rows_erased") else "0"
    rows = con.execute(
        f"""
        select event_type, sum(rows_landed), sum(rows_duplicate), sum(rows_quarantined), {erased},
               sum(rows_read), count(*), max(ingested_at)
        from meta.batches group by event_type
        """
    ).fetchall()
    last_landed = None
    for et, landed, dup, quar, gone, read, batches, at in rows:
        per_type[et] = {
            "landed": int(landed), "duplicates": int(dup), "quarantined": int(quar), "erased": int(gone),
            "rows_read": int(read), "batches": int(batches),
        }
        last_landed = max(filter(None, [last_landed, at]), default=None)
    reasons = dict(
        con.execute(
            "select reason, count(*) from meta.quarantine group by reason order by reason"
        ).fetchall()
    )
    # Erasure requests: how many people, never who.
    erasures = (
        con.execute("select count(distinct request_id) from meta.erasure_requests").fetchone()[0]
        if _has_table(con, "meta", "erasure_requests") else 0
    )
    return {
        **build_status(con),
        "event_types": per_type,
        "quarantine_reasons": reasons,
        "last_landed_at": last_landed.isoformat() if last_landed else None,
        "erasure_requests": int(erasures),
    }


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    )


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.columns where table_schema = 'meta' and table_name = ?"
            " and column_name = ?",
            [table, column],
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
            select g.severity, g.target, g.batch_id, b.file_path, g.expectation, g.column_name,
                   g.unexpected_count, g.observed
            from meta.gate_results g left join meta.batches b using (batch_id)
            where g.gate = ? and g.build_id = ? and not g.success
            order by g.severity, g.target, g.batch_id, g.expectation
            """,
            [gate, last[0]],
        ).fetchall()
        if gate == "gate_1":
            # Gate 1 judges batches, and what stands is each batch's latest verdict: a failure
            # stays current only while its batch is neither rejected nor passed since. (A build
            # with nothing pending checks nothing, so the last gate-1 run alone would keep
            # showing a failure the operator already dealt with.)
            failing = _failing_batches(con)
            # A failure without a batch (a table-level check) stands while any batch fails.
            failed = [f for f in failed if f[2] in failing or (f[2] is None and failing)]
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
                dict(zip(("severity", "target", "batch_id", "file", "expectation", "column",
                          "unexpected_count", "observed"), f, strict=True))
                for f in failed
            ],
        }
        if gate == "gate_1":
            out["gates"][gate]["rejected_batches"] = _rejected_count(con)
    return out


def _failing_batches(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Batches whose latest gate-1 verdict failed or warned and that are not rejected now."""
    rows = con.execute(
        f"""
        select verdict.batch_id
        from ({LATEST_GATE_SQL}) as verdict left join ({LATEST_DECISION_SQL}) as decision using (batch_id)
        where verdict.outcome <> 'passed' and decision.action is distinct from 'reject'
        """
    ).fetchall()
    return {r[0] for r in rows}


def _rejected_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select count(*) from ({LATEST_DECISION_SQL}) where action = 'reject'").fetchone()[0]


def quarantined_records(
    con: duckdb.DuckDBPyConnection,
    *,
    batch_id: str | None = None,
    files: list[str] | None = None,
    reason: str | None = None,
    limit: int | None = None,
) -> tuple[int, list[dict]]:
    """The quarantined records matching every filter given (a file matches by its path as
    landed or any trailing part of it), in file and line order; and how many match in all."""
    where, params = ["true"], []
    if batch_id:
        where.append("batch_id = ?")
        params.append(batch_id)
    if files:
        where.append(
            "(list_contains(?, file_path) or list_bool_or([ends_with(file_path, '/' || f) for f in ?]))"
        )
        params += [files, files]
    if reason:
        where.append("reason = ?")
        params.append(reason)
    condition = " and ".join(where)
    total = con.execute(f"select count(*) from meta.quarantine where {condition}", params).fetchone()[0]
    rows = con.execute(
        f"""
        select batch_id, event_type, file_path, source_line, reason, detail, raw, quarantined_at
        from meta.quarantine where {condition}
        order by quarantined_at, file_path, source_line nulls last
        {'limit ' + str(int(limit)) if limit else ''}
        """,
        params,
    ).fetchall()
    keys = ("batch_id", "event_type", "file", "line", "reason", "detail", "raw", "quarantined_at")
    records = [dict(zip(keys, (*r[:-1], _iso(r[-1])), strict=True)) for r in rows]
    return int(total), records


def write_status_snapshot(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write log_status atomically (temp file + rename) for readers that cannot open the
    warehouse while a writer holds it. Best effort: a snapshot that cannot be written never
    fails the landing or build step that wrote to the log."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        status = {"snapshot_at": datetime.now(UTC).isoformat(), **log_status(con)}
        tmp.write_text(json.dumps(status, indent=2, default=str))
        os.replace(tmp, path)
    except (OSError, duckdb.Error):
        tmp.unlink(missing_ok=True)  # a full disk leaves a half-written one behind


def read_status_snapshot(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
