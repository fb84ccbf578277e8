"""Google Analytics 4 BigQuery export (table ``events_YYYYMMDD``, as Parquet or JSON Lines) → click.

A GA4 property linked to BigQuery writes one row per event. A click on a share is a
``page_view`` whose page URL (event parameter ``page_location``) carries the first-party
tracking token of the share's tracked link (``?rlt=…`` by default), as in the first-party hit
log (web.py). Only ``page_view`` counts: GA4 fires ``session_start``, ``first_visit``,
``user_engagement``, ``scroll`` … on the same landing page with the same ``page_location``,
so counting them too would make one arrival several clicks (several touches in attribution).
Every other event, and page views without a token, are counted in the landing's notes and
not landed.

Both export encodings are read into one shape, so they map alike, row for row: Parquet
(nested fields are structs, ``event_params`` a list of structs) is turned into JSON per
nested column, JSON Lines is JSON already (BigQuery writes INT64 as JSON strings; numbers are
read too). Only the documented fields are read; ``user_id`` (the site's own user id, often
a CRM id or an email), ``geo``, ``items``, ``ecommerce`` … never are.

GA4 exports no event id. The click id is derived from what identifies a GA4 event (the
identity the dbt-ga4 package uses for its event key): stream, ``user_pseudo_id``,
``event_timestamp`` (microseconds), ``event_name`` and every event parameter (sorted, so
parameter order does not matter). Two exports of one day (a re-export after GA4's
late-arriving updates, Parquet beside JSON Lines) give the same rows the same ids and contents:
they land once. GA4's own duplicated rows (a known export quirk) are counted as duplicates.

GA4 exports no user agent: ``user_agent`` stays empty, the device description GA4 derived
from it goes to ``extra``; see docs/sources.md for what that means for the bot rules.
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

REQUIRED = ("event_timestamp", "event_name", "event_params", "user_pseudo_id")
# Top-level fields read when the export has them (the nested ones are read as JSON).
OPTIONAL_TEXT = ("stream_id",)
OPTIONAL_NESTED = ("device", "traffic_source", "collected_traffic_source")
CLICK_EVENT = "page_view"
UTM = {  # contract field → collected_traffic_source field, when the URL has no such parameter
    "utm_source": "manual_source",
    "utm_medium": "manual_medium",
    "utm_campaign": "manual_campaign_name",
    "utm_content": "manual_content",
}


def detect(path: Path) -> bool:
    if path.name.lower().endswith(".parquet"):
        return set(REQUIRED) <= set(_parquet_columns(path))
    return set(REQUIRED) <= first_json_keys(path)


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    if path.name.lower().endswith(".parquet"):
        _read_parquet(con, path)
    else:
        _read_jsonl(con, path)
    _extract(con, options.token_param)
    return Staged(selects={"click": _click_select()}, notes=_notes(con))


# --- reading: both encodings into _src_ga4_events -------------------------------------------
# _src_ga4_events(source_line, event_timestamp, event_name, user_pseudo_id, stream_id: text;
#                 event_params, device, traffic_source, collected_traffic_source: JSON)


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    present = set(_parquet_columns(path))
    _check_shape(path, present, "columns")
    text = [
        f"{c}::varchar as {c}" if c in present else f"null::varchar as {c}"
        for c in ("event_timestamp", "event_name", "user_pseudo_id", *OPTIONAL_TEXT)
    ]
    nested = [
        f"to_json({c}) as {c}" if c in present else f"null::json as {c}"
        for c in ("event_params", *OPTIONAL_NESTED)
    ]
    con.execute(
        f"""
        create or replace temp table _src_ga4_events as
        select file_row_number + 1 as source_line, {", ".join(text + nested)}
        from read_parquet({quote_str(str(path))}, file_row_number=true)
        """
    )


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    read_json_lines(con, path, "_src_ga4_lines")
    # A key is present when any line has it: BigQuery may leave out a field that is null.
    keys = con.execute(
        "select list(distinct k) from (select unnest(json_keys(doc)) as k from _src_ga4_lines)"
    ).fetchone()[0]
    _check_shape(path, set(keys or ()), "keys")
    text = [
        f"doc->>{quote_str('$.' + c)} as {c}"
        for c in ("event_timestamp", "event_name", "user_pseudo_id", *OPTIONAL_TEXT)
    ]
    nested = [f"doc->{quote_str('$.' + c)} as {c}" for c in ("event_params", *OPTIONAL_NESTED)]
    con.execute(
        f"""
        create or replace temp table _src_ga4_events as
        select source_line, {", ".join(text + nested)} from _src_ga4_lines;
        drop table _src_ga4_lines
        """
    )


def _check_shape(path: Path, present: set[str], kind: str) -> None:
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        # A real export has some 30 fields: name a few undocumented ones, a hint at a rename.
        unexpected = sorted(present - set(REQUIRED) - set(OPTIONAL_TEXT) - set(OPTIONAL_NESTED))
        shown = ", ".join(unexpected[:8]) + (", …" if len(unexpected) > 8 else "")
        hint = f"; unexpected: {shown}" if unexpected else ""
        raise SourceShapeError(f"{path.name}: missing {kind}: {', '.join(missing)}{hint}")


def _parquet_columns(path: Path) -> list[str]:
    try:
        with duckdb.connect() as con:
            return list(con.sql(f"select * from read_parquet({quote_str(str(path))}) limit 0").columns)
    except duckdb.Error:
        return []


# --- mapping --------------------------------------------------------------------------------


def _param(name: str) -> str:
    """SQL: the string value of event parameter ``name`` (page_location, page_referrer)."""
    return f"list_filter(params, lambda p: p->>'$.key' = {quote_str(name)})[1]->>'$.value.string_value'"


# An event's parameters as one text, for its id: 'key=value' sorted by key, numbers in one
# spelling whatever the encoding wrote (Parquet 0.1, JSON "0.1" or 1e-1).
PARAMS_TEXT = """array_to_string(list_sort(list_transform(params, lambda p: concat_ws('=', p->>'$.key',
    coalesce(p->>'$.value.string_value',
             try_cast(p->>'$.value.int_value' as bigint)::varchar,
             try_cast(p->>'$.value.float_value' as double)::varchar,
             try_cast(p->>'$.value.double_value' as double)::varchar)))), chr(31))"""


def _extract(con: duckdb.DuckDBPyConnection, token_param: str) -> None:
    """_src_ga4: one row per event, with the fields the mapping and the notes need."""
    con.execute(
        f"""
        create or replace temp table _src_ga4 as
        with events as (
            select * exclude (event_params), cast(event_params as json[]) as params
            from _src_ga4_events
        ),
        fields as (
            select *,
                   {_param("page_location")} as page_location,
                   {_param("page_referrer")} as page_referrer,
                   -- microseconds since the epoch, UTC; any other text is passed on to be
                   -- quarantined (try_cast would round '1.5' to 2)
                   case when regexp_full_match(trim(event_timestamp), '-?[0-9]+')
                        then trim(event_timestamp)::bigint end as micros
            from events
        )
        select source_line, event_name, nullif(trim(user_pseudo_id), '') as visitor_id,
               page_location, page_referrer, device, traffic_source, collected_traffic_source,
               rl_query_param(page_location, {quote_str(token_param)}) as token,
               coalesce(make_timestamptz(micros)::varchar, event_timestamp) as occurred_at,
               'ga4:' || md5(concat_ws(chr(31), coalesce(stream_id, ''), coalesce(user_pseudo_id, ''),
                                       coalesce(micros::varchar, event_timestamp, ''),
                                       coalesce(event_name, ''), coalesce({PARAMS_TEXT}, ''))) as click_id
        from fields;
        drop table _src_ga4_events
        """
    )


def _click_select() -> str:
    utm = ", ".join(
        f"coalesce(rl_query_param(page_location, {quote_str(field)}),"
        f" collected_traffic_source->>{quote_str('$.' + manual)}) as {field}"
        for field, manual in UTM.items()
    )
    return f"""
        select source_line, click_id, token as tracking_token, visitor_id, occurred_at,
               -- the query string can carry emails and session ids: only the page is kept
               rl_url_path(page_location) as landing_url, {utm},
               json_object(
                   'referrer', rl_url_path(page_referrer),
                   'device_category', device->>'$.category',
                   'operating_system', device->>'$.operating_system',
                   'browser', device->>'$.web_info.browser',
                   'browser_version', device->>'$.web_info.browser_version',
                   -- traffic_source is the user's first acquisition, not this visit's
                   'first_user_source', traffic_source->>'$.source',
                   'first_user_medium', traffic_source->>'$.medium',
                   'first_user_campaign', traffic_source->>'$.name'
               ) as extra
        from _src_ga4
        where event_name = {quote_str(CLICK_EVENT)} and token is not null and visitor_id is not null
    """


def _notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    other, untracked, anonymous, names = con.execute(
        f"""
        select count(*) filter (where event_name is distinct from {quote_str(CLICK_EVENT)}),
               count(*) filter (where event_name = {quote_str(CLICK_EVENT)} and token is null),
               count(*) filter (where event_name = {quote_str(CLICK_EVENT)} and token is not null
                                  and visitor_id is null),
               list(distinct coalesce(event_name, '(none)') order by coalesce(event_name, '(none)'))
                   filter (where event_name is distinct from {quote_str(CLICK_EVENT)})
        from _src_ga4
        """
    ).fetchone()
    notes = []
    if other:
        shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        notes.append(f"{other} events other than {CLICK_EVENT} ({shown}) are not clicks: skipped")
    if untracked:
        notes.append(
            f"{untracked} {CLICK_EVENT} events without a tracking token are page views, not clicks: skipped"
        )
    if anonymous:
        notes.append(
            f"{anonymous} {CLICK_EVENT} events with a token but no user_pseudo_id (consent denied:"
            " GA4 exports no visitor id) cannot be joined to anyone: skipped"
        )
    return notes


ADAPTER = Adapter(
    name="ga4",
    vendor="Google Analytics 4 (BigQuery export)",
    produces=("click",),
    stage=stage,
    detect=detect,
    summary="events_YYYYMMDD as Parquet or JSON Lines: page views whose page_location carries the token",
)
