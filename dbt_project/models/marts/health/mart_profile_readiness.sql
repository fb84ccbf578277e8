-- Grain: profile snapshot (employee_id, observed_at). Each employee's profile and Social
-- Selling Index over time, beside what their shares did while that snapshot was their latest
-- (from observed_at to the next snapshot, valid_until): shares, members reached, median reach
-- ratio, interactions, median engagement rate. Completeness: macro profile_completeness.
-- Pseudonymous ids only, no department (as mart_reach_by_employee).

with

snapshots as (

    select
        *,
        lead(observed_at) over (partition by employee_id order by observed_at) as valid_until
    from {{ ref('stg_event_log__profile_snapshots') }}

),

share_figures as (

    select
        employee_id,
        profile_observed_at,
        count(*) as shares,
        cast(sum(members_reached) as {{ dbt.type_bigint() }}) as members_reached,
        {{ reachloop.median('reach_ratio') }} as median_reach_ratio,
        cast(sum(interactions) as {{ dbt.type_bigint() }}) as interactions,
        {{ reachloop.median('engagement_rate') }} as median_engagement_rate
    from {{ ref('int_share_profiles') }}
    group by employee_id, profile_observed_at

),

final as (

    select
        snapshots.employee_id,
        snapshots.observed_at,
        snapshots.valid_until,
        cast({{ reachloop.profile_completeness('snapshots') }} as {{ dbt.type_bigint() }}) as profile_completeness,
        cast({{ reachloop.profile_completeness_band(reachloop.profile_completeness('snapshots')) }}
            as {{ dbt.type_string() }}) as completeness_band,
        snapshots.ssi_score,
        snapshots.ssi_professional_brand,
        snapshots.ssi_find_people,
        snapshots.ssi_engage_insights,
        snapshots.ssi_build_relationships,
        snapshots.has_photo,
        snapshots.has_headline,
        snapshots.has_about,
        snapshots.experience_count,
        snapshots.skills_count,
        snapshots.recommendations_count,
        coalesce(share_figures.shares, 0) as shares,
        share_figures.members_reached,
        share_figures.median_reach_ratio,
        share_figures.interactions,
        share_figures.median_engagement_rate
    from snapshots
    left join share_figures
        on snapshots.employee_id = share_figures.employee_id
        and snapshots.observed_at = share_figures.profile_observed_at

)

select * from final
