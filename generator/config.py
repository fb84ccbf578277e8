"""Scale parameters of the synthetic workload: every count and rate the generator uses.

SF1 is a 1,000-employee company observed over one calendar year. Counts that describe the
company (employees, content, page posts, people who visit) scale linearly with SF; rates
(reach, click-through, conversion, dirt) do not. Calibration sources are listed in
docs/design.md, "Scale".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEAR = 2025
# Epoch seconds of the data window [START, END): one calendar year, UTC.
START = int(np.datetime64(f"{YEAR}-01-01T00:00:00", "s").astype(np.int64))
END = int(np.datetime64(f"{YEAR + 1}-01-01T00:00:00", "s").astype(np.int64))
DAY = 86_400
HOUR = 3_600

PAGE_ID = "page:acme"
COMPANY_DOMAIN = "acme.example"

DEPARTMENTS = (
    "Sales",
    "Marketing",
    "Engineering",
    "Customer Success",
    "Product",
    "Finance",
    "People",
    "Operations",
)
DEPARTMENT_WEIGHTS = (0.22, 0.10, 0.30, 0.12, 0.08, 0.06, 0.05, 0.07)
# How much more likely a member of each department is to be an active sharer.
DEPARTMENT_SHARING = (3.0, 3.0, 0.6, 1.2, 1.0, 0.4, 0.8, 0.5)


@dataclass(frozen=True)
class Scale:
    sf: float
    employees: int
    contents: int
    page_posts: int
    # Network sizes: lognormal, median ~175 connections, long right tail.
    network_median: float = 175.0
    network_sigma: float = 0.95
    # Employees' networks together are about 10x the page's followers.
    network_to_followers: float = 10.0
    page_follower_growth: float = 0.18  # over the year
    active_share: float = 0.04  # "a few %" of employees are active sharers
    regular_share: float = 0.22
    active_posts_per_year: float = 160.0
    regular_posts_per_year: float = 11.0
    casual_posts_per_year: float = 0.8
    own_post_share: float = 0.15  # employee posts without company content
    twitter_share_of_employees: float = 0.08
    # Reach: unique impressions / audience. Page ~5% of followers; employees several x that.
    page_reach_median: float = 0.05
    employee_reach_median: float = 0.28
    impressions_per_unique: float = 1.35
    # Engagement per impression.
    reaction_rate_employee: float = 0.06
    reaction_rate_page: float = 0.02
    comment_rate: float = 0.007
    reshare_rate: float = 0.003
    # Click-through: employee shares about twice the page's.
    ctr_employee: float = 0.024
    ctr_page: float = 0.012
    tracked_click_share: float = 0.85  # tracked clicks / LinkedIn-counted clicks (ad blockers)
    bot_click_share: float = 0.05
    colleague_engagement_share: float = 0.25  # of engagements on employee posts
    employee_engagement_on_page: float = 0.12
    missing_unique_impressions: float = 0.12
    sponsored_like_removal: float = 0.04  # shares whose reactions dip between snapshots
    audience_observed_share: float = 0.45  # employees with `audience` exports
    # Advocacy opt-in (the share planner suggests only those who said yes): the program asks
    # the people it recruits, so sharers were nearly all asked and most said yes; of the rest,
    # a minority was ever asked (absent = not asked), and fewer of them said yes.
    opt_in_asked_sharer: float = 0.95  # active and regular sharers asked
    opt_in_yes_sharer: float = 0.85  # of those asked
    opt_in_asked_casual: float = 0.35
    opt_in_yes_casual: float = 0.45
    # Funnel.
    lead_per_click: float = 0.025  # social leads per human click
    organic_leads_per_social: float = 0.4
    two_device_share: float = 0.15
    deal_per_social_lead: float = 0.3
    deal_per_organic_lead: float = 0.12
    crm_only_deal_share: float = 0.08  # deals whose contacts never filled a form
    second_contact_share: float = 0.3
    # Dirt.
    duplicate_rate: float = 0.002
    late_rate: float = 0.003
    malformed_rate_per_kind: float = 0.0005


def scale_for(sf: float) -> Scale:
    if not sf > 0:
        raise ValueError(f"scale factor must be positive, got {sf!r}")
    return Scale(
        sf=sf,
        employees=max(10, round(1000 * sf)),
        contents=max(12, round(300 * sf)),
        # A page posts about daily whatever the company's size; its followers grow with SF,
        # so page posts must not (page impressions would grow as SF squared).
        page_posts=max(24, round(260 * min(sf, 1.0) ** 0.5)),
    )
