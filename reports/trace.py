"""Trace a deal: its journey, step by step, with each touch's credit under every attribution
model. Reads the published snapshot (what readers see) when there is one, else the
warehouse, read-only either way. The journey and credits themselves are dbt models
(fct_deal_journey, mart_lead_to_deal_attribution): this only reads and presents them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from eventlog.errors import ReachloopError
from eventlog.faults import PUBLISHED_RECOVERY, WAREHOUSE_RECOVERY, read_only_database
from eventlog.settings import Settings
from reports.project import attribution_models

# Words many model names carry (first_touch, position_based): left out of the narrow credit columns.
GENERIC_WORDS = {"touch", "based"}
# Where the marts live: `main` in a published snapshot, `marts` in the warehouse.
SCHEMAS = ("main", "marts")


def short_labels(models: list[str]) -> dict[str, str]:
    """A column header per model, its last distinctive word: first_touch -> first, time_decay ->
    decay, position_based -> position. Two models that would share one keep their full names."""
    short = {}
    for model in models:
        words = [w for w in model.split("_") if w not in GENERIC_WORDS]
        short[model] = words[-1] if words else model
    taken = Counter(short.values())
    return {m: s if taken[s] == 1 else m for m, s in short.items()}


def _source(settings: Settings) -> Path:
    for path in (settings.published_duckdb, settings.warehouse):
        if path.exists():
            return path
    raise ReachloopError(
        f"nothing to trace in {settings.home}: land data and build first (reachloop run DIR)"
    )


def _table(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> str:
    row = con.execute(
        "select table_schema from information_schema.tables where table_name = ? and table_schema in (?, ?)"
        " order by table_schema = 'main' desc limit 1",
        [name, *SCHEMAS],
    ).fetchone()
    if row is None:
        raise ReachloopError(f"{path} has no {name}: build the attribution marts first (reachloop build)")
    return f'"{row[0]}"."{name}"'


def _records(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def trace(settings: Settings, deal_id: str) -> dict:
    """The deal, its steps in order, and per touch the credit (and amount) under each model."""
    path = _source(settings)
    recovery = WAREHOUSE_RECOVERY if path == settings.warehouse else PUBLISHED_RECOVERY
    with read_only_database(path, recovery) as con:
        con.execute("set timezone = 'UTC'")
        deals = _table(con, "fct_deals", path)
        journey = _table(con, "fct_deal_journey", path)
        attribution = _table(con, "mart_lead_to_deal_attribution", path)
        deal = _records(con.execute(f"select * from {deals} where deal_id = ?", [deal_id]))
        if not deal:
            raise ReachloopError(f"no deal {deal_id!r} in {path}")
        steps = _records(
            con.execute(f"select * from {journey} where deal_id = ? order by step_number", [deal_id])
        )
        credits = con.execute(
            f"select click_id, model, credit, attributed_amount, attributed_amount_reporting"
            f" from {attribution} where deal_id = ?",
            [deal_id],
        ).fetchall()
    by_click: dict[str, dict] = {}
    for click_id, model, credit, amount, reporting in credits:
        by_click.setdefault(click_id, {})[model] = {
            "credit": credit, "attributed_amount": amount, "attributed_amount_reporting": reporting,
        }
    # The dbt var's order is the order of the credit columns.
    models = list(attribution_models())
    for step in steps:
        if step["step_type"] == "click" and step["touch_number"] is not None:
            step["credits"] = {m: by_click.get(step["step_id"], {}).get(m) for m in models}
    return {"source": str(path), "deal": deal[0], "models": models, "steps": steps}


def json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def render(result: dict) -> str:
    deal = result["deal"]
    models = result["models"]
    short = short_labels(models)
    # Columns fit a credit (0.000) or their header, whichever is wider.
    width = {m: max(8, len(short[m])) for m in models}
    amount = "no amount"
    if deal["amount"] is not None:
        amount = f"{deal['amount']:,} {deal['currency'] or ''}".strip() + _in_reporting(deal)
    lines = [
        f"deal {deal['deal_id']}: {deal['status']}"
        + (f" {_when(deal['closed_at'])}" if deal["closed_at"] else "")
        + f", {amount}, stage {deal['stage'] or '—'}, created {_when(deal['created_at'])} UTC",
        f"  {deal['contacts']} contact(s), {deal['clicks']} click(s) of which {deal['bot_clicks']} by bots, "
        + (f"{deal['touches']} touch(es)" if deal["is_attributed"] else "no touch: unattributed"),
        f"  source: {result['source']}",
        "",
    ]
    header = "  ".join(f"{short[m]:>{width[m]}}" for m in models)
    lines.append(
        f"{'#':>3}  {'when (UTC)':<16}  {'step':<10}  {'share':<20}  {'employee':<12}  {header}  detail"
    )
    for s in result["steps"]:
        credits = s.get("credits")
        cells = (
            "  ".join(
                f"{credits[m]['credit']:>{width[m]}.3f}" if credits.get(m) else f"{'—':>{width[m]}}"
                for m in models
            )
            if credits
            else " " * len(header)
        )
        lines.append(
            f"{s['step_number']:>3}  {_when(s['step_at']):<16}  {s['step_type']:<10}  "
            f"{s['share_id'] or '':<20}  {s['employee_id'] or '':<12}  {cells}  {s['detail']}"
        )
    touches = [s for s in result["steps"] if s.get("credits")]
    if touches and deal["amount"] is not None:
        columns = [("attributed_amount", deal["currency"] or "no currency")]
        if deal["currency"] != deal["reporting_currency"] and deal["amount_reporting"] is not None:
            columns.append(("attributed_amount_reporting", deal["reporting_currency"]))
        for column, currency in columns:
            lines.append("")
            lines.append(f"attributed amount per touch ({currency}):")
            for s in touches:
                amounts = "  ".join(
                    f"{short[m]} {s['credits'][m][column]:,}" for m in models if s["credits"].get(m)
                )
                lines.append(f"  touch {s['touch_number']} ({s['share_id']}): {amounts}")
    return "\n".join(lines)


def _in_reporting(deal: dict) -> str:
    """The amount in the reporting currency, and at which rate; or why it has none."""
    reporting = deal["reporting_currency"]
    if deal["currency"] == reporting:
        return ""
    when = "the close" if deal["closed_at"] else "the build"
    if deal["amount_reporting"] is None:
        return f" (no {reporting} rate for {deal['currency'] or 'a deal without currency'} at {when})"
    return f" = {deal['amount_reporting']:,} {reporting} at {deal['fx_rate']:.6g} ({when})"
