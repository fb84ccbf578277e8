"""Web analytics hit log (first-party collector export, CSV) → click.

A hit is a click on a share when the page URL carries the first-party tracking token that the
share's tracked link added (``?rlt=…`` by default). Hits without a token are ordinary page
views, not clicks: they are counted in the landing's notes and not landed. UTM parameters are
kept as the visitor's browser sent them, but never trusted for attribution (browsers and
in-app webviews strip them); the token is what joins a click to a share.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters.base import Adapter, Options, Staged, csv_has_columns, read_csv_strict

REQUIRED = ("event_id", "event_time", "visitor_id", "page_url")
OPTIONAL = ("user_agent", "referrer", "event_name")


def detect(path: Path) -> bool:
    return csv_has_columns(path, REQUIRED)


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    read_csv_strict(con, path, "_src_web", required=REQUIRED, optional=OPTIONAL)
    token = quote_str(options.token_param)
    con.execute(
        f"create or replace temp table _src_web_hits as"
        f" select *, rl_query_param(page_url, {token}) as token from _src_web"
    )
    untracked = con.execute("select count(*) from _src_web_hits where token is null").fetchone()[0]
    notes = [f"{untracked} hits without a tracking token are page views, not clicks: skipped"]
    utm = ", ".join(
        f"rl_query_param(page_url, {quote_str(p)}) as {p}"
        for p in ("utm_source", "utm_medium", "utm_campaign", "utm_content")
    )
    select = f"""
        select source_line, event_id as click_id, token as tracking_token, visitor_id,
               rl_time(event_time, {quote_str(options.tz)}) as occurred_at, user_agent,
               -- the query string can carry emails and session ids: only the page is kept
               rl_url_path(page_url) as landing_url, {utm},
               json_object('referrer', rl_url_path(referrer), 'event_name', event_name) as extra
        from _src_web_hits where token is not null
    """
    return Staged(selects={"click": select}, notes=notes if untracked else [])


ADAPTER = Adapter(
    name="web_clicks",
    vendor="Web analytics hit log (first-party collector)",
    produces=("click",),
    stage=stage,
    detect=detect,
    summary="CSV of page hits: event id, time, first-party visitor id, page URL with UTMs and token",
)
