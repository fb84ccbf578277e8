"""LinkedIn Marketing API pulls → share, share_metrics, engagement, page_followers.

A pull file is JSON Lines, one API call per line, as our puller writes it:

    {"pulled_at": "2026-03-02T06:00:00Z", "endpoint": "organizationalEntityShareStatistics",
     "params": {...the query...}, "response": {...the body LinkedIn returned...}}

The envelope exists because LinkedIn does not stamp its responses: a lifetime statistic is a
snapshot "as of the call", so the call's time must travel with the body (ELT tools add an
extraction timestamp for the same reason). ``response`` is the body unchanged.

Endpoints read (see docs/sources.md for every field):
  posts                                   → share (the page's own posts)
  organizationalEntityShareStatistics     → share_metrics (lifetime or time-bound)
  reactions, socialActions/comments       → engagement
  networkSizes                            → page_followers (the follower total)
  organizationalEntityFollowerStatistics  → page_followers (time-bound gains, counted back
                                            from a networkSizes total in the same file)
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

ENVELOPE = ("pulled_at", "endpoint", "response")
ENDPOINTS = (
    "posts",
    "organizationalEntityShareStatistics",
    "reactions",
    "socialActions/comments",
    "networkSizes",
    "organizationalEntityFollowerStatistics",
)


def detect(path: Path) -> bool:
    return set(ENVELOPE) <= first_json_keys(path)


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    read_json_lines(con, path, "_src_li_lines")
    _check_envelope(con, path)
    # One row per element of every response, with its pull's time and query.
    con.execute(
        """
        create or replace temp table _src_li as
        select l.source_line, l.doc->>'$.endpoint' as endpoint,
               (l.doc->>'$.pulled_at')::timestamptz as pulled_at,
               coalesce(l.doc->'$.params', '{}'::json) as params, e.el
        from _src_li_lines l,
             unnest(coalesce(cast(l.doc->'$.response.elements' as json[]), [l.doc->'$.response'])) e(el)
        """
    )
    notes = []
    dropped = con.execute(
        """
        select count(*) filter (where endpoint = 'organizationalEntityShareStatistics'
                                  and (el->>'$.share') is null and (el->>'$.ugcPost') is null),
               count(*) filter (where endpoint = 'organizationalEntityFollowerStatistics'
                                  and (el->'$.timeRange') is null),
               count(*) filter (where endpoint = 'posts'
                                  and coalesce(el->>'$.lifecycleState', 'PUBLISHED') <> 'PUBLISHED')
        from _src_li
        """
    ).fetchone()
    for count, what in zip(
        dropped,
        (
            "organization-wide share statistics (not one post's)",
            "lifetime follower breakdowns by facet (no total to land)",
            "posts that are not published (drafts, deleted)",
        ),
        strict=True,
    ):
        if count:
            notes.append(f"{count} {what} skipped")
    unanchored = con.execute(f"select count(*) from ({_GAINS}) where followers is null").fetchone()[0]
    if unanchored:
        notes.append(f"{unanchored} follower gains skipped: no networkSizes total after them in the file")
    token = quote_str(options.token_param)
    return Staged(
        selects={
            "share": _POSTS.format(token=token),
            "share_metrics": _SHARE_STATISTICS,
            "engagement": _ENGAGEMENT,
            "page_followers": _FOLLOWERS,
        },
        notes=notes,
    )


def _check_envelope(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    for key in ENVELOPE:
        missing = con.execute(
            f"select list(source_line) from _src_li_lines where (doc->{quote_str('$.' + key)}) is null"
        ).fetchone()[0]
        if missing:
            raise SourceShapeError(f"{path.name}: missing key {key!r} on line(s) {missing[:5]}")
    known = ", ".join(quote_str(e) for e in ENDPOINTS)
    unknown = con.execute(
        f"select list(distinct doc->>'$.endpoint') from _src_li_lines"
        f" where (doc->>'$.endpoint') not in ({known})"
    ).fetchone()[0]
    if unknown:
        raise SourceShapeError(
            f"{path.name}: unexpected endpoint(s) {', '.join(unknown)} (known: {', '.join(ENDPOINTS)})"
        )
    bad_time = con.execute(
        "select list(source_line) from _src_li_lines"
        " where try_cast(doc->>'$.pulled_at' as timestamptz) is null"
    ).fetchone()[0]
    if bad_time:
        raise SourceShapeError(f"{path.name}: pulled_at is not a timestamp on line(s) {bad_time[:5]}")


# The page's own posts. The tracked link in the post's article carries the token.
_POSTS = """
    select source_line,
           el->>'$.id' as share_id,
           'page' as author_type,
           el->>'$.author' as author_id,
           'linkedin' as network,
           rl_epoch_ms(coalesce(el->>'$.publishedAt', el->>'$.createdAt')) as posted_at,
           rl_query_param(el->>'$.content.article.source', {token}) as tracking_token,
           json_object('article_url', rl_url_path(el->>'$.content.article.source'),
                       'article_title', el->>'$.content.article.title',
                       'visibility', el->>'$.visibility') as extra
    from _src_li
    where endpoint = 'posts' and coalesce(el->>'$.lifecycleState', 'PUBLISHED') = 'PUBLISHED'
"""

# Lifetime statistics are a cumulative snapshot as of the pull. Time-bound statistics count
# what happened within each interval; their running sum is cumulative since the window's
# start, hence lifetime only when the window starts on the post's first day (docs/sources.md).
# Unique impressions cannot be summed over intervals: time-bound snapshots leave them empty.
# Counts that went down between two pulls (LinkedIn removes sponsored likes) land as they are:
# the latest snapshot wins downstream.
_SHARE_STATISTICS = """
    with stats as (
        select source_line, pulled_at,
               coalesce(el->>'$.share', el->>'$.ugcPost') as share_id,
               el->'$.totalShareStatistics' as s,
               cast(el->>'$.timeRange.start' as bigint) as range_start,
               cast(el->>'$.timeRange.end' as bigint) as range_end
        from _src_li
        where endpoint = 'organizationalEntityShareStatistics'
          and coalesce(el->>'$.share', el->>'$.ugcPost') is not null
    ),
    lifetime as (
        select source_line, share_id, pulled_at::varchar as observed_at,
               s->>'$.impressionCount' as impressions, s->>'$.uniqueImpressionsCount' as unique_impressions,
               s->>'$.likeCount' as reactions, s->>'$.commentCount' as comments,
               s->>'$.shareCount' as reshares, s->>'$.clickCount' as clicks,
               json_object('basis', 'lifetime', 'linkedin_engagement', s->>'$.engagement') as extra
        from stats where range_start is null
    ),
    -- an interval pulled twice (overlapping windows in one file) counts once
    intervals as (
        select * from stats where range_start is not null
        qualify row_number() over (partition by share_id, range_start order by pulled_at desc) = 1
    ),
    running as (
        select source_line, share_id, rl_epoch_ms(range_end) as observed_at,
               sum(cast(s->>'$.impressionCount' as bigint)) over w as impressions,
               sum(cast(s->>'$.likeCount' as bigint)) over w as reactions,
               sum(cast(s->>'$.commentCount' as bigint)) over w as comments,
               sum(cast(s->>'$.shareCount' as bigint)) over w as reshares,
               sum(cast(s->>'$.clickCount' as bigint)) over w as clicks,
               json_object('basis', 'time-bound running sum',
                           'window_start', rl_epoch_ms(min(range_start) over w)) as extra
        from intervals
        window w as (partition by share_id order by range_start
                     rows between unbounded preceding and current row)
    )
    select source_line, share_id, observed_at, impressions, unique_impressions, reactions, comments,
           reshares, clicks, extra
    from lifetime
    union all
    select source_line, share_id, observed_at, impressions, null, reactions, comments, reshares,
           clicks, extra
    from running
"""

# Reaction ids embed the member's URN, so the engagement id is a keyed pseudonym of it;
# the comment's text is a member's words and is not kept.
_ENGAGEMENT = """
    select source_line,
           'li:reaction:' || pseudonym(coalesce(el->>'$.id',
                                                coalesce(el->>'$.actor', el->>'$.created.actor')
                                                || '|' || (el->>'$.root'))) as engagement_id,
           coalesce(params->>'$.entity', el->>'$.root') as share_id,
           coalesce(el->>'$.actor', el->>'$.created.actor') as actor_id,
           'reaction' as engagement_type,
           rl_epoch_ms(el->>'$.created.time') as occurred_at,
           json_object('reaction_type', el->>'$.reactionType') as extra
    from _src_li where endpoint = 'reactions'
    union all
    select source_line,
           'li:comment:' || coalesce(el->>'$."$URN"', (el->>'$.object') || ',' || (el->>'$.id')),
           coalesce(params->>'$.entity', el->>'$.object'),
           coalesce(el->>'$.actor', el->>'$.created.actor'),
           'comment',
           rl_epoch_ms(el->>'$.created.time'),
           null
    from _src_li where endpoint = 'socialActions/comments'
"""

# Follower gains per interval, counted back from the first total pulled at or after the
# interval's end: followers at end E = total − Σ gains of the intervals between E and the pull.
_GAINS = """
    with totals as (
        select params->>'$.organization' as page_id, pulled_at,
               cast(el->>'$.firstDegreeSize' as bigint) as total
        from _src_li where endpoint = 'networkSizes'
    ),
    gains as (
        select source_line, el->>'$.organizationalEntity' as page_id,
               make_timestamptz(cast(el->>'$.timeRange.start' as bigint) * 1000) as range_start,
               make_timestamptz(cast(el->>'$.timeRange.end' as bigint) * 1000) as range_end,
               coalesce(cast(el->>'$.followerGains.organicFollowerGain' as bigint), 0)
               + coalesce(cast(el->>'$.followerGains.paidFollowerGain' as bigint), 0) as gain
        from _src_li
        where endpoint = 'organizationalEntityFollowerStatistics' and (el->'$.timeRange') is not null
        qualify row_number() over (partition by page_id, range_start order by pulled_at desc) = 1
    ),
    anchored as (
        select g.*, (select arg_min(t.total, t.pulled_at) from totals t
                     where t.page_id = g.page_id and t.pulled_at >= g.range_end) as total,
                    (select min(t.pulled_at) from totals t
                     where t.page_id = g.page_id and t.pulled_at >= g.range_end) as anchor_at
        from gains g
    )
    select a.source_line, a.page_id, a.range_end::varchar as observed_at,
           a.total - (select coalesce(sum(l.gain), 0) from gains l
                      where l.page_id = a.page_id and l.range_start >= a.range_end
                        and l.range_end <= a.anchor_at) as followers,
           json_object('basis', 'counted back from networkSizes', 'gain', a.gain,
                       'anchor_at', a.anchor_at::varchar) as extra
    from anchored a
"""

_FOLLOWERS = f"""
    select source_line, params->>'$.organization' as page_id, pulled_at::varchar as observed_at,
           el->>'$.firstDegreeSize' as followers, json_object('basis', 'networkSizes') as extra
    from _src_li where endpoint = 'networkSizes'
    union all
    select source_line, page_id, observed_at, followers::varchar, extra
    from ({_GAINS}) where followers is not null
"""

ADAPTER = Adapter(
    name="linkedin",
    vendor="LinkedIn Marketing API",
    produces=("share", "share_metrics", "engagement", "page_followers"),
    stage=stage,
    detect=detect,
    summary="JSON Lines of API pulls: posts, share statistics, reactions, comments, followers",
)
