"""Advocacy platform shares export (Haiilo, EveryoneSocial, GaggleAMP style CSV) → share, content.

One row per share of a content item by an employee. The platforms name their columns a little
differently; this adapter reads the common set below (header names are matched trimmed and
case-insensitively). Employee names and emails in the export are not read: the roster comes
from ``employee`` events, and a share needs only the employee's id.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters.base import Adapter, Options, Staged, csv_has_columns, read_csv_strict

REQUIRED = ("employee id", "network", "post url", "shared at", "tracked link")
OPTIONAL = (
    "share id",
    "time zone",
    "content id",
    "content title",
    "content url",
    "content published at",
    "campaign",
)

# Platform spellings of a network → the contract's enumeration. Anything else is left as
# written, so that the contract check quarantines it instead of guessing.
NETWORK_ALIASES = {
    "linkedin": "linkedin",
    "x": "twitter",
    "twitter": "twitter",
    "x (twitter)": "twitter",
    "x/twitter": "twitter",
    "facebook": "facebook",
    "xing": "xing",
    "instagram": "instagram",
}


def detect(path: Path) -> bool:
    return csv_has_columns(path, REQUIRED)


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    found = read_csv_strict(con, path, "_src_adv", required=REQUIRED, optional=OPTIONAL)
    aliases = ", ".join(f"({quote_str(k)}, {quote_str(v)})" for k, v in NETWORK_ALIASES.items())
    tz = quote_str(options.tz)
    con.execute(
        f"""
        create or replace temp table _src_adv_rows as
        select a.*,
               coalesce(n.network, lower(trim(a.network))) as network_code,
               coalesce(nullif(trim(a."time zone"), ''), {tz}) as zone
        from _src_adv a
        left join (values {aliases}) n(alias, network) on n.alias = lower(trim(a.network))
        """
    )
    selects = {
        "share": f"""
            select source_line,
                   -- the post's own id, as every source names it (rl_post_id)
                   rl_post_id("post url") as share_id,
                   'employee' as author_type,
                   "employee id" as author_id,
                   network_code as network,
                   rl_time("shared at", zone) as posted_at,
                   rl_query_param("tracked link", {quote_str(options.token_param)}) as tracking_token,
                   "content id" as content_id,
                   json_object('vendor_share_id', "share id", 'campaign', campaign,
                               'tracked_link', rl_url_path("tracked link")) as extra
            from _src_adv_rows
        """
    }
    if {"content id", "content url", "content published at"} <= found:
        # Every share repeats its content item; the repeats are exact duplicates and are
        # counted as such by the landing, so the ledger still reconciles with the file.
        selects["content"] = f"""
            select source_line, "content id" as content_id, "content url" as url,
                   rl_time("content published at", {tz}) as published_at,
                   "content title" as title, campaign
            from _src_adv_rows where nullif(trim("content id"), '') is not null
        """
    return Staged(selects=selects)


ADAPTER = Adapter(
    name="advocacy_shares",
    vendor="Advocacy platform (Haiilo, EveryoneSocial, GaggleAMP style)",
    produces=("content", "share"),
    stage=stage,
    detect=detect,
    summary="CSV of employee shares: employee, post URL, network, shared at, tracked link",
)
