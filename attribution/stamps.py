"""Which states' values a rebuild of a global attribution table changed.

Removal effects and Shapley values are global (every journey feeds them), so their tables are
recomputed whole; but a deal's credits only move when a value of one of its touches' states
moves. Each row carries the log position of the build that last changed its value
(``log_position_through``): unchanged values keep their old position, so int_touches_credited
re-credits only the deals on states stamped past its own watermark (docs/design.md,
"Incremental builds: the deal side")."""

from __future__ import annotations

import pandas as pd

STAMP = "log_position_through"


def carry_stamps(
    current: pd.DataFrame, previous: pd.DataFrame | None, value: str, position: int
) -> pd.DataFrame:
    """``current`` (one row per state) with STAMP: ``position`` where the state is new or its
    ``value`` differs from ``previous``'s in any bit, else the stamp ``previous`` had."""
    stamped = current.copy()
    stamped[STAMP] = pd.Series(position, index=stamped.index, dtype="int64")
    if previous is None or previous.empty or STAMP not in previous.columns:
        return stamped
    before = previous.set_index("state")
    old_value = stamped["state"].map(before[value])
    old_stamp = stamped["state"].map(before[STAMP])
    same = (old_value.to_numpy() == stamped[value].to_numpy()) & old_stamp.notna().to_numpy()
    stamped.loc[same, STAMP] = old_stamp[same].astype("int64")
    return stamped


def stored_rows(session, this, needs: set[str], columns: str = "*") -> pd.DataFrame | None:
    """The rows (``columns``) the last build left in the model's own table (``this``, a dbt
    relation; ``session`` its DuckDB connection), or None when the table is missing or lacks a
    column of ``needs`` (a first build, or a table from before the stamps)."""
    held = session.execute(
        "select column_name from information_schema.columns"
        " where table_catalog = ? and table_schema = ? and table_name = ?",
        [this.database, this.schema, this.identifier],
    ).fetchall()
    if needs - {c for (c,) in held}:
        return None
    return session.sql(f"select {columns} from {this}").df()
