"""Segment messages (JSON Lines, one message per line) → click.

The shape Segment's S3 destination, its warehouse loads and webhook archives deliver: one
``page`` / ``track`` / ``identify`` / … call per line, as Segment processed it (RudderStack
follows the same spec, untested here). A click on a share is a message whose URL carries the
first-party tracking token (``?rlt=…`` by default), as in the first-party hit log (web.py):

- ``page`` messages: a page view on arrival;
- ``track`` messages named in the option ``track_events`` (default ``Deep Link Opened``, the
  mobile spec's arrival through a link). Other track events on a tracked page (a button
  clicked, a video played) carry the same page URL: counting them would make one arrival
  several clicks, several touches in attribution. They are skipped and counted.

``identify``, ``group``, ``alias`` and ``screen`` messages are counted and skipped; nothing in
them is read but their type (identify traits hold names and emails). ``userId`` is never
read: it may be an email or a CRM id; the visitor is ``anonymousId``, the cookie id that
forms can submit too. ``context.traits``, ``context.ip`` and ``properties`` other than
``url`` and ``referrer`` are not read either.

The event time is ``timestamp``: Segment's docs name it the time the call happened,
corrected for the device's clock skew (``originalTimestamp`` is the device's clock, ``sentAt``
and ``receivedAt`` are transport times).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters.base import (
    Adapter,
    Options,
    SourceShapeError,
    Staged,
    first_json_keys,
    read_json_lines,
)

REQUIRED = ("type", "messageId")
TYPES = ("page", "track", "identify", "screen", "group", "alias")
DEFAULT_TRACK_EVENTS = "Deep Link Opened"
UTM = {  # contract field → context.campaign field, when the URL has no such parameter
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "name",
    "utm_content": "content",
}


def detect(path: Path) -> bool:
    keys = first_json_keys(path)
    return set(REQUIRED) <= keys and bool(keys & {"anonymousId", "userId"})


def track_events(options: Options) -> list[str]:
    """The track event names that are arrivals: option ``track_events``, names separated by
    ``|`` (``segment:track_events=Deep Link Opened|Link Opened``); empty: none."""
    text = options.get("track_events", DEFAULT_TRACK_EVENTS) or ""
    return [name.strip() for name in text.split("|") if name.strip()]


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    read_json_lines(con, path, "_src_seg_lines")
    _check_shape(con, path)
    _extract(con, options.token_param, track_events(options))
    return Staged(selects={"click": _click_select(options.tz)}, notes=_notes(con))


def _check_shape(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Every line is a Segment message: it has a type and a messageId, and a known type."""
    missing = {
        key: con.execute(
            f"select list(source_line order by source_line) from _src_seg_lines"
            f" where (doc->>{quote_str('$.' + key)}) is null"
        ).fetchone()[0]
        for key in REQUIRED
    }
    if any(missing.values()):
        where = "; ".join(f"{k!r} on line(s) {', '.join(map(str, v[:5]))}" for k, v in missing.items() if v)
        raise SourceShapeError(f"{path.name}: missing keys: {where}")
    known = ", ".join(quote_str(t) for t in TYPES)
    unknown = con.execute(
        f"select list(distinct doc->>'$.type') from _src_seg_lines where (doc->>'$.type') not in ({known})"
    ).fetchone()[0]
    if unknown:
        raise SourceShapeError(
            f"{path.name}: unknown message type(s) {', '.join(map(repr, sorted(unknown)))}"
            f" (known: {', '.join(TYPES)})"
        )


def _extract(con: duckdb.DuckDBPyConnection, token_param: str, arrivals: list[str]) -> None:
    """_src_seg: one row per message; fields are read from page and track messages only."""
    arrival_names = "[" + ", ".join(quote_str(n) for n in arrivals) + "]::varchar[]"
    campaign = ", ".join(
        f"doc->>{quote_str('$.context.campaign.' + f)} as campaign_{f}" for f in UTM.values()
    )
    con.execute(
        f"""
        create or replace temp table _src_seg as
        with typed as (
            select source_line, doc->>'$.type' as type, doc from _src_seg_lines
        ),
        calls as (
            -- page and track messages only: other types are never read beyond their type
            select source_line, type, doc->>'$.messageId' as message_id,
                   nullif(trim(doc->>'$.anonymousId'), '') as visitor_id,
                   doc->>'$.timestamp' as event_time, doc->>'$.event' as event,
                   coalesce(doc->>'$.properties.url', doc->>'$.context.page.url') as url,
                   coalesce(doc->>'$.properties.referrer', doc->>'$.context.page.referrer') as referrer,
                   doc->>'$.context.userAgent' as user_agent, {campaign}
            from typed where type in ('page', 'track')
        )
        select typed.source_line, typed.type, calls.* exclude (source_line, type),
               rl_query_param(calls.url, {quote_str(token_param)}) as token,
               coalesce(typed.type = 'page' or list_contains({arrival_names}, calls.event), false)
                   as is_arrival
        from typed left join calls using (source_line);
        drop table _src_seg_lines
        """
    )


def _click_select(tz: str) -> str:
    utm = ", ".join(
        f"coalesce(rl_query_param(url, {quote_str(field)}), campaign_{campaign}) as {field}"
        for field, campaign in UTM.items()
    )
    return f"""
        select source_line, 'segment:' || message_id as click_id, token as tracking_token, visitor_id,
               -- Segment writes ISO 8601 with Z; tz= only matters for a time without offset
               rl_time(event_time, {quote_str(tz)}) as occurred_at, user_agent,
               -- the query string can carry emails and session ids: only the page is kept
               rl_url_path(url) as landing_url, {utm},
               json_object('referrer', rl_url_path(referrer), 'message_type', type, 'event', event) as extra
        from _src_seg
        where is_arrival and token is not null and visitor_id is not null
    """


def _notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    by_type, untracked, other_track, anonymous = con.execute(
        """
        select (select list(type || ': ' || n order by type) from (
                    select type, count(*) as n from _src_seg
                    where type not in ('page', 'track') group by type)),
               count(*) filter (where is_arrival and token is null),
               count(*) filter (where type = 'track' and not is_arrival),
               count(*) filter (where is_arrival and token is not null and visitor_id is null)
        from _src_seg
        """
    ).fetchone()
    notes = []
    if by_type:
        notes.append(f"messages of other types ({', '.join(by_type)}): not read beyond their type, skipped")
    if untracked:
        notes.append(f"{untracked} page views without a tracking token are not clicks: skipped")
    if other_track:
        notes.append(
            f"{other_track} track events not named in track_events are events on a page,"
            " not arrivals: skipped"
        )
    if anonymous:
        notes.append(
            f"{anonymous} messages with a token but no anonymousId (a userId alone is never stored): skipped"
        )
    return notes


ADAPTER = Adapter(
    name="segment",
    vendor="Segment (S3 / warehouse / webhook archive of page and track calls)",
    produces=("click",),
    stage=stage,
    detect=detect,
    summary="JSON Lines of Segment messages: page (and arrival track) calls whose URL carries the token",
    options=("track_events",),
)
