"""Employees' posts as the advocacy platform and the members' own analytics export them:
``advocacy_shares`` (one CSV per month of sharing: share, content) and ``post_analytics``
(JSON Lines of a tool's per-post analytics pulls: the share's metrics snapshots)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import COMPANY_DOMAIN, END, YEAR
from generator.exports import vendor_ids
from generator.exports.files import csv_text, iso_z, month_key, with_duplicates, write_files
from generator.exports.world import World
from generator.ids import stream
from generator.writers import timestamp_text

SHARES_HEADER = (
    "Share ID", "Employee ID", "Employee Name", "Employee Email", "Network", "Post URL", "Shared At",
    "Time Zone", "Tracked Link", "Content ID", "Content Title", "Content URL", "Content Published At",
    "Campaign",
)
# Zones an advocacy platform writes sharers' wall-clock times in, beside a Time Zone column.
ZONES = ("Europe/Berlin", "America/New_York")
FRESH_POST = 9_000_000_000_000_000_000  # post numbers of broken rows: no real post has them
TOOL = "advocacy-suite"  # the analytics tool's name in the pull envelope


# --- what several exports say alike -----------------------------------------------------------


def post_urls(world: World) -> pa.Array:
    """Per share (Shares order): the post's URL as the platform shows it. A LinkedIn post's
    URL carries its URN (rl_post_id reads it back), some URL-encoded as browsers copy it."""
    ids = vendor_ids.post_ids(world)
    rng = stream(world.seed, "exports:post_urls")
    urn = pc.if_else(pa.array(rng.random(len(ids)) < 0.1), pc.replace_substring(ids, ":", "%3A"), ids)
    linkedin = pc.binary_join_element_wise("https://www.linkedin.com/feed/update/", urn, "/", "")
    return pc.if_else(pa.array(world.shares.network == "twitter"), ids, linkedin)


def tracked_links(world: World, medium: str) -> pa.Array:
    """Per share: the tracked link it was posted with: the content's URL (the site's home page
    for an own post) with UTMs and the first-party token."""
    s = world.shares
    base = world.contents.url.to_numpy(zero_copy_only=False)[np.maximum(s.content, 0)]
    base = np.where(s.content >= 0, base, f"https://{COMPANY_DOMAIN}/").astype(object)
    source = np.where(s.network == "twitter", "twitter", "linkedin").astype(object)
    return pc.binary_join_element_wise(
        pa.array(base, pa.string()), "?utm_source=", pa.array(source, pa.string()),
        f"&utm_medium={medium}&rlt=", s.token, "",
    )


def content_titles(world: World) -> pa.Array:
    """Per content item (Contents order): its title."""
    return world.build["content"]().table["title"].combine_chunks()


# --- advocacy_shares --------------------------------------------------------------------------


def write_advocacy_shares(world: World, root: Path) -> dict[str, int]:
    """``advocacy_shares/shares-YYYY-MM.csv``: the employees' shares of each month (a few come
    in the next month's export), some rows exported twice, a few broken (an unknown network, a
    share time nobody can read): those land in the quarantine only."""
    ev = world.exported("share")
    employee = pc.equal(ev.table["author_type"], "employee").to_numpy(zero_copy_only=False)
    idx = world.share_index(ev.table["share_id"])[employee]
    t, offset = ev.time[employee], ev.offset[employee]
    n = len(idx)
    rng = stream(world.seed, "exports:advocacy_shares")
    table = _share_rows(world, idx, t, offset, rng)
    month = month_key(t).to_numpy(zero_copy_only=False).astype(object)
    late = _late(t, rng, world.scale.late_rate)
    month[late] = month_key(_next_month(t[late])).to_numpy(zero_copy_only=False)
    order = np.where(late, END + np.arange(n), t).astype(np.float64)  # late rows come last
    broken, source = _broken_shares(table, rng)
    month = pa.array(np.concatenate([month, month[source]]), pa.string())
    rows = pa.table(
        {
            "file": pc.binary_join_element_wise("shares-", month, ".csv", ""),
            "order": pa.array(np.concatenate([order, order[source] + 0.5])),
            "line": csv_text(pa.concat_tables([table, broken])),
        }
    )
    rows = with_duplicates(rows, rng, max(2, round(world.scale.duplicate_rate * n)))
    return write_files(root, rows, header=",".join(SHARES_HEADER))


def _share_rows(world: World, idx: np.ndarray, t: np.ndarray, offset: np.ndarray,
                rng: np.random.Generator) -> pa.Table:
    s, c, contents = world.shares, world.company, world.contents
    n = len(idx)
    author = s.author[idx]
    emails = np.asarray(c.email, dtype=object)[author]
    content = s.content[idx]
    has = pa.array(content >= 0)
    pick = pa.array(np.maximum(content, 0))

    def of_content(values: pa.Array) -> pa.Array:
        return pc.if_else(has, values.take(pick).cast(pa.string()), pa.scalar(None, pa.string()))

    campaign = pa.array(contents.campaign, pa.string())
    network = np.where(
        s.network[idx] == "twitter", np.where(rng.random(n) < 0.5, "X (Twitter)", "X"), "LinkedIn"
    ).astype(object)
    shared_at, zone = _shared_at(t, offset, rng)
    share_number = pc.cast(pa.array(idx + 100_001), pa.string())  # the platform's own share id
    local = pc.list_element(pc.split_pattern(pa.array(emails, pa.string()), "@"), 0)
    name = pc.utf8_title(pc.replace_substring_regex(pc.replace_substring(local, ".", " "), r"[0-9]+$", ""))
    return pa.table(
        {
            "Share ID": pc.binary_join_element_wise("ADV-", share_number, ""),
            "Employee ID": c.employee_id.take(pa.array(author)),
            "Employee Name": name,
            "Employee Email": pa.array(emails, pa.string()),
            "Network": pa.array(network, pa.string()),
            "Post URL": post_urls(world).take(pa.array(idx)),
            "Shared At": shared_at,
            "Time Zone": zone,
            "Tracked Link": tracked_links(world, "employee_advocacy").take(pa.array(idx)),
            "Content ID": of_content(contents.content_id),
            "Content Title": of_content(content_titles(world)),
            "Content URL": of_content(contents.url),
            "Content Published At": of_content(iso_z(contents.published_at)),
            "Campaign": of_content(campaign),
        }
    )


def _shared_at(t: np.ndarray, offset: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, pa.Array]:
    """Share times as platforms print them: ISO 8601 with the row's offset, or a wall-clock
    time beside its Time Zone. A wall-clock time that names no instant or two (DST) is printed
    with its offset instead, as the platform would have to."""
    with_offset = timestamp_text(pa.array(t, pa.int64()).cast(pa.timestamp("s", tz="UTC")), offset)
    zone_pick = rng.integers(0, len(ZONES), len(t))
    wall = rng.random(len(t)) < 0.35
    text = with_offset.to_numpy(zero_copy_only=False).astype(object)
    zone = np.full(len(t), None, dtype=object)
    utc = pd.to_datetime(t, unit="s", utc=True)
    for z, name in enumerate(ZONES):  # per zone, not per row
        rows = np.flatnonzero(wall & (zone_pick == z))
        local = utc[rows].tz_convert(name).tz_localize(None)
        back = local.tz_localize(name, ambiguous="NaT", nonexistent="NaT")
        ok = np.asarray(back == utc[rows])
        text[rows[ok]] = local[ok].strftime("%Y-%m-%d %H:%M:%S").to_numpy()
        zone[rows[ok]] = name
    return pa.array(text, pa.string()), pa.array(zone, pa.string())


def _late(t: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Rows that reach the next month's export instead of their own (not December's)."""
    months = t.astype("datetime64[s]").astype("datetime64[M]")
    late = (rng.random(len(t)) < rate) & (months < np.datetime64(f"{YEAR}-12"))
    return late


def _next_month(t: np.ndarray) -> np.ndarray:
    return (t.astype("datetime64[s]").astype("datetime64[M]") + 1).astype("datetime64[s]").astype(np.int64)


def _broken_shares(table: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """Copies of a few rows as new posts, broken: a network the contract does not know, a share
    time nobody can read. Returns them and the rows they were copied from."""
    n = table.num_rows
    k = max(1, round(0.0005 * n))
    source = rng.integers(0, n, 2 * k)
    broken = table.take(pa.array(source))
    fresh = pc.cast(pa.array(FRESH_POST + np.arange(2 * k, dtype=np.uint64)), pa.string())
    url = pc.binary_join_element_wise("https://www.linkedin.com/feed/update/urn:li:share:", fresh, "/", "")
    kind = np.arange(2 * k) < k
    network = pc.if_else(pa.array(kind), pa.scalar("MySpace"), broken["Network"])
    shared = pc.if_else(pa.array(kind), broken["Shared At"], pa.scalar("yesterday"))
    for column, values in (("Post URL", url), ("Network", network), ("Shared At", shared),
                           ("Share ID", pc.binary_join_element_wise("ADV-X", fresh, ""))):
        broken = broken.set_column(broken.column_names.index(column), column, values)
    return broken, source


# --- post_analytics ---------------------------------------------------------------------------


def write_post_analytics(world: World, root: Path) -> dict[str, int]:
    """``post_analytics/posts-YYYY-MM.jsonl``: one line per metrics snapshot of an employee's
    post, as a tool's API returns it: mostly wrapped by our puller with the pull's time; some
    naming the post by URN with a time of their own; some flat, in camelCase. A few counts are
    written as text with thousands separators, a few lines are pulled twice, and a few broken
    (impressions "n/a") land in the quarantine only."""
    ev = world.exported("share_metrics")
    idx = world.share_index(ev.table["share_id"])
    employee = world.shares.author[idx] >= 0
    m = ev.table.filter(pa.array(employee))
    idx, t = idx[employee], ev.time[employee]
    n = len(idx)
    rng = stream(world.seed, "exports:post_analytics")
    shape = rng.choice(3, n, p=[0.8, 0.1, 0.1])
    texted = rng.random(n) < 0.03
    # every snapshot, then broken copies a second later (a new snapshot, were it readable)
    src = np.concatenate([np.arange(n), rng.integers(0, n, max(1, round(0.0005 * n)))])
    broken = np.arange(len(src)) >= n
    at = t[src] + broken
    take = pa.array(src)
    counts = ("impressions", "unique_impressions", "reactions", "comments", "reshares")
    rows = pa.table(
        {
            "file": pc.binary_join_element_wise("posts-", month_key(at), ".jsonl", ""),
            "order": pa.array(at.astype(np.float64)),
            "shape": pa.array(np.where(broken, 0, shape[src]), pa.int8()),
            "post_url": post_urls(world).take(pa.array(idx)).take(take),
            "post_urn": vendor_ids.post_ids(world).take(pa.array(idx)).take(take),
            "observed_at": iso_z(at),
            "pulled_at": iso_z(at + 120),
            "texted": pa.array(texted[src]),
            "broken": pa.array(broken),
            **{c: m[c].take(take) for c in counts},
        }
    )
    con = duckdb.connect()
    con.execute("set threads = 1")  # the lines' order, hence the files' bytes, stay the same
    con.register("pa_rows", rows)
    lines = con.sql(_POST_ANALYTICS_LINES).to_arrow_table()
    con.close()
    lines = with_duplicates(lines, rng, max(2, round(world.scale.duplicate_rate * n)))
    return write_files(root, lines)


def _count(column: str) -> str:
    """A count as JSON: a number, or (some lines) text with thousands separators."""
    return f"case when texted then to_json(format('{{:,}}', {column})) else to_json({column}) end"


_POST_ANALYTICS_LINES = f"""
    select file, "order", (case shape
        when 0 then to_json({{
            'pulled_at': observed_at, 'source': '{TOOL}',
            'response': {{'post_url': post_url,
                          'impressions': case when broken then to_json('n/a')
                                              else {_count('impressions')} end,
                          'members_reached': unique_impressions, 'reactions': {_count('reactions')},
                          'comments': {_count('comments')}, 'reposts': {_count('reshares')}}}}})
        when 1 then to_json({{
            'pulled_at': pulled_at, 'source': '{TOOL}',
            'response': {{'post_urn': post_urn, 'observed_at': observed_at,
                          'impressions': impressions, 'members_reached': unique_impressions,
                          'reactions': reactions, 'comments': comments, 'reposts': reshares}}}})
        else to_json({{'postUrl': post_url, 'observedAt': observed_at, 'impressions': impressions,
                      'membersReached': unique_impressions, 'likes': reactions, 'comments': comments,
                      'shares': reshares}})
    end)::varchar as line
    from pa_rows
"""
