"""Company content items and the posts (shares) of employees and the page: `content` and
`share` events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import names
from generator.config import COMPANY_DOMAIN, DAY, END, HOUR, PAGE_ID, START, Scale
from generator.events import Events, make_events
from generator.ids import hex_ids, stream
from generator.people import TIER_ACTIVE, TIER_REGULAR, Company

AUTHOR_PAGE = -1  # author index of page posts


@dataclass
class Contents:
    n: int
    content_id: pa.Array
    url: pa.Array
    published_at: np.ndarray
    campaign: np.ndarray  # object array, None for content outside a campaign


@dataclass
class Shares:
    n: int
    share_id: pa.Array
    token: pa.Array
    author: np.ndarray  # employee index, AUTHOR_PAGE for the page
    network: np.ndarray  # object array
    posted_at: np.ndarray
    content: np.ndarray  # content index, -1 for own posts

    @property
    def is_page(self) -> np.ndarray:
        return self.author == AUTHOR_PAGE


def build_contents(scale: Scale, seed: int) -> tuple[Contents, Events]:
    rng = stream(seed, "content")
    n = scale.contents
    # Business hours on weekdays-ish; spread over the year but not in its last days.
    published = np.sort(START + rng.integers(0, 355, n) * DAY + rng.integers(8 * HOUR, 17 * HOUR, n))
    idx = np.arange(n)
    content_id = hex_ids("cnt_", idx, seed, "content", width=16)
    topic = np.asarray(names.TOPICS, dtype=object)[rng.integers(0, len(names.TOPICS), n)]
    words = np.asarray(names.TITLE_WORDS, dtype=object)[rng.integers(0, len(names.TITLE_WORDS), n)]
    subj = np.asarray(names.TITLE_SUBJECTS, dtype=object)[rng.integers(0, len(names.TITLE_SUBJECTS), n)]
    title = pc.binary_join_element_wise(pa.array(words), pa.array(subj), " ")
    slug = pc.replace_substring(pc.utf8_lower(title), " ", "-")
    url = pc.binary_join_element_wise(
        pa.array(np.full(n, f"https://{COMPANY_DOMAIN}", dtype=object)),
        pa.array(topic),
        pc.binary_join_element_wise(slug, pc.cast(pa.array(idx + 1), pa.string()), "-"),
        "/",
    )
    in_campaign = rng.random(n) < 0.4
    campaign = np.where(
        in_campaign, np.asarray(names.CAMPAIGNS, dtype=object)[rng.integers(0, len(names.CAMPAIGNS), n)], None
    )
    cols = {
        "content_id": content_id,
        "url": url,
        "published_at": published,
        "title": title,
        "topic": topic,
        "campaign": campaign,
    }
    events = make_events("content", cols, published, rng)
    return Contents(n, content_id, url, published, campaign), events


def build_shares(c: Company, contents: Contents, scale: Scale, seed: int) -> Shares:
    rng = stream(seed, "shares")
    rate = np.where(
        c.tier == TIER_ACTIVE,
        scale.active_posts_per_year,
        np.where(c.tier == TIER_REGULAR, scale.regular_posts_per_year, scale.casual_posts_per_year),
    )
    count = rng.poisson(rate * rng.lognormal(0, 0.3, c.n))
    author = np.repeat(np.arange(c.n), count)
    m = len(author)
    own = rng.random(m) < scale.own_post_share
    popularity = rng.lognormal(0, 1.0, contents.n)
    content = rng.choice(contents.n, size=m, p=popularity / popularity.sum())
    delay = (rng.exponential(1.5 * DAY, m) + HOUR).astype(np.int64)
    posted = np.where(
        own, START + rng.integers(DAY, END - START - HOUR, m), contents.published_at[content] + delay
    )
    content = np.where(own, -1, content)
    network = np.where(c.has_twitter[author] & (rng.random(m) < 0.2), "twitter", "linkedin").astype(object)

    n_page = scale.page_posts
    page_content = rng.choice(contents.n, size=n_page, p=popularity / popularity.sum())
    page_posted = contents.published_at[page_content] + (rng.exponential(0.5 * DAY, n_page) + 600).astype(
        np.int64
    )

    author = np.concatenate([author, np.full(n_page, AUTHOR_PAGE)])
    posted = np.concatenate([posted, page_posted])
    content = np.concatenate([content, page_content])
    network = np.concatenate([network, np.full(n_page, "linkedin", dtype=object)])
    keep = (posted >= START + DAY) & (posted < END - HOUR)
    order = np.lexsort((content[keep], author[keep], posted[keep]))
    author, posted, content, network = (a[keep][order] for a in (author, posted, content, network))
    idx = np.arange(len(author))
    return Shares(
        n=len(author),
        share_id=hex_ids("sh_", idx, seed, "share"),
        token=hex_ids("rl-", idx, seed, "token"),
        author=author,
        network=network,
        posted_at=posted,
        content=content,
    )


def share_events(c: Company, contents: Contents, s: Shares, seed: int) -> Events:
    rng = stream(seed, "share_events")
    author_id = pa.array(
        np.where(s.is_page, PAGE_ID, c.employee_id.to_numpy(zero_copy_only=False)[np.maximum(s.author, 0)]),
        pa.string(),
    )
    content_id = contents.content_id.to_numpy(zero_copy_only=False)[np.maximum(s.content, 0)]
    content_id = pa.array(np.where(s.content >= 0, content_id, None), pa.string())
    # An unknown field the lander must keep: the platform's own post id (not PII).
    urn_num = pc.cast(pa.array(_post_numbers(s.n, seed), pa.uint64()), pa.string())
    urn = pc.binary_join_element_wise("urn:li:share:", urn_num, "")
    urn = pc.if_else(pa.array(s.network == "linkedin"), urn, pa.scalar(None, pa.string()))
    cols = {
        "share_id": s.share_id,
        "author_type": np.where(s.is_page, "page", "employee").astype(object),
        "author_id": author_id,
        "network": s.network,
        "posted_at": s.posted_at,
        "tracking_token": s.token,
        "content_id": content_id,
    }
    return make_events("share", cols, s.posted_at, rng, extras={"platform_post_urn": urn})


def _post_numbers(n: int, seed: int) -> np.ndarray:
    # 19-digit post numbers, increasing with time as the platform's are.
    rng = stream(seed, "post_numbers")
    return 7_100_000_000_000_000_000 + np.cumsum(rng.integers(1, 10_000_000_000, n, dtype=np.int64)).astype(
        np.uint64
    )
