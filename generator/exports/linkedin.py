"""The company page and the posts' social actions as LinkedIn's Marketing API returns them
(``linkedin``): one JSON Lines file of pulls per month, each line one API call with the time
our puller made it (``{"pulled_at", "endpoint", "params", "response"}``).

* ``posts``: each page post, pulled an hour after publication (and a few drafts);
* ``organizationalEntityShareStatistics``: each metrics snapshot of a page post, a lifetime
  statistic pulled at the snapshot's time (and a few organisation-wide totals);
* ``reactions``, ``socialActions/comments``: who reacted to and commented on each LinkedIn
  post, page or member, a call per post and month, pulled an hour after the month's last one.
  A member's posts are read with the member's authorization (r_member_social), which an
  advocacy programme asks its sharers for; their actors are person URNs;
* ``networkSizes``: the page's follower total, pulled daily at the snapshot's time.

Dirt: a few calls pulled twice (their events land once); a few broken records (a statistic
whose like count is "n/a", a reaction whose actor is missing) land in the quarantine only.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import PAGE_ID
from generator.exports import vendor_ids
from generator.exports.files import iso_z, month_key, seconds, with_duplicates, write_files
from generator.exports.posts import content_titles, tracked_links
from generator.exports.world import World
from generator.ids import stream

REACTION_TYPES = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")
REACTION_WEIGHTS = (0.62, 0.14, 0.08, 0.09, 0.05, 0.02)
PULL_LAG = 3600  # our puller runs an hour after what it reads
PAGE_SIZE = 100  # elements per page of a response: one line per page
DRAFT_POST = 8_000_000_000_000_000_000  # post numbers of drafts: no published post has them


def write_linkedin(world: World, root: Path, ids: vendor_ids.IdMap) -> dict[str, int]:
    org = vendor_ids.org_urn(world.seed)
    ids.add("page", pa.array([PAGE_ID]), pa.array([org]))
    rng = stream(world.seed, "exports:linkedin")
    con = duckdb.connect()
    con.execute("set threads = 1")  # the lines' order, hence the files' bytes, stay the same
    parts = [
        _posts(world, con, org, rng),
        _statistics(world, con, org, rng),
        _engagements(world, con, ids, rng),
        _followers(world, con, org),
    ]
    con.close()
    lines = pa.concat_tables(parts)
    n = lines.num_rows
    lines = with_duplicates(lines, rng, max(2, round(world.scale.duplicate_rate * n)))
    return write_files(root, lines)


def _month_file(t: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("pull-", month_key(t), ".jsonl", "")


def _posts(world: World, con: duckdb.DuckDBPyConnection, org: str, rng: np.random.Generator) -> pa.Table:
    """A ``posts`` call per page post an hour after it went out; and a few drafts (new ids, a
    day later), which are no shares."""
    ev = world.exported("share")
    page = pc.equal(ev.table["author_type"], "page").to_numpy(zero_copy_only=False)
    idx, t = world.share_index(ev.table["share_id"])[page], ev.time[page]
    n = len(idx)
    src = np.concatenate([np.arange(n), rng.integers(0, n, n // 20)]) if n else np.zeros(0, np.int64)
    draft = np.arange(len(src)) >= n
    pulled = t[src] + PULL_LAG + draft * 86_400
    draft_ids = pc.cast(pa.array(DRAFT_POST + np.arange(len(src), dtype=np.uint64)), pa.string())
    urn = pc.if_else(pa.array(draft), pc.binary_join_element_wise("urn:li:share:", draft_ids, ""),
                     vendor_ids.post_ids(world).take(pa.array(idx[src])))
    con.register("posts", pa.table({
        "file": _month_file(pulled),
        "order": pa.array(pulled.astype(np.float64)),
        "pulled_at": iso_z(pulled),
        "id": urn,
        "published_ms": pa.array((pulled - PULL_LAG) * 1000),
        "state": pc.if_else(pa.array(draft), pa.scalar("DRAFT"), pa.scalar("PUBLISHED")),
        "source": tracked_links(world, "social").take(pa.array(idx[src])),
        "title": content_titles(world).take(pa.array(np.maximum(world.shares.content[idx[src]], 0))),
    }))
    return con.sql(f"""
        select file, "order", to_json({{
            'pulled_at': pulled_at, 'endpoint': 'posts',
            'params': {{'q': 'author', 'author': '{org}'}},
            'response': {{'paging': {{'start': 0, 'count': 10, 'total': 1}}, 'elements': [{{
                'id': id, 'author': '{org}', 'createdAt': published_ms - 60000,
                'publishedAt': published_ms, 'lifecycleState': state, 'visibility': 'PUBLIC',
                'commentary': 'New on the blog: ' || title,
                'content': {{'article': {{'source': source, 'title': title}}}}}}]}}}})::varchar as line
        from posts
    """).to_arrow_table()


def _statistics(world: World, con: duckdb.DuckDBPyConnection, org: str,
                rng: np.random.Generator) -> pa.Table:
    """A lifetime statistics call per metrics snapshot of a page post, at the snapshot's time;
    besides, a few calls for the organisation's own totals (no share: skipped) and a few broken
    ones (a like count that is no number, a second after a snapshot: quarantined)."""
    ev = world.exported("share_metrics")
    idx = world.share_index(ev.table["share_id"])
    page = world.shares.author[idx] < 0
    m, t = ev.table.filter(pa.array(page)), ev.time[page]
    n = len(t)
    extra = [rng.integers(0, n, max(1, round(0.0005 * n))), rng.integers(0, n, max(1, n // 50))] if n else []
    src = np.concatenate([np.arange(n), *extra]).astype(np.int64)
    kind = np.repeat([0, 1, 2], [n, *(len(e) for e in extra)] if n else [0, 0, 0])  # snapshot, broken, total
    pulled = t[src] + kind
    take = pa.array(src)
    counts = ("impressions", "unique_impressions", "reactions", "comments", "reshares", "clicks")
    con.register("stats", pa.table({
        "file": _month_file(pulled),
        "order": pa.array(pulled.astype(np.float64)),
        "pulled_at": iso_z(pulled),
        "share": vendor_ids.post_ids(world).take(pa.array(idx[page])).take(take),
        "kind": pa.array(kind, pa.int8()),
        **{c: m[c].take(take) for c in counts},
    }))
    return con.sql(f"""
        select file, "order", to_json({{
            'pulled_at': pulled_at, 'endpoint': 'organizationalEntityShareStatistics',
            'params': {{'q': 'organizationalEntity', 'organizationalEntity': '{org}', 'shares': [share]}},
            'response': {{'paging': {{'start': 0, 'count': 10}}, 'elements': [{{
                'organizationalEntity': '{org}',
                'share': case when kind = 2 then null else share end,
                'totalShareStatistics': {{
                    'uniqueImpressionsCount': unique_impressions, 'shareCount': reshares,
                    'engagement': round((clicks + reactions + comments + reshares)
                                        / nullif(impressions, 0), 6),
                    'clickCount': clicks,
                    'likeCount': case when kind = 1 then to_json('n/a') else to_json(reactions) end,
                    'impressionCount': impressions, 'commentCount': comments}}}}]}}}})::varchar as line
        from stats
    """).to_arrow_table()


def _engagements(world: World, con: duckdb.DuckDBPyConnection, ids: vendor_ids.IdMap,
                 rng: np.random.Generator) -> pa.Table:
    """``reactions`` and ``socialActions/comments`` of each post, a call per post and month,
    a page of up to PAGE_SIZE elements per line; besides, a few reactions whose actor is
    missing (new ids, so they name no real reaction: quarantined)."""
    e = world.exported("engagement").table
    n = e.num_rows
    post = vendor_ids.post_ids(world).take(pa.array(world.share_index(e["share_id"])))
    actor = vendor_ids.member_urns(e["actor_id"])
    reaction = pc.equal(e["engagement_type"], "reaction")
    number = vendor_ids.comment_numbers(e["engagement_id"])
    element_id = pc.if_else(
        reaction,
        pc.binary_join_element_wise("urn:li:reaction:(", actor, ",", post, ")", ""),
        pc.binary_join_element_wise("urn:li:comment:(", post, ",", number, ")", ""),
    )
    _map_engagements(ids, e, reaction, element_id)
    reactions = np.flatnonzero(reaction.to_numpy(zero_copy_only=False))
    broken = rng.choice(reactions, min(len(reactions), max(1, round(0.0005 * n))), replace=False)
    src = pa.array(np.concatenate([np.arange(n), broken]).astype(np.int64))
    is_broken = pa.array(np.arange(len(src)) >= n)
    fresh = pc.binary_join_element_wise(
        "urn:li:reaction:(urn:li:person:", pc.cast(pa.array(np.arange(len(src))), pa.string()), ",",
        post.take(src), ")", "")
    occurred = seconds(e["occurred_at"])[src.to_numpy()]
    kind = rng.choice(len(REACTION_TYPES), len(src), p=REACTION_WEIGHTS)
    con.register("social", pa.table({
        "share": post.take(src),
        "month": month_key(occurred),
        "endpoint": pc.if_else(reaction.take(src), "reactions", "socialActions/comments"),
        "t": pa.array(occurred),
        "el_id": pc.if_else(is_broken, fresh, element_id.take(src)),
        "actor": pc.if_else(is_broken, pa.scalar(None, pa.string()), actor.take(src)),
        "reaction_type": pa.array(np.asarray(REACTION_TYPES, dtype=object)[kind], pa.string()),
        "number": number.take(src),
    }))
    return con.sql(f"""
        with elements as (
            select *, (row_number() over (partition by share, endpoint, month order by t, el_id) - 1)
                      // {PAGE_SIZE} as page
            from social
        ),
        calls as (
            select share, endpoint, month, page, max(max(t)) over (partition by share, endpoint, month)
                       + {PULL_LAG} as pulled,
                   list(case when endpoint = 'reactions' then to_json({{
                            'id': el_id, 'actor': actor,
                            'created': {{'time': t * 1000, 'actor': actor}},
                            'lastModified': {{'time': t * 1000, 'actor': actor}},
                            'root': share, 'reactionType': reaction_type}})
                        else to_json({{
                            '$URN': el_id, 'actor': actor, 'created': {{'time': t * 1000}},
                            'object': share, 'id': number,
                            'message': {{'text': 'Great read, thanks for sharing!'}}}})
                        end order by t, el_id) as elements
            from elements group by share, endpoint, month, page
        )
        select 'pull-' || strftime(make_timestamp(pulled * 1000000), '%Y-%m') || '.jsonl' as file,
               pulled::double as "order", to_json({{
                   'pulled_at': strftime(make_timestamp(pulled * 1000000), '%Y-%m-%dT%H:%M:%SZ'),
                   'endpoint': endpoint, 'params': {{'q': 'entity', 'entity': share}},
                   'response': {{'paging': {{'start': page * {PAGE_SIZE}, 'count': len(elements)}},
                                'elements': elements}}
               }})::varchar as line
        from calls order by pulled, share, endpoint, page
    """).to_arrow_table()


def _map_engagements(ids: vendor_ids.IdMap, e: pa.Table, reaction: pa.ChunkedArray,
                     element_id: pa.Array) -> None:
    """A reaction lands as li:reaction: + the pseudonym of its id (which embeds its member), a
    comment as li:comment: + its URN; an actor as the pseudonym of their person URN."""
    comment = pc.invert(reaction)
    reactions = int(pc.sum(reaction).as_py() or 0)
    ids.add("engagement", e["engagement_id"].filter(reaction), pa.array(["li:reaction:"] * reactions),
            export_pseudonymized=element_id.filter(reaction))
    ids.add("engagement", e["engagement_id"].filter(comment),
            pc.binary_join_element_wise("li:comment:", element_id.filter(comment), ""))
    members = pc.unique(e["actor_id"])
    ids.add("member", members, pa.array([""] * len(members), pa.string()),
            export_pseudonymized=vendor_ids.member_urns(members), contract_pseudonymized=True)


def _followers(world: World, con: duckdb.DuckDBPyConnection, org: str) -> pa.Table:
    ev = world.exported("page_followers")
    t = ev.time
    con.register("followers", pa.table({
        "file": _month_file(t), "order": pa.array(t.astype(np.float64)), "pulled_at": iso_z(t),
        "followers": ev.table["followers"],
    }))
    return con.sql(f"""
        select file, "order", to_json({{
            'pulled_at': pulled_at, 'endpoint': 'networkSizes',
            'params': {{'edgeType': 'COMPANY_FOLLOWED_BY_MEMBER', 'organization': '{org}'}},
            'response': {{'firstDegreeSize': followers}}}})::varchar as line
        from followers
    """).to_arrow_table()
