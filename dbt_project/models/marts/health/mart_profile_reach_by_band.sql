-- Grain: profile completeness band. Do better profiles reach further? Every employee share
-- posted after a profile snapshot, grouped by the completeness band of its author's profile as
-- of posting (int_share_profiles, macro profile_completeness_band): shares, sharers, median
-- reach ratio and engagement rate, mean SSI. Shares whose profile as of posting states no
-- completeness (an SSI-only snapshot) form the band null.
-- Privacy: a band with fewer sharing employees than `min_group_size` keeps its row with every
-- figure null (is_suppressed).

with

shares as (

    select
        share_profiles.employee_id,
        share_profiles.reach_ratio,
        share_profiles.engagement_rate,
        profiles.completeness_band,
        profiles.ssi_score
    from {{ ref('int_share_profiles') }} as share_profiles
    inner join {{ ref('mart_profile_readiness') }} as profiles
        on share_profiles.employee_id = profiles.employee_id
        and share_profiles.profile_observed_at = profiles.observed_at

),

bands as (

    select
        completeness_band,
        count(distinct employee_id) as sharers,
        count(*) as shares,
        {{ reachloop.median('reach_ratio') }} as median_reach_ratio,
        {{ reachloop.median('engagement_rate') }} as median_engagement_rate,
        {{ reachloop.exact_avg('ssi_score') }} as mean_ssi_score
    from shares
    group by completeness_band

)

select
    cast(completeness_band as {{ dbt.type_string() }}) as completeness_band,
    sharers < {{ var('min_group_size') }} as is_suppressed,
    {% for column in ['sharers', 'shares', 'median_reach_ratio', 'median_engagement_rate', 'mean_ssi_score'] -%}
    case when sharers >= {{ var('min_group_size') }} then {{ column }} end as {{ column }}
    {%- if not loop.last %},{% endif %}
    {% endfor %}
from bands
