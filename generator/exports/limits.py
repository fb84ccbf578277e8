"""What the vendor exports cannot say about the synthetic company, as adjustments of its events.

The exports (generator/exports/) render the company through real vendor formats, and some facts
the contract files carry have no place in them: GA4 drops known bots, no LinkedIn pull lists who
reshared a post, a Connections.csv is dated by its day, HubSpot dates a deal's contacts at its
creation. Each limit below turns the generator's events into the events the exports do record.
The exports are always rendered from the events with every limit applied; ``generate(...,
vendor_limits=...)`` applies the named ones to DIR/landing too, so that contract files and
exports land to the same marts (tests/test_exports_lossless.py compares them).

Limits only drop, blank, re-date or re-shape events. Every row kept keeps its ids and its
printed offset; rows added (a network size per audience export, a deal's first contact as an
association) get offsets from their own random stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import DAY
from generator.events import Events, LazyEvents, draw_offsets, month_of
from generator.ids import stream
from generator.names import BOT_USER_AGENTS

# name → (event types it changes, why the exports cannot say it). The order is the order of
# application: network sizes are added at each audience export before snapshots are dated.
VENDOR_LIMITS: dict[str, tuple[str, str]] = {
    "bot_clicks": (
        "click",
        "GA4 drops the hits of known bots and spiders before the export, and exports no user agent",
    ),
    "reshare_engagements": (
        "engagement",
        "the linkedin format reads reactions and comments: no pull it reads lists who reshared a post",
    ),
    "repeat_reactions": (
        "engagement",
        "a LinkedIn member reacts to a post once (reacting again replaces the reaction: one reaction"
        " id per member and post); the generator lets a member react twice",
    ),
    "x_engagements": ("engagement", "no export format carries who liked, replied to or reposted an X post"),
    "x_network_sizes": ("employee", "no export format carries an X follower count"),
    "member_post_clicks": (
        "share_metrics",
        "a member's own post analytics count no link clicks (the marts take the tracked clicks instead)",
    ),
    "page_post_content": (
        "share",
        "a LinkedIn page post names its article URL, not a content id, and nothing matches the two",
    ),
    "content_topic": ("content", "the advocacy shares export has no topic column"),
    "unshared_contents": (
        "content",
        "a content item reaches the advocacy shares export only with a share of it by an employee",
    ),
    "export_network_sizes": (
        "employee",
        "a Connections.csv always counts the network: each audience export is a network-size snapshot too",
    ),
    "snapshot_days": (
        "employee, audience",
        "a Connections.csv is dated by its day (LinkedIn's archive name): network sizes and audiences"
        " are observed at midnight UTC",
    ),
    "crm_deal_records": (
        "deal",
        "HubSpot associates contacts with a deal as of its Create Date (none on the creation itself),"
        " records no change when an amount is set to the value it has, and a closed deal's closing"
        " carries its amount, lost or won",
    ),
    "program_health_audits": (
        "profile_snapshot, company_presence, program_goal",
        "SSI and profile snapshots, competitor audits and program goals are collected by hand and land"
        " as contract files: no vendor format here carries them",
    ),
}


def check_limits(names: Iterable[str]) -> tuple[str, ...]:
    """The named limits in their order of application; an unknown name fails."""
    names = set(names)
    unknown = names - set(VENDOR_LIMITS)
    if unknown:
        raise ValueError(f"unknown vendor limits {sorted(unknown)} (known: {', '.join(VENDOR_LIMITS)})")
    return tuple(n for n in VENDOR_LIMITS if n in names)


def as_exported(name: str, ev: Events | LazyEvents, world, limits: Iterable[str]) -> Events | LazyEvents:
    """Event type ``name`` with the given limits applied."""
    for limit in check_limits(limits):
        if name in VENDOR_LIMITS[limit][0].split(", "):
            ev = _ADJUST[limit](ev, world)
    return ev


# --- helpers ----------------------------------------------------------------------------------


def _keep(ev: Events, mask: pa.Array | pa.ChunkedArray | np.ndarray) -> Events:
    """The rows where ``mask`` holds, with their times and printed offsets."""
    if isinstance(mask, pa.Array | pa.ChunkedArray):
        mask = mask.to_numpy(zero_copy_only=False)
    mask = np.asarray(mask, dtype=bool)
    return Events(ev.name, ev.table.filter(pa.array(mask)), ev.time[mask], ev.offset[mask])


def _with_column(ev: Events, column: str, values: pa.Array | pa.ChunkedArray) -> Events:
    table = ev.table.set_column(ev.table.column_names.index(column), column, values)
    return Events(ev.name, table, ev.time, ev.offset)


def _blank_where(ev: Events, column: str, where: pa.Array | pa.ChunkedArray) -> Events:
    col = ev.table[column]
    return _with_column(ev, column, pc.if_else(where, pa.scalar(None, col.type), col))


def _employee_share_ids(world) -> pa.Array:
    return world.shares.share_id.filter(pa.array(world.shares.author >= 0))


def _x_share_ids(world) -> pa.Array:
    return world.shares.share_id.filter(pa.array(world.shares.network == "twitter"))


def _floor_day(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    secs = pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False)
    return pa.array(secs // DAY * DAY, pa.int64()).cast(pa.timestamp("s", tz="UTC"))


def _sorted(ev: Events, keys: list[str]) -> Events:
    order = pc.sort_indices(ev.table, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    return Events(ev.name, ev.table.take(pa.array(order)), ev.time[order], ev.offset[order])


def _appended(ev: Events, rows: pa.Table, time: np.ndarray, rng: np.random.Generator) -> Events:
    """``ev`` and new rows (any missing field null), each new row printed with an offset drawn
    from ``rng``."""
    n = rows.num_rows
    columns = [rows[c] if c in rows.column_names else pa.nulls(n, ev.table.schema.field(c).type)
               for c in ev.table.column_names]
    added = pa.Table.from_arrays(columns, schema=ev.table.schema)
    offset = np.concatenate([ev.offset, draw_offsets(rng, n)])
    return Events(ev.name, pa.concat_tables([ev.table, added]), np.concatenate([ev.time, time]), offset)


# --- the limits -------------------------------------------------------------------------------


def _bot_clicks(ev: Events, world) -> Events:
    bots = pc.is_in(ev.table["user_agent"], value_set=pa.array(BOT_USER_AGENTS))
    return _keep(ev, pc.invert(bots))


def _reshare_engagements(ev: Events, world) -> Events:
    return _keep(ev, pc.not_equal(ev.table["engagement_type"], "reshare"))


def _repeat_reactions(ev: Events, world) -> Events:
    # Events are in time order: a member's first reaction to a post is the one kept.
    df = ev.table.select(["share_id", "actor_id", "engagement_type"]).to_pandas()
    repeat = (df["engagement_type"] == "reaction") & df.duplicated(list(df.columns))
    return _keep(ev, ~repeat.to_numpy())


def _x_engagements(ev: Events, world) -> Events:
    return _keep(ev, pc.invert(pc.is_in(ev.table["share_id"], value_set=_x_share_ids(world))))


def _x_network_sizes(ev: Events, world) -> Events:
    return _keep(ev, pc.not_equal(ev.table["network"], "twitter"))


def _member_post_clicks(ev: Events, world) -> Events:
    employees = pc.is_in(ev.table["share_id"], value_set=_employee_share_ids(world))
    return _blank_where(ev, "clicks", employees)


def _page_post_content(ev: Events, world) -> Events:
    return _blank_where(ev, "content_id", pc.equal(ev.table["author_type"], "page"))


def _content_topic(ev: Events, world) -> Events:
    return _blank_where(ev, "topic", pa.array(np.ones(len(ev), dtype=bool)))


def _unshared_contents(ev: Events, world) -> Events:
    s = world.shares
    shared = np.unique(s.content[(s.author >= 0) & (s.content >= 0)])
    ids = world.contents.content_id.take(pa.array(shared, pa.int64()))
    return _keep(ev, pc.is_in(ev.table["content_id"], value_set=ids))


def _audience_exports(world) -> pd.DataFrame:
    """One row per audience export of the generator: employee_id, employee (its index),
    observed_at (epoch seconds, as generated)."""
    aud = world.build["audience"]()
    rows = aud.take(np.arange(len(aud)))
    exports = pd.DataFrame(
        {
            "employee_id": rows["employee_id"].to_numpy(zero_copy_only=False),
            "observed_at": pc.cast(rows["observed_at"], pa.int64()).to_numpy(),
        }
    ).drop_duplicates(ignore_index=True)
    at = pc.index_in(pa.array(exports["employee_id"], pa.string()), value_set=world.company.employee_id)
    exports["employee"] = at.to_numpy(zero_copy_only=False)
    return exports


def _export_network_sizes(ev: Events, world) -> Events:
    exports = _audience_exports(world)
    t = exports["observed_at"].to_numpy()
    # The export counts the connections the audience export lists them from: the network's
    # size at the start of the export's month (people.audience_events).
    size = world.company.size_by_month[exports["employee"].to_numpy(), month_of(t)]
    rows = pa.table(
        {
            "employee_id": pa.array(exports["employee_id"], pa.string()),
            "observed_at": pa.array(t, pa.int64()).cast(pa.timestamp("s", tz="UTC")),
            "network": pa.array(["linkedin"] * len(t), pa.string()),
            "network_size": pa.array(size, pa.int64()),
        }
    )
    added = _appended(ev, rows, t, stream(world.seed, "vendor_limits:export_network_sizes"))
    return _sorted(added, ["observed_at", "employee_id", "network"])


def _snapshot_days(ev: Events | LazyEvents, world) -> Events | LazyEvents:
    if isinstance(ev, LazyEvents):
        columns = ev.columns

        def floored(rows: np.ndarray) -> dict[str, object]:
            cols = dict(columns(rows))
            cols["observed_at"] = np.asarray(cols["observed_at"], dtype=np.int64) // DAY * DAY
            return cols

        return LazyEvents(ev.name, ev.n, ev.month, ev.offset, floored)
    table = ev.table.set_column(
        ev.table.column_names.index("observed_at"), "observed_at", _floor_day(ev.table["observed_at"])
    )
    return Events(ev.name, table, ev.time // DAY * DAY, ev.offset)


def _crm_deal_records(ev: Events, world) -> Events:
    """Deal events as HubSpot's export folder lands them (hubspot.py, crm.py): the creation
    carries no contact, every contact is a contact_added at the Create Date, an amount "changed"
    to the value it had is no event, and a closing carries the deal's amount and currency
    whether won or lost."""
    df = ev.table.to_pandas()
    df["_time"], df["_offset"], df["_new"] = ev.time, ev.offset, False
    # An amount set to the value it has is no change: HubSpot records no version of it.
    priced = df[df["event"].isin(["created", "amount_changed"])].sort_values("_time", kind="stable")
    before = priced.groupby("deal_id")["amount"].shift()
    unchanged = priced.index[(priced["event"] == "amount_changed") & (priced["amount"] == before)]
    df = df.drop(index=unchanged)
    created = df[df["event"] == "created"].set_index("deal_id")
    at_creation = df["deal_id"].map(created["occurred_at"])
    df.loc[df["event"] == "contact_added", "occurred_at"] = at_creation
    df.loc[df["event"] == "contact_added", "_time"] = df["deal_id"].map(created["_time"])
    # The amount a deal stands at when it closes lost: its latest amount before the closing.
    with_amount = df[df["amount"].notna() & (df["event"] != "closed_lost")].sort_values("occurred_at")
    latest = with_amount.groupby("deal_id")["amount"].last()
    lost = df["event"] == "closed_lost"
    df.loc[lost, "amount"] = df.loc[lost, "deal_id"].map(latest)
    df.loc[lost, "currency"] = df.loc[lost, "deal_id"].map(created["currency"])
    first = created.reset_index()
    first = first[["deal_id", "deal_event_id", "occurred_at", "contact_email", "_time"]].copy()
    first["deal_event_id"] = first["deal_event_id"] + "-contact"
    first["event"], first["_new"] = "contact_added", True
    df.loc[df["event"] == "created", "contact_email"] = None
    df = pd.concat([df, first], ignore_index=True)
    new = df["_new"].to_numpy()
    rng = stream(world.seed, "vendor_limits:crm_deal_records")
    df.loc[new, "_offset"] = draw_offsets(rng, int(new.sum()))
    rank = df["event"].map({"created": 0, "contact_added": 1}).fillna(2)
    df = df.assign(_rank=rank).sort_values(["_time", "deal_id", "_rank", "deal_event_id"], kind="stable")
    table = pa.Table.from_pandas(df[ev.table.column_names], schema=ev.table.schema, preserve_index=False)
    return Events(ev.name, table, df["_time"].to_numpy(np.int64), df["_offset"].to_numpy(np.int8))


_ADJUST: dict[str, Callable] = {
    "bot_clicks": _bot_clicks,
    "reshare_engagements": _reshare_engagements,
    "repeat_reactions": _repeat_reactions,
    "x_engagements": _x_engagements,
    "x_network_sizes": _x_network_sizes,
    "member_post_clicks": _member_post_clicks,
    "page_post_content": _page_post_content,
    "content_topic": _content_topic,
    "unshared_contents": _unshared_contents,
    "export_network_sizes": _export_network_sizes,
    "snapshot_days": _snapshot_days,
    "crm_deal_records": _crm_deal_records,
    "program_health_audits": lambda ev, world: _keep(ev, np.zeros(len(ev), dtype=bool)),
}
