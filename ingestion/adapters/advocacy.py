"""Advocacy platform exports (Haiilo, EveryoneSocial, Sprout Social, GaggleAMP style CSV).

Two formats, one per kind of export the platforms offer:

* ``advocacy_shares`` — the shares export: one row per share of a content item by an
  employee → share, content.
* ``advocacy_report`` — the share report *with metrics*: the same rows plus the clicks,
  reactions, comments (reshares, impressions, "potential reach") the platform counted by the
  report's date → share_metrics, and share and content where the report carries what they
  need.

A file with the report's metric columns is a report, never a shares export: detection sends
it to ``advocacy_report`` only (landed as shares, its metrics would be silently dropped).
Header names are matched trimmed and case-insensitively. Employee names and emails in either
export are not read: the roster comes from ``employee`` events, a share needs only the
employee's id.
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
    csv_has_columns,
    csv_header,
    file_name,
    read_csv_strict,
)
from ingestion.adapters.columns import (
    date_in_name,
    header_key,
    read_fields,
    resolve_columns,
    snapshot_time,
)

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


# --- shared by both formats -----------------------------------------------------------------


def add_network_and_zone(con: duckdb.DuckDBPyConnection, source: str, table: str, options: Options) -> None:
    """Temp ``table``: ``source``'s rows with ``network_code`` (the contract's network) and
    ``zone`` (the row's time zone, else ``tz=``)."""
    aliases = ", ".join(f"({quote_str(k)}, {quote_str(v)})" for k, v in NETWORK_ALIASES.items())
    con.execute(
        f"""
        create or replace temp table {table} as
        select a.*,
               coalesce(n.network, lower(trim(a.network))) as network_code,
               coalesce(nullif(trim(a."time zone"), ''), {quote_str(options.tz)}) as zone
        from {source} a
        left join (values {aliases}) n(alias, network) on n.alias = lower(trim(a.network))
        """
    )


def share_select(table: str, options: Options) -> str:
    """``share`` from the rows of either export (columns under the shares export's names)."""
    return f"""
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
        from {table}
    """


def content_select(table: str, options: Options) -> str:
    """``content`` from the rows of either export. Every share repeats its content item; the
    repeats are exact duplicates and are counted as such by the landing, so the ledger still
    reconciles with the file."""
    return f"""
        select source_line, "content id" as content_id, "content url" as url,
               rl_time("content published at", {quote_str(options.tz)}) as published_at,
               "content title" as title, campaign
        from {table} where nullif(trim("content id"), '') is not null
    """


CONTENT_COLUMNS = {"content id", "content url", "content published at"}


# --- advocacy_shares ------------------------------------------------------------------------


def detect(path: Path) -> bool:
    """The shares export's columns, and not a report's: a report whose columns are ambiguous
    is still a report, so that it is detected as neither rather than as a shares export."""
    return csv_has_columns(path, REQUIRED) and not _looks_like_report(_header(path))


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    found = read_csv_strict(con, path, "_src_adv", required=REQUIRED, optional=OPTIONAL)
    add_network_and_zone(con, "_src_adv", "_src_adv_rows", options)
    selects = {"share": share_select("_src_adv_rows", options)}
    if CONTENT_COLUMNS <= found:
        selects["content"] = content_select("_src_adv_rows", options)
    return Staged(selects=selects)


ADAPTER = Adapter(
    name="advocacy_shares",
    vendor="Advocacy platform (Haiilo, EveryoneSocial, GaggleAMP style)",
    produces=("content", "share"),
    stage=stage,
    detect=detect,
    summary="CSV of employee shares: employee, post URL, network, shared at, tracked link",
)


# --- advocacy_report ------------------------------------------------------------------------

# Field → header names the platforms use for it (matched trimmed, case-insensitively; each
# can be named explicitly with the format's option of the field's name, e.g.
# ``advocacy_report:reactions=Post Likes``). Fields are named after the shares export's
# columns, so both formats share one mapping of a share.
REPORT_ALIASES: dict[str, tuple[str, ...]] = {
    "employee id": ("employee id", "sharer id"),
    "network": ("network", "social network"),
    "post url": ("post url", "post link", "permalink"),
    "shared at": ("shared at", "shared on", "share date", "post date"),
    "reactions": ("reactions", "likes"),
    "comments": ("comments",),
    "clicks": ("clicks", "link clicks"),
    "reshares": ("reshares", "reposts", "retweets"),
    "impressions": ("impressions",),
    # What the platforms call reach is the sharers' network sizes added up: potential.
    "potential reach": ("potential reach", "reach", "estimated reach"),
    "report date": ("report date", "as of"),
    "tracked link": ("tracked link", "tracking link"),
    "share id": ("share id",),
    "time zone": ("time zone",),
    "content id": ("content id",),
    "content title": ("content title",),
    "content url": ("content url",),
    "content published at": ("content published at",),
    "campaign": ("campaign",),
}
REPORT_REQUIRED = ("employee id", "network", "post url", "shared at", "reactions", "comments")
# The format's own options: a column per field (spaces as underscores), and observed_at.
REPORT_OPTIONS = tuple(f.replace(" ", "_") for f in REPORT_ALIASES)


def _report_columns(path: Path, header: list[str], options: Options) -> dict[str, str]:
    return resolve_columns(
        path, header, REPORT_ALIASES, options, required=REPORT_REQUIRED, fmt="advocacy_report"
    )


def _header(path: Path) -> list[str]:
    """A CSV's header names; none for a file that is no CSV."""
    if not path.name.lower().endswith((".csv", ".tsv")):
        return []
    try:
        with duckdb.connect() as con:
            return csv_header(con, path)
    except duckdb.Error:
        return []


def _looks_like_report(header: list[str]) -> bool:
    """Some column for each of the report's required fields (one or, ambiguously, several)."""
    keys = {header_key(c) for c in header}
    return all(keys & set(REPORT_ALIASES[f]) for f in REPORT_REQUIRED)


def detect_report(path: Path) -> bool:
    header = _header(path)
    if not _looks_like_report(header):
        return False
    try:
        _report_columns(path, header, Options())
    except SourceShapeError:  # a field several columns could be: not guessed
        return False
    return True


def stage_report(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    columns = _report_columns(path, csv_header(con, path), options)
    read_fields(con, path, "_src_rep", columns, REPORT_ALIASES)
    notes: list[str] = []
    # A row that names no post is a total or subtotal line of the report: no share, no metrics.
    con.execute(
        """create or replace temp table _src_rep_posts as
           select * from _src_rep where nullif(trim("post url"), '') is not null"""
    )
    [totals] = con.execute("select (select count(*) from _src_rep) - count(*) from _src_rep_posts").fetchone()
    if totals:
        notes.append(f"{totals} rows without a post URL (totals lines): skipped")
    add_network_and_zone(con, "_src_rep_posts", "_src_rep_rows", options)
    selects = {"share_metrics": _metrics_select(con, path, columns, options, notes)}
    if "tracked link" in columns:
        selects["share"] = share_select("_src_rep_rows", options)
    else:
        notes.append(
            "no tracked link column: shares not landed from this report (a share needs its"
            " tracking token; land the platform's shares export for them)"
        )
    if CONTENT_COLUMNS <= set(columns):
        selects["content"] = content_select("_src_rep_rows", options)
    return Staged(selects=selects, notes=notes)


def _report_time(
    con: duckdb.DuckDBPyConnection, path: Path, columns: dict[str, str], options: Options
) -> str:
    """SQL for each row's observed_at: the option ``observed_at``, else the report's
    ``Report Date`` column, else the date in the file name. A report's figures are
    cumulative counts as of when it ran; without a time they are no snapshot."""
    given = options.get("observed_at")
    if given is not None:
        return quote_str(snapshot_time(con, given, options.tz, f"{path.name}: observed_at"))
    named = date_in_name(path)
    fallback = None
    if named:
        fallback = quote_str(snapshot_time(con, named, options.tz, f"{path.name}: the date in the file name"))
    if "report date" in columns:
        return f'coalesce(rl_time("report date", {quote_str(options.tz)}), {fallback or "null"})'
    if fallback is None:
        raise SourceShapeError(
            f"{path.name}: a report's metrics are a snapshot, but nothing says when it was taken:"
            " give advocacy_report:observed_at=YYYY-MM-DD, a Report Date column, or the date in"
            " the file name (report-2026-03-06.csv)"
        )
    return fallback


def _metrics_select(
    con: duckdb.DuckDBPyConnection, path: Path, columns: dict[str, str], options: Options, notes: list[str]
) -> str:
    """``share_metrics``, for the rows that give every figure the contract requires.

    The contract requires impressions and reshares, and the platforms often cannot report
    them (LinkedIn gives third parties no impressions of members' posts): a row without one
    lands no metrics (counted in the notes) rather than a made-up zero, which would read as
    "seen by nobody" and skew every rate. Its share still lands. The platform's reach is the
    sharer's network size, never members reached: it goes to potential_reach only.
    """
    observed = _report_time(con, path, columns, options)
    dec = quote_str(options.decimal)
    con.execute(
        """
        create or replace temp table _src_rep_measured as
        select *, nullif(trim(impressions), '') is not null
                  and nullif(trim(reshares), '') is not null as measured
        from _src_rep_rows
        """
    )
    unmeasured = con.execute("select count(*) from _src_rep_measured where not measured").fetchone()[0]
    if unmeasured:
        lacking = [f for f in ("impressions", "reshares") if f not in columns] or ["impressions or reshares"]
        notes.append(
            f"{unmeasured} rows without {' and '.join(lacking)}: their metrics not landed"
            " (share_metrics requires them; no figure is made up)"
        )
    return f"""
        select source_line, rl_post_id("post url") as share_id, {observed} as observed_at,
               -- counts may be written with thousands separators (1,204): decimal= reads them
               rl_amount(impressions, {dec}) as impressions, rl_amount(reactions, {dec}) as reactions,
               rl_amount(comments, {dec}) as comments, rl_amount(reshares, {dec}) as reshares,
               rl_amount(clicks, {dec}) as clicks, rl_amount("potential reach", {dec}) as potential_reach
        from _src_rep_measured where measured
    """


REPORT_ADAPTER = Adapter(
    name="advocacy_report",
    vendor="Advocacy platform share report (Haiilo, EveryoneSocial, Sprout Social, GaggleAMP style)",
    produces=("content", "share", "share_metrics"),
    stage=stage_report,
    detect=detect_report,
    summary="CSV of employee shares with clicks, reactions, comments, impressions, potential reach",
    options=(*REPORT_OPTIONS, "observed_at"),
    path_says=file_name,  # the day may be in it
)
