"""A member's own post analytics → share_metrics.

The per-post figures LinkedIn shows a member for their own posts (impressions, members
reached, reactions, comments, reposts; saves and sends where present), in either of two forms:

1. **XLSX**, the member's content analytics export (``Content_<from>_<to>_<name>.xlsx``).
   Accepted shape: a sheet listing posts, under a header row found within its first 10 rows
   (title rows above it are fine), with the columns
       Post URL, Post publish date, Impressions, Members reached, Reactions, Comments, Reposts
   and optionally Saves, Sends. Header names are matched trimmed and case-insensitively.
   The sheet is the one named by the option ``sheet=``, else the first sheet whose header has
   all those columns; other sheets (DISCOVERY, ENGAGEMENT, FOLLOWERS, DEMOGRAPHICS …) are
   ignored. A workbook without such a sheet fails naming its sheets and what was looked for;
   a sheet with a Post URL and Impressions header but not the rest (LinkedIn's TOP POSTS,
   which has engagements and impressions only) fails naming the missing columns.
   The workbook does not say when its figures were read: ``observed_at=`` says it, else the
   file name as LinkedIn writes it, whose second date is the last day the figures count
   (observed at the end of that day, in ``tz=``); without either the file fails.

2. **JSON Lines**, as post-analytics APIs of scheduling and advocacy tools return them, one
   post per line: either the tool's record itself (flat) or, as our pullers write it (in the
   style of the ``linkedin`` format), wrapped with the time of the call:
       {"pulled_at": "2026-03-08T06:00:00Z", "source": "<tool>", "response": {<one post>}}
   Keys are read in the spellings of ``JSON_KEYS`` (each also in camelCase); the post's own
   ``observed_at``/``pulled_at`` wins over the envelope's. A line without a post id or a time
   fails the file (a pull is written by a program: a broken line is a broken pull).

Both yield one ``share_metrics`` snapshot per post: share_id = ``rl_post_id`` of the post URL
(or URN), the same id ``advocacy_shares`` gives the employee's share of the post, so the
figures join it; members reached land as unique_impressions (reach observed, not the
network's potential); clicks stay empty: a member's analytics count no link clicks (the
marts use the share's tracked clicks instead, fct_shares).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters import workbook
from ingestion.adapters.base import Adapter, Options, SourceShapeError, Staged, file_name, read_json_lines

# --- XLSX -----------------------------------------------------------------------------------

REQUIRED = (
    "post url",
    "post publish date",
    "impressions",
    "members reached",
    "reactions",
    "comments",
    "reposts",
)
OPTIONAL = ("saves", "sends")
# A sheet with these is meant to list posts: reading it fails naming what else it lacks.
MARKER = ("post url", "impressions")

# LinkedIn names the export Content_<first day>_<last day>_<member name>.xlsx (a browser may
# add " (1)"); the member's name in it is never read.
EXPORT_NAME = re.compile(r"^content_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})(?![0-9])", re.IGNORECASE)


def recorded_path(path: Path) -> Path:
    """The export's path as the ledger keeps it: LinkedIn's file name without the member's
    name (Content_2026-03-01_2026-03-05_Ana Silva.xlsx → Content_2026-03-01_2026-03-05_[member].xlsx)."""
    named = EXPORT_NAME.match(path.name)
    if named is None:
        return path
    return path.with_name(f"{named.group(0)}_[member]{path.suffix}")

# --- JSON Lines -----------------------------------------------------------------------------

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
# Contract field → the keys read for it, first present wins (each also in camelCase).
JSON_KEYS = {
    "share_id": ("post_url", "post_urn"),
    "observed_at": ("observed_at", "pulled_at"),
    "impressions": ("impressions",),
    "unique_impressions": ("members_reached", "unique_impressions"),
    "reactions": ("reactions", "likes"),
    "comments": ("comments",),
    "reshares": ("reposts", "reshares", "shares"),
    "saves": ("saves",),
    "sends": ("sends",),
}
COUNTS = ("impressions", "unique_impressions", "reactions", "comments", "reshares", "saves", "sends")


def detect(path: Path) -> bool:
    if workbook.is_xlsx(path):
        return workbook.has_table(path, REQUIRED[0], REQUIRED)
    post = _first_post(path)
    return post is not None and bool(_spellings("share_id") & set(post)) and bool(
        _spellings("impressions") & set(post)
    )


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    if workbook.is_xlsx(path):
        return _stage_xlsx(con, path, options)
    if path.name.lower().endswith(JSON_SUFFIXES):
        return _stage_json(con, path, options)
    raise SourceShapeError(f"{path.name}: post analytics come as an .xlsx workbook or JSON Lines")


# --- XLSX -----------------------------------------------------------------------------------


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, options: Options) -> Staged:
    observed_at, observed_from = _export_time(con, path, options)
    sheet = workbook.choose_sheet(
        path, anchor=REQUIRED[0], marker=MARKER, required=REQUIRED, name=options.get("sheet")
    )
    workbook.read_sheet_strict(con, path, sheet, "_src_pa_xlsx", required=REQUIRED, optional=OPTIONAL)
    dec, tz = quote_str(options.decimal), quote_str(options.tz)
    # Counts are numbers in LinkedIn's workbook; text counts ("1,234") are read as amounts are.
    select = f"""
        select source_line,
               rl_post_id("post url") as share_id,
               {quote_str(observed_at)} as observed_at,
               rl_amount(impressions, {dec}) as impressions,
               rl_amount("members reached", {dec}) as unique_impressions,
               rl_amount(reactions, {dec}) as reactions,
               rl_amount(comments, {dec}) as comments,
               rl_amount(reposts, {dec}) as reshares,
               rl_amount(saves, {dec}) as saves,
               rl_amount(sends, {dec}) as sends,
               json_object('published_at', rl_time("post publish date", {tz}),
                           'observed_from', {quote_str(observed_from)}) as extra
        from _src_pa_xlsx
    """
    note = f"sheet {sheet.name!r}, figures observed at {observed_at} (from the {observed_from})"
    return Staged(selects={"share_metrics": select}, notes=[note])


def _export_time(con: duckdb.DuckDBPyConnection, path: Path, options: Options) -> tuple[str, str]:
    """When the workbook's figures were read, and what says so: ``observed_at=`` (in ``tz=``
    when it has no offset), else the end of the last day in LinkedIn's file name."""
    given = options.get("observed_at")
    if given is not None:
        observed = con.execute(
            "select try_cast(rl_time(?, ?) as timestamptz)::varchar", [given, options.tz]
        ).fetchall()[0][0]
        if observed is None:
            raise SourceShapeError(f"{path.name}: observed_at={given!r} is not a timestamp")
        return observed, "option observed_at"
    named = EXPORT_NAME.match(path.name)
    if named is None:
        raise SourceShapeError(
            f"{path.name}: when were these figures read? Give observed_at= (reachloop land"
            " --observed-at TS), or keep LinkedIn's file name Content_<first day>_<last day>_….xlsx"
        )
    observed = con.execute(
        "select timezone(?, try_cast(? as date) + interval 1 day)::varchar", [options.tz, named.group(2)]
    ).fetchall()[0][0]
    if observed is None:
        raise SourceShapeError(f"{path.name}: {named.group(2)!r} in the file name is not a date")
    return observed, "file name"


# --- JSON Lines -----------------------------------------------------------------------------


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, options: Options) -> Staged:
    for name in ("sheet", "observed_at"):
        if options.get(name) is not None:
            raise SourceShapeError(
                f"{path.name}: {name}= is for XLSX exports; a JSON line carries its own observed_at/pulled_at"
            )
    read_json_lines(con, path, "_src_pa_lines")
    # The post: the envelope's response, else the line itself (a flat record).
    con.execute(
        """
        create or replace temp table _src_pa_posts as
        select source_line, doc as line,
               case when (doc->'$.response') is null then doc else doc->'$.response' end as post
        from _src_pa_lines
        """
    )
    _check_lines(con, path)
    dec, tz = quote_str(options.decimal), quote_str(options.tz)
    counts = ",\n".join(f"rl_amount({_first('post', f)}, {dec}) as {f}" for f in COUNTS)
    # the post's own time first: a tool may read each post at its own moment
    observed = f"coalesce({_first('post', 'observed_at')}, {_first('line', 'observed_at')})"
    select = f"""
        select source_line,
               rl_post_id({_first('post', 'share_id')}) as share_id,
               rl_time({observed}, {tz}) as observed_at,
               {counts},
               -- the tool's name, as the envelope gives it (a flat record's keys are the tool's own)
               json_object('source', case when (line->'$.response') is not null
                                          then line->>'$.source' end) as extra
        from _src_pa_posts
    """
    return Staged(selects={"share_metrics": select})


def _check_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Every line: an object as its post, with a post id and a time (its own or the envelope's)."""
    checks = (
        ("json_type(post) <> 'OBJECT'", "'response' is not an object"),
        (f"{_first('post', 'share_id')} is null", f"no post id ({' or '.join(JSON_KEYS['share_id'])})"),
        (
            f"coalesce({_first('post', 'observed_at')}, {_first('line', 'observed_at')}) is null",
            f"no time ({' or '.join(JSON_KEYS['observed_at'])})",
        ),
    )
    for condition, what in checks:
        lines = con.execute(
            f"select list(source_line order by source_line) from _src_pa_posts where {condition}"
        ).fetchall()[0][0]
        if lines:
            raise SourceShapeError(f"{path.name}: {what} on line(s) {', '.join(map(str, lines[:5]))}")


def _keys(field: str) -> list[str]:
    """The keys read for a field, in order: each documented spelling, then its camelCase."""
    return list(dict.fromkeys(k for key in JSON_KEYS[field] for k in (key, _camel(key))))


def _spellings(field: str) -> set[str]:
    return set(_keys(field))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _first(doc: str, field: str) -> str:
    """SQL: the first of the field's keys present (not null) in JSON column ``doc``, as text."""
    return "coalesce(" + ", ".join(f"{doc}->>{quote_str('$.' + k)}" for k in _keys(field)) + ")"


def _first_post(path: Path) -> dict | None:
    """The post on the first line of a JSON Lines file (None if it is none, or a ``linkedin``
    API pull, whose envelope names an endpoint). For detection."""
    if not path.name.lower().endswith(JSON_SUFFIXES):
        return None
    try:
        with path.open(encoding="utf-8") as fh:
            line = next((line for line in fh if line.strip()), "")
        doc = json.loads(line) if line else None
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or "endpoint" in doc:
        return None
    post = doc.get("response", doc)
    return post if isinstance(post, dict) else None


ADAPTER = Adapter(
    name="post_analytics",
    vendor="A member's own LinkedIn post analytics (creator analytics XLSX, post-analytics APIs)",
    produces=("share_metrics",),
    stage=stage,
    detect=detect,
    summary="per-post impressions, members reached, reactions, comments, reposts, saves, sends:"
    " LinkedIn's XLSX export or JSON Lines of a tool's API",
    options=("sheet", "observed_at"),
    recorded_path=recorded_path,
    path_says=file_name,  # the day may be in it
)
