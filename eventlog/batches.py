"""Batch retraction: an operator rejects a landed batch (or restores it) without touching the log.

A decision is an event appended to ``meta.batch_events``; the latest one per batch wins. The
raw rows stay where they are (the event log is never edited): dbt's staging models leave out
batches whose latest action is 'reject', gate 1 stops checking them, and the next build
rebuilds from scratch so that incremental models forget them too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from eventlog.errors import ReachloopError

REJECT, RESTORE = "reject", "restore"

# The latest operator decision per batch: the same rule as dbt's stg_event_log__batches.
LATEST_DECISION_SQL = """
    select batch_id, action, reason, recorded_at
    from meta.batch_events
    qualify row_number() over (partition by batch_id order by recorded_at desc) = 1
"""

# Gate 1's latest verdict per batch (passed, warned, failed); no row means not gated yet.
LATEST_GATE_SQL = """
    select batch_id, outcome, build_id, checked_at
    from meta.batch_gates
    qualify row_number() over (partition by batch_id order by checked_at desc) = 1
"""


@dataclass
class BatchRow:
    batch_id: str
    event_type: str
    file_path: str
    rows_landed: int
    rows_quarantined: int
    ingested_at: str
    gate: str  # passed | warned | failed | pending
    rejected: bool
    reason: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _require_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> None:
    if not con.execute("select 1 from meta.batches where batch_id = ?", [batch_id]).fetchone():
        raise ReachloopError(f"no batch {batch_id!r} in the ledger (see reachloop batches list)")


def latest_action(con: duckdb.DuckDBPyConnection, batch_id: str) -> str | None:
    row = con.execute(
        f"select action from ({LATEST_DECISION_SQL}) where batch_id = ?", [batch_id]
    ).fetchone()
    return row[0] if row else None


def reject(con: duckdb.DuckDBPyConnection, batch_id: str, reason: str) -> None:
    """Exclude a batch from every later build; the reason is kept with the decision."""
    _require_batch(con, batch_id)
    if not reason or not reason.strip():
        raise ReachloopError("a rejection needs a reason (--reason), for whoever reads the log later")
    if latest_action(con, batch_id) == REJECT:
        raise ReachloopError(f"batch {batch_id} is already rejected")
    _record(con, batch_id, REJECT, reason.strip())


def restore(con: duckdb.DuckDBPyConnection, batch_id: str, reason: str | None = None) -> None:
    """Take a rejected batch back: the next build includes it again (after gate 1 re-checks it)."""
    _require_batch(con, batch_id)
    if latest_action(con, batch_id) != REJECT:
        raise ReachloopError(f"batch {batch_id} is not rejected, nothing to restore")
    # A batch that failed gate 1 stays ungated (only passed or warned count as gated), so
    # the next build checks it again: restoring bad data does not smuggle it past the gate.
    _record(con, batch_id, RESTORE, reason)


def _record(con: duckdb.DuckDBPyConnection, batch_id: str, action: str, reason: str | None) -> None:
    # now() is the transaction start; two decisions in one transaction would tie, so each
    # decision is its own statement and ordering uses clock time.
    con.execute(
        "insert into meta.batch_events values (?, ?, ?, get_current_timestamp())",
        [batch_id, action, reason],
    )


def list_batches(
    con: duckdb.DuckDBPyConnection, *, event_type: str | None = None, problems_only: bool = False
) -> list[BatchRow]:
    """Every landed batch with gate 1's verdict and the operator's latest decision."""
    rows = con.execute(
        f"""
        select b.batch_id, b.event_type, b.file_path, b.rows_landed, b.rows_quarantined,
               strftime(b.ingested_at, '%Y-%m-%dT%H:%M:%SZ'),
               coalesce(g.outcome, 'pending'), coalesce(d.action = 'reject', false),
               case when d.action = 'reject' then d.reason end
        from meta.batches b
        left join ({LATEST_GATE_SQL}) g using (batch_id)
        left join ({LATEST_DECISION_SQL}) d using (batch_id)
        where ($1::varchar is null or b.event_type = $1)
          and (not $2 or coalesce(g.outcome, 'pending') <> 'passed' or d.action = 'reject')
        order by b.ingested_at, b.batch_id
        """,
        [event_type, problems_only],
    ).fetchall()
    return [BatchRow(*r) for r in rows]
