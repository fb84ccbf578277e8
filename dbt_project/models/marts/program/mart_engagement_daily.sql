-- Grain: day (UTC) on which engagements occurred. Daily engagement trend and the share of it
-- that stays inside the company bubble.

with

daily as (

    select
        cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) as engagement_date,
        count(*) as engagements,
        cast(sum(case when engagement_type = 'reaction' then 1 else 0 end) as {{ dbt.type_bigint() }}) as reactions,
        cast(sum(case when engagement_type = 'comment' then 1 else 0 end) as {{ dbt.type_bigint() }}) as comments,
        cast(sum(case when engagement_type = 'reshare' then 1 else 0 end) as {{ dbt.type_bigint() }}) as reshares,
        count(distinct share_id) as shares_engaged,
        cast(sum(case when is_known_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as engagements_known_actor,
        cast(sum(case when is_colleague_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as colleague_engagements
    from {{ ref('fct_engagements') }}
    group by 1

),

final as (

    select
        *,
        {{ reachloop.safe_divide('colleague_engagements', 'engagements_known_actor') }}
            as colleague_engagement_share
    from daily

)

select * from final
