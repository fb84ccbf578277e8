"""``reachloop plan``: who should share a content item next, and when.

The plan itself is the mart mart_share_plan, made by the build (planner/ called from a dbt
Python model): this reads it from the published snapshot (what readers see) when there is one,
else the warehouse. ``--sharers`` up to the built plan's length is a prefix of it (the greedy's
first k picks do not depend on k). A plan with another start, other cadence rules or more
sharers is computed again for the one item by the same planner/ code, from the build's planner
inputs in the warehouse (intermediate.int_share_plan_*, as of the build's plan moment, read
only); the other items' planned shares are then not counted against anyone's cadence.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from eventlog.errors import ReachloopError
from eventlog.faults import PUBLISHED_RECOVERY, WAREHOUSE_RECOVERY, check_database_file
from eventlog.settings import Settings
from planner.cadence import Cadence
from planner.plan import DUCKDB_MEMBER_HALVES, PlanSettings, number_members, plan_shares

# The CLI's defaults, the dbt vars' defaults (dbt_project/dbt_project.yml).
DEFAULT_CADENCE = Cadence()
SHOWN = (
    "sharer_rank",
    "employee_id",
    "suggested_at",
    "expected_new_members",
    "cumulative_new_members",
    "audience_size",
    "audience_basis",
    "reason",
)


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    check_database_file(path, PUBLISHED_RECOVERY if path.name != "warehouse.duckdb" else WAREHOUSE_RECOVERY)
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as e:
        raise ReachloopError(f"cannot read {path} (a build may be writing it; try again): {e}") from e


def _marts_schema(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        "select table_schema from information_schema.tables where table_name = 'mart_share_plan'"
        " and table_schema in ('main', 'marts') order by table_schema = 'main' desc limit 1"
    ).fetchone()
    return row[0] if row else None


def share_plan(
    settings: Settings,
    content_id: str,
    sharers: int | None = None,
    start: datetime | None = None,
    cadence: Cadence | None = None,
) -> dict:
    """The plan of one content item: its facts and the suggestions, best first."""
    source = next((p for p in (settings.published_duckdb, settings.warehouse) if p.exists()), None)
    if source is None:
        raise ReachloopError(
            f"nothing to plan in {settings.home}: land data and build first (reachloop run DIR)"
        )
    with _connect(source) as con:
        schema = _marts_schema(con)
        if schema is None:
            raise ReachloopError(f"{source} has no mart_share_plan: build first (reachloop build)")
        built = con.execute(
            f"select * from {schema}.mart_share_plan where content_id = ? order by sharer_rank", [content_id]
        ).df()
        if built.empty:
            raise ReachloopError(_why_no_plan(con, schema, content_id))
    recompute = start is not None or cadence is not None or (sharers is not None and sharers > len(built))
    facts = built.iloc[0]
    result = {
        "content_id": content_id,
        "published_at": facts["published_at"].to_pydatetime(),
        "plan_at": facts["plan_at"].to_pydatetime(),
        "prior_sharers": int(facts["prior_sharers"]),
        "already_reached": int(facts["already_reached"]),
        "computed": "again, for this item" if recompute else "by the build",
    }
    if recompute:
        plan = _recompute(settings, content_id, sharers or len(built), start, cadence or DEFAULT_CADENCE)
    else:
        plan = built.head(sharers) if sharers else built
    result["start"] = start or result["plan_at"]
    result["suggestions"] = [
        {k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in plan[list(SHOWN)].to_dict("records")
    ]
    return result


def _recompute(
    settings: Settings, content_id: str, sharers: int, start: datetime | None, cadence: Cadence
) -> pd.DataFrame:
    if not settings.warehouse.exists():
        raise ReachloopError(
            f"no warehouse in {settings.home}: a plan with other settings needs the build's inputs"
        )
    with _connect(settings.warehouse) as con:

        def read(table: str, columns: str, where: str = "", params: list | None = None) -> pd.DataFrame:
            return con.execute(f"select {columns} from intermediate.{table} {where}", params or []).df()

        contents = read(
            "int_share_plan_contents",
            "content_id, published_at, plan_at",
            "where content_id = ?",
            [content_id],
        )
        if contents.empty:
            raise ReachloopError(f"{content_id} is not among the build's planned items")
        candidates = read("int_share_plan_candidates", "employee_id, usual_hour, audience_basis")
        # A DuckDB build stores member_number as a 128-bit number, a Spark build's copy as the id
        [member_type] = con.execute(
            "select data_type from information_schema.columns where table_schema = 'intermediate'"
            " and table_name = 'int_share_plan_audiences' and column_name = 'member_number'"
        ).fetchone() or [None]
        member, by = (
            (DUCKDB_MEMBER_HALVES, ["member_high", "member_low"])
            if member_type == "UHUGEINT"
            else ("member_number", ["member_number"])
        )
        audiences, reached = number_members(
            read("int_share_plan_audiences", f"employee_id, {member}"),
            read("int_share_plan_reached", f"content_id, {member}", "where content_id = ?", [content_id]),
            by,
        )
        posts = read("int_share_plan_posts", "employee_id, posted_at, content_id")
    when = pd.Timestamp(start) if start is not None else contents["plan_at"].iloc[0]
    when = when.tz_localize("UTC") if when.tzinfo is None else when
    settings_ = PlanSettings(sharers=sharers, cadence=cadence)
    return plan_shares(contents, candidates, audiences, reached, posts, when, settings_)


def _why_no_plan(con: duckdb.DuckDBPyConnection, schema: str, content_id: str) -> str:
    rule = (
        "the plan covers items published in the plan_recent_days (90) before the plan moment that fewer"
        " than plan_widely_shared (10) employees shared, and suggests only opted-in employees who add"
        " members no earlier share reached"
    )
    try:
        known = con.execute(
            f"select published_at from {schema}.dim_contents where content_id = ?", [content_id]
        ).fetchone()
        if known is None:
            return f"no content item {content_id} (content ids are in dim_contents)"
        [sharers] = con.execute(
            f"select count(distinct author_id) from {schema}.fct_shares"
            " where content_id = ? and author_type = 'employee'",
            [content_id],
        ).fetchone()
    except duckdb.CatalogException:  # a partial build: say the rule only
        return f"{content_id} has no share plan: {rule}"
    return (
        f"{content_id} has no share plan: {rule}; it was published {known[0]:%Y-%m-%d} and"
        f" {sharers} employees shared it"
    )


def render(result: dict) -> str:
    lines = [
        f"Share plan for {result['content_id']} (published {result['published_at']:%Y-%m-%d %H:%M} UTC),"
        f" computed {result['computed']}, starting {result['start']:%Y-%m-%d %H:%M} UTC",
        f"{result['prior_sharers']} employees shared it so far, reaching {result['already_reached']:,}"
        " members outside the company that the candidates could also reach.",
        "",
    ]
    if not result["suggestions"]:
        lines.append("No suggestion: no opted-in employee with a free slot adds anyone new.")
        return "\n".join(lines)
    lines.append(
        f"{'#':>2}  {'employee':<14} {'suggested at (UTC)':<18} {'new members':>11} {'cumulative':>10}"
    )
    for s in result["suggestions"]:
        lines.append(
            f"{s['sharer_rank']:>2}  {s['employee_id']:<14} {s['suggested_at']:%Y-%m-%d %H:%M}  "
            f"{s['expected_new_members']:>11,} {s['cumulative_new_members']:>10,}"
        )
        lines.append(f"    {s['reason']}")
    lines += [
        "",
        "Expected new members are members of each person's observed audience (or recent engagers)"
        " whom no earlier share reached: an estimate, not a promise of reach.",
    ]
    return "\n".join(lines)
