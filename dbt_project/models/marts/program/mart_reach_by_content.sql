-- Grain: content item. Reach and interactions of every share of the item, employees and page.

with

shares as (

    select * from {{ ref('fct_shares') }}
    where content_id is not null

),

rollup as (

    select
        content_id,
        cast(sum(case when author_type = 'employee' then 1 else 0 end) as {{ dbt.type_bigint() }}) as employee_shares,
        cast(sum(case when author_type = 'page' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_shares,
        count(distinct case when author_type = 'employee' then author_id end) as sharers,
        min(posted_at) as first_shared_at,
        cast(sum(case when author_type = 'employee' then network_size end) as {{ dbt.type_bigint() }}) as potential_reach,
        cast(sum(members_reached) as {{ dbt.type_bigint() }}) as members_reached,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(interactions) as {{ dbt.type_bigint() }}) as interactions
    from shares
    group by content_id

),

with_content as (

    select
        rollup.content_id,
        contents.title,
        contents.topic,
        contents.campaign,
        contents.published_at,
        rollup.employee_shares,
        rollup.page_shares,
        rollup.sharers,
        rollup.first_shared_at,
        rollup.potential_reach,
        rollup.members_reached,
        rollup.impressions,
        rollup.interactions
    from rollup
    left join {{ ref('dim_contents') }} as contents
        on rollup.content_id = contents.content_id

)

select * from with_content
