-- Grain: employee share posted at or after the employee's first profile snapshot. Each share
-- with the profile as of its posting: the author's latest profile_snapshot at or before it.

with

shares as (

    select share_id, author_id as employee_id, network, posted_at, members_reached, reach_ratio,
        interactions, engagement_rate
    from {{ ref('fct_shares') }}
    where author_type = 'employee'

),

snapshots as (

    select employee_id, observed_at
    from {{ ref('stg_event_log__profile_snapshots') }}

),

matched as (

    select
        shares.*,
        snapshots.observed_at as profile_observed_at,
        row_number() over (
            partition by shares.share_id order by snapshots.observed_at desc
        ) as snapshot_rank
    from shares
    inner join snapshots
        on shares.employee_id = snapshots.employee_id
        and snapshots.observed_at <= shares.posted_at

)

select
    share_id,
    employee_id,
    network,
    posted_at,
    profile_observed_at,
    members_reached,
    reach_ratio,
    interactions,
    engagement_rate
from matched
where snapshot_rank = 1
