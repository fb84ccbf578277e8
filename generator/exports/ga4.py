"""Visits from tracked links as Google Analytics 4 exports them to BigQuery (``ga4``): the
``events_*`` tables of each month, extracted as Parquet or as JSON Lines (months alternate).

Each tracked click is a ``page_view`` whose ``page_location`` is the landing page with its UTMs
and the token; the site's GA4 tag runs with our first-party visitor id as its client id, so
``user_pseudo_id`` is the id forms submit. Around it, what GA4 records besides: the
``session_start`` (and for new visitors ``first_visit``) of the arrival, a ``user_engagement``,
a second page viewed without a token, and now and then a tokened page view from a visitor who
denied analytics consent (no ``user_pseudo_id``). None of those are clicks. Bots never reach
the export (GA4 drops known bots); the limit ``bot_clicks`` leaves them out of the events.

Dirt: some rows exported twice (a known quirk of the export), and in the JSON Lines months a
few page views whose timestamp is no number (quarantined).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.exports import vendor_ids
from generator.exports.files import month_key, strftime
from generator.exports.posts import content_titles
from generator.exports.world import World
from generator.ids import stream
from generator.names import HUMAN_USER_AGENTS

STREAM_ID = "4812345678"
# What GA4 derives from each human user agent (generator/names.py HUMAN_USER_AGENTS).
DEVICES = (
    ("desktop", "Windows", "Chrome", "124.0.0.0"),
    ("desktop", "Macintosh", "Safari", "17.4"),
    ("mobile", "iOS", "Safari", "17.4"),
    ("mobile", "Android", "Chrome", "124.0.0.0"),
    ("desktop", "Windows", "Firefox", "125.0"),
    ("desktop", "Windows", "Edge", "124.0.0.0"),
)


def write_ga4(world: World, root: Path, ids: vendor_ids.IdMap) -> dict[str, int]:
    con = duckdb.connect()
    con.execute("set threads = 1")  # the rows' order, hence the files' bytes, stay the same
    con.register("clicks", _clicks(world))
    con.execute(_EVENTS)
    mapped = con.sql("select click_id, ga4_click_id from tracked").to_arrow_table()
    ids.add("click", mapped["click_id"], mapped["ga4_click_id"])
    written = {}
    for i, (month,) in enumerate(con.execute("select distinct month from events order by 1").fetchall()):
        stamp = month.replace("-", "")
        if i % 2 == 0:  # Parquet; BigQuery's INT64 stays an integer, so no broken timestamp
            name = f"events_{stamp}.parquet"
            con.execute(
                f"copy (select {_COLUMNS} from events where month = ? and not broken order by ord)"
                f" to '{root / name}' (format parquet, compression zstd)",
                [month],
            )
            [(written[name],)] = con.execute(
                "select count(*) from events where month = ? and not broken", [month]
            ).fetchall()
        else:
            name = f"events_{stamp}.jsonl"
            lines = con.execute(_JSON_LINES, [month]).fetchall()
            (root / name).write_text("".join(line + "\n" for (line,) in lines))
            written[name] = len(lines)
    con.close()
    return written


def _clicks(world: World) -> pa.Table:
    """One row per click, with what GA4 records of it and which dirt it comes with."""
    ev = world.exported("click")
    c, t, n = ev.table, ev.time, len(ev)
    rng = stream(world.seed, "exports:ga4")
    share = world.share_index(_token_shares(world, c["tracking_token"]))
    ua = pc.fill_null(pc.index_in(c["user_agent"], value_set=pa.array(HUMAN_USER_AGENTS)), 0)
    device = np.asarray(DEVICES, dtype=object)[ua.to_numpy(zero_copy_only=False).astype(np.int64)]
    content = world.shares.content[share]
    title = content_titles(world).take(pa.array(np.maximum(content, 0)))
    separator = pc.if_else(pc.match_substring(c["landing_url"], "?"), "&rlt=", "?rlt=")
    months = month_key(t)
    # broken copies go to the JSON Lines months (every other month, from the second)
    month_text = months.to_numpy(zero_copy_only=False)
    in_json = np.flatnonzero(np.isin(month_text, np.unique(month_text)[1::2]))
    broken = np.zeros(n, dtype=bool)
    broken[rng.choice(in_json, min(len(in_json), max(1, round(0.0005 * n))), replace=False)] = True
    duplicated = np.zeros(n, dtype=bool)
    duplicated[rng.choice(n, min(n, max(2, round(world.scale.duplicate_rate * n))), replace=False)] = True
    return pa.table({
        "click_id": c["click_id"],
        "visitor": c["visitor_id"],
        "micros": pa.array(t * 1_000_000),
        "month": months,
        "day": strftime(t, "%Y%m%d"),
        "landing_url": c["landing_url"],
        "page_location": pc.binary_join_element_wise(c["landing_url"], separator, c["tracking_token"], ""),
        "page_referrer": c["referrer"],
        "page_title": pc.if_else(pa.array(content >= 0), title, "Acme"),
        "session_number": pa.array(1 + rng.integers(0, 5, n)),
        "first_visit": pa.array(rng.random(n) < 0.6),
        "denied": pa.array(rng.random(n) < 0.005),
        "duplicated": pa.array(duplicated),
        "broken": pa.array(broken),
        "device_category": pa.array(device[:, 0], pa.string()),
        "os": pa.array(device[:, 1], pa.string()),
        "browser": pa.array(device[:, 2], pa.string()),
        "browser_version": pa.array(device[:, 3], pa.string()),
        "utm_source": c["utm_source"],
        "utm_medium": c["utm_medium"],
        "utm_campaign": c["utm_campaign"],
    })


def _token_shares(world: World, tokens: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The share id of each click's token."""
    at = pc.index_in(tokens, value_set=world.shares.token)
    return world.shares.share_id.take(at)


# One row per event GA4 exports, with its click id where it is a click (the adapter's: 'ga4:' +
# MD5 of stream, client, microseconds, name and the sorted parameters, ingestion/adapters/ga4.py).
_EVENTS = f"""
create temp table tracked as
with p as (
    select *, [
        {{'key': 'page_location', 'value': {{'string_value': page_location, 'int_value': null::bigint}}}},
        {{'key': 'page_title', 'value': {{'string_value': page_title, 'int_value': null::bigint}}}},
        {{'key': 'ga_session_id',
          'value': {{'string_value': null::varchar, 'int_value': micros // 1000000}}}},
        {{'key': 'ga_session_number',
          'value': {{'string_value': null::varchar, 'int_value': session_number}}}}
    ] || case when page_referrer is null then [] else [
        {{'key': 'page_referrer', 'value': {{'string_value': page_referrer, 'int_value': null::bigint}}}}
    ] end as params
    from clicks
)
select *, 'ga4:' || md5(concat_ws(chr(31), '{STREAM_ID}', visitor, micros::varchar, 'page_view',
    array_to_string(list_sort(list_transform(params, lambda x: concat_ws('=', x.key,
        coalesce(x.value.string_value, x.value.int_value::varchar)))), chr(31)))) as ga4_click_id
from p;

create temp table events as
with kinds as (
    -- the click, GA4's own events around it, a page viewed next, a consent-denied arrival,
    -- the click exported twice, a copy of it whose timestamp is broken (JSON months only)
    select *, 'page_view' as event_name, micros as ts, visitor as client, params as ps, 2 as step from tracked
    union all
    select *, 'session_start', micros - 1, visitor, params, 0 from tracked
    union all
    select *, 'first_visit', micros - 2, visitor, params, -1 from tracked where first_visit
    union all
    select *, 'user_engagement', micros + 15000000, visitor,
           [{{'key': 'engagement_time_msec', 'value': {{'string_value': null::varchar, 'int_value': 15000}}}},
            params[3]], 3 from tracked
    union all
    select *, 'page_view', micros + 40000000, visitor,
           [{{'key': 'page_location',
             'value': {{'string_value': split_part(landing_url, '?', 1), 'int_value': null::bigint}}}},
            params[3]], 4 from tracked
    union all
    select *, 'page_view', micros + 7, null, params, 5 from tracked where denied
    union all
    select *, 'page_view', micros, visitor, params, 6 from tracked where duplicated
    union all
    select *, 'page_view', micros + 3, visitor, params, 7 from tracked where broken
)
select month, day, event_name, ts, client, ps, step = 7 as broken,
       device_category, os, browser, browser_version, utm_source, utm_medium, utm_campaign,
       row_number() over (order by ts, client, step, ga4_click_id) as ord
from kinds
"""

_COLUMNS = """
    day as event_date, ts as event_timestamp, event_name, ps as event_params, client as user_pseudo_id,
    '""" + STREAM_ID + """' as stream_id,
    {'category': device_category, 'operating_system': os,
     'web_info': {'browser': browser, 'browser_version': browser_version, 'hostname': 'acme.example'}}
        as device,
    {'name': '(referral)', 'medium': 'referral', 'source': 'linkedin.com'} as traffic_source,
    {'manual_source': utm_source, 'manual_medium': utm_medium, 'manual_campaign_name': utm_campaign}
        as collected_traffic_source
"""

# BigQuery's JSON export writes INT64 as strings.
_JSON_LINES = """
select to_json({
    'event_date': day,
    'event_timestamp': case when broken then (ts / 1000000.0)::varchar || 'e6' else ts::varchar end,
    'event_name': event_name,
    'event_params': list_transform(ps, lambda x: {'key': x.key, 'value': {
        'string_value': x.value.string_value, 'int_value': x.value.int_value::varchar}}),
    'user_pseudo_id': client, 'stream_id': '""" + STREAM_ID + """',
    'device': {'category': device_category, 'operating_system': os,
               'web_info': {'browser': browser, 'browser_version': browser_version,
                            'hostname': 'acme.example'}},
    'traffic_source': {'name': '(referral)', 'medium': 'referral', 'source': 'linkedin.com'},
    'collected_traffic_source': {'manual_source': utm_source, 'manual_medium': utm_medium,
                                 'manual_campaign_name': utm_campaign}
})::varchar
from events where month = ? order by ord
"""
