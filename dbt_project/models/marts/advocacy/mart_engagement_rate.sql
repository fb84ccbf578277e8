-- Grain: share, lifetime as of the build. LinkedIn's engagement rate and click-through rate
-- from the latest metrics snapshot (definitions in fct_shares and _marts__docs.md); clicks
-- are the share's tracked clicks where the snapshot counts none (clicks_basis).

select
    share_id,
    author_type,
    author_id,
    network,
    posted_at,
    metrics_observed_at,
    impressions,
    clicks,
    reactions,
    comments,
    reshares,
    interactions,
    engagement_rate,
    ctr,
    clicks_basis,
    saves,
    sends
from {{ ref('fct_shares') }}
