-- Grain: content item × suggested sharer. The share plan (int_share_plan_suggestions, from
-- planner/) for recent content not yet widely shared: who should share it next, in order, when,
-- and how many members outside the company each is expected to add. Pseudonymous ids only.

with

suggestions as (

    select * from {{ ref('int_share_plan_suggestions') }}

),

contents as (

    select content_id, published_at, plan_at, prior_sharers
    from {{ ref('int_share_plan_contents') }}

),

plan as (

    select
        cast(suggestions.content_id as {{ dbt.type_string() }}) as content_id,
        cast(suggestions.employee_id as {{ dbt.type_string() }}) as employee_id,
        cast(suggestions.sharer_rank as {{ dbt.type_bigint() }}) as sharer_rank,
        cast(suggestions.suggested_at as {{ reachloop.type_timestamptz() }}) as suggested_at,
        cast(suggestions.expected_new_members as {{ dbt.type_bigint() }}) as expected_new_members,
        cast(suggestions.cumulative_new_members as {{ dbt.type_bigint() }}) as cumulative_new_members,
        cast(suggestions.audience_size as {{ dbt.type_bigint() }}) as audience_size,
        cast(suggestions.audience_basis as {{ dbt.type_string() }}) as audience_basis,
        cast(suggestions.usual_hour as {{ dbt.type_bigint() }}) as usual_hour,
        cast(suggestions.already_reached as {{ dbt.type_bigint() }}) as already_reached,
        cast(contents.prior_sharers as {{ dbt.type_bigint() }}) as prior_sharers,
        contents.published_at,
        contents.plan_at,
        cast(suggestions.reason as {{ dbt.type_string() }}) as reason
    from suggestions
    inner join contents on suggestions.content_id = contents.content_id

)

select * from plan
