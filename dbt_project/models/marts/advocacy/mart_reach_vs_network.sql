-- Grain: share. How many members a post reached against the size of the network it was posted
-- to (definitions in fct_shares and _marts__docs.md).

select
    share_id,
    author_type,
    author_id,
    network,
    content_id,
    posted_at,
    members_reached,
    reach_basis,
    network_size,
    network_size_observed_at,
    reach_ratio,
    network_size_basis
from {{ ref('fct_shares') }}
