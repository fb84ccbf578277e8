-- Grain: share. How much of a post's engagement comes from colleagues (the company bubble)
-- rather than from outside the company.

with

shares as (

    select share_id, author_type, author_id, posted_at, network
    from {{ ref('fct_shares') }}

),

engagement_counts as (

    select
        share_id,
        count(*) as engagements,
        cast(sum(case when is_known_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as engagements_known_actor,
        cast(sum(case when is_colleague_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as colleague_engagements
    from {{ ref('fct_engagements') }}
    group by share_id

),

bubble as (

    select
        shares.share_id,
        shares.author_type,
        shares.author_id,
        shares.posted_at,
        coalesce(engagement_counts.engagements, 0) as engagements,
        coalesce(engagement_counts.engagements_known_actor, 0) as engagements_known_actor,
        coalesce(engagement_counts.colleague_engagements, 0) as colleague_engagements,
        {{ reachloop.safe_divide(
            'engagement_counts.colleague_engagements', 'engagement_counts.engagements_known_actor'
        ) }} as colleague_engagement_share,
        shares.network
    from shares
    left join engagement_counts on shares.share_id = engagement_counts.share_id

)

select * from bubble
