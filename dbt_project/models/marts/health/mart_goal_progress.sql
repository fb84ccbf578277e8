-- Grain: program goal (goal_id, its latest version). Actual against target, and a straight-line
-- forecast for the period's end. Measured over period_start ≤ t ≤ measured_through (and t < period_end), where
-- measured_through = the period's end or, before it, the log's newest event (a share, a click,
-- a form fill, a deal event or a follower snapshot): the build's "now", the same on every
-- rebuild of the same log. Metrics (docs/design.md, "Program goals"):
--   employee_shares, active_sharers, members_reached, impressions, interactions: employee
--     shares posted in the window (scoped by the author's department and/or the network);
--   engagement_rate: Σ interactions ÷ Σ impressions of those shares;
--   social_sourced_site_visits: clicks in the window through a share's tracking token (bots
--     included, as mart_program_kpis_monthly), scoped by the share;
--   page_followers: the page followers of the latest snapshot in the window (all pages);
--   leads: form fills in the window by visitors with a human click on a share's link at or
--     before the fill;
--   pipeline: amounts of attributed deals (at least one touch) created in the window, in the
--     goal's currency.
-- Forecast: sums grow in a straight line (actual ÷ elapsed share of the period); a ratio
-- (engagement_rate) stays where it is; a level (page_followers) moves on in a straight line
-- from its value at the period's start.
-- Privacy: a goal scoped to a department with fewer employees than `min_group_size` has its
-- actual and forecast null (is_suppressed).
--
-- Incremental on the log position, by goal: a run recomputes the goals whose row may have
-- changed since its watermark, a superset of those that did, and reads the log only over their
-- periods:
--   * a new or revised goal, and every goal whose measured_through moved (an open goal, on
--     every build that sees a later event);
--   * a share goal whose period holds a share fct_shares recomputed since (the share, its
--     metrics or clicks changed) or the posting time of any version of a changed share (one
--     that moved leaves its old period);
--   * a visit goal whose period holds any version of a changed click, or a click on a token
--     any version of a changed share had (its share, and so its scope, may have changed);
--   * a lead goal whose period holds any version of a changed form fill, or a fill of a
--     visitor whose classified clicks were recomputed since (or who any version of a changed
--     click named): a human share click can make a later fill count, or stop it counting;
--   * every goal scoped to a department once any employee row changed (departments and their
--     sizes, so suppression, move with it);
--   * every follower and pipeline goal: their inputs are a few snapshots a day and one row a
--     deal, read whole.
-- Goals never disappear from the log short of a rejected batch, which rebuilds whole.
-- depends_on: {{ source('event_log', 'share') }}, {{ source('event_log', 'click') }}, {{ source('event_log', 'form_fill') }}, {{ ref('stg_event_log__shares') }}, {{ ref('stg_event_log__employees') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='goal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

horizon as (

    select max(moment) as newest_event_at
    from (
        select max(posted_at) as moment from {{ ref('fct_shares') }}
        union all
        select max(clicked_at) from {{ ref('int_clicks_classified') }}
        union all
        select max(occurred_at) from {{ ref('stg_event_log__form_fills') }}
        union all
        select max(occurred_at) from {{ ref('stg_event_log__deal_events') }}
        union all
        select max(observed_at) from {{ ref('stg_event_log__page_followers') }}
    ) as newest

),

all_goals as (

    select
        goals.*,
        case
            when horizon.newest_event_at is null or horizon.newest_event_at < goals.period_start
                then goals.period_start
            when horizon.newest_event_at >= goals.period_end then goals.period_end
            else horizon.newest_event_at
        end as measured_through,
        -- the events a goal counts, for an incremental run to find what touches it
        case
            when goals.metric in ('employee_shares', 'active_sharers', 'members_reached', 'impressions', 'interactions', 'engagement_rate')
                then 'share'
            when goals.metric = 'social_sourced_site_visits' then 'visit'
            when goals.metric = 'leads' then 'lead'
        end as events_counted
    from {{ ref('stg_event_log__program_goals') }} as goals
    cross join horizon

),

{% if is_incremental() -%}
{%- set watermark = reachloop.incremental_watermark() %}
-- Every version of a changed click, read from the raw log once: its time touches visit goals,
-- its visitor lead goals.
click_versions as (

    select visitor_id, occurred_at
    from {{ source('event_log', 'click') }}
    where event_key in ({{ reachloop.changed_events('stg_event_log__clicks') }})

),

changed_visitors as (

    select visitor_id from {{ ref('int_clicks_classified') }}
    where log_position_through > {{ watermark }}
    union
    select visitor_id from click_versions

),

changed_moments as (

    -- When something a goal counts changed, by what it is: a goal is touched by a moment of its
    -- own kind within its period.
    select 'share' as counted, shares.posted_at as moment
    from {{ ref('fct_shares') }} as shares
    where shares.log_position_through > {{ watermark }}
    union all
    select 'share', share_versions.posted_at from ({{ reachloop.changed_share_ids() }}) as share_versions
    union all
    select 'visit', occurred_at from click_versions
    union all
    select 'visit', clicks.occurred_at
    from {{ ref('stg_event_log__clicks') }} as clicks
    where clicks.tracking_token in ({{ reachloop.tokens_of_changed_shares() }})
    union all
    select 'lead', fill_versions.occurred_at
    from {{ source('event_log', 'form_fill') }} as fill_versions
    where fill_versions.event_key in ({{ reachloop.changed_events('stg_event_log__form_fills') }})
    union all
    select 'lead', fills.occurred_at
    from {{ ref('stg_event_log__form_fills') }} as fills
    where fills.visitor_id in (select visitor_id from changed_visitors)

),

goals as (

    select all_goals.*
    from all_goals
    left join {{ this }} as stored on all_goals.goal_id = stored.goal_id
    where stored.goal_id is null
        or all_goals.log_position > {{ watermark }}
        or stored.measured_through is distinct from all_goals.measured_through
        or all_goals.metric in ('page_followers', 'pipeline')
        or (
            all_goals.department is not null
            and exists (
                select 1 from {{ ref('stg_event_log__employees') }}
                where log_position > {{ watermark }}
            )
        )
        or exists (
            select 1 from changed_moments
            where changed_moments.counted = all_goals.events_counted
                and changed_moments.moment >= all_goals.period_start
                and changed_moments.moment < all_goals.period_end
        )

),

-- Each kind of event is read over the periods of the recomputed goals that count it only
-- (the follower and pipeline goals, always recomputed, span every quarter).
periods as (

    select events_counted, min(period_start) as first_start, max(period_end) as last_end
    from goals
    group by events_counted

),
{%- else %}
goals as (

    select * from all_goals

),
{%- endif %}

department_sizes as (

    select department, count(*) as employees
    from {{ ref('dim_employees') }}
    group by department

),

shares as (

    select
        shares.share_id,
        shares.author_type,
        shares.author_id,
        shares.network,
        shares.tracking_token,
        shares.posted_at,
        shares.members_reached,
        shares.impressions,
        shares.interactions,
        employees.department
    from {{ ref('fct_shares') }} as shares
    left join {{ ref('dim_employees') }} as employees
        on shares.author_id = employees.employee_id and shares.author_type = 'employee'

),

{%- set in_scope = "(goals.department is null or shares.department = goals.department)
        and (goals.network is null or shares.network = goals.network)" %}

share_actuals as (

    select
        goals.goal_id,
        count(*) as employee_shares,
        count(distinct shares.author_id) as active_sharers,
        sum(shares.members_reached) as members_reached,
        sum(shares.impressions) as impressions,
        sum(shares.interactions) as interactions,
        {{ reachloop.safe_divide('sum(shares.interactions)', 'sum(shares.impressions)') }} as engagement_rate
    from goals
    inner join shares
        on shares.author_type = 'employee'
        and shares.posted_at >= goals.period_start
        and shares.posted_at <= goals.measured_through
        and shares.posted_at < goals.period_end
        and {{ in_scope }}
    where goals.events_counted = 'share'
    {%- if is_incremental() %}
        and shares.posted_at >= (select first_start from periods where events_counted = 'share')
        and shares.posted_at < (select last_end from periods where events_counted = 'share')
    {%- endif %}
    group by goals.goal_id

),

visit_actuals as (

    select goals.goal_id, count(*) as social_sourced_site_visits
    from goals
    inner join {{ ref('stg_event_log__clicks') }} as clicks
        on clicks.occurred_at >= goals.period_start
        and clicks.occurred_at <= goals.measured_through
        and clicks.occurred_at < goals.period_end
    inner join shares
        on clicks.tracking_token = shares.tracking_token
        and {{ in_scope }}
    where goals.metric = 'social_sourced_site_visits'
    {%- if is_incremental() %}
        and clicks.occurred_at >= (select first_start from periods where events_counted = 'visit')
        and clicks.occurred_at < (select last_end from periods where events_counted = 'visit')
    {%- endif %}
    group by goals.goal_id

),

follower_totals as (

    select observed_at, sum(followers) as followers
    from (
        -- every page's latest count at each snapshot moment
        select snapshot_times.observed_at, pages.followers,
            row_number() over (
                partition by snapshot_times.observed_at, pages.page_id order by pages.observed_at desc
            ) as page_rank
        from (select distinct observed_at from {{ ref('stg_event_log__page_followers') }}) as snapshot_times
        inner join {{ ref('stg_event_log__page_followers') }} as pages
            on pages.observed_at <= snapshot_times.observed_at
    ) as latest
    where page_rank = 1
    group by observed_at

),

follower_actuals as (

    select
        goals.goal_id,
        max(case when follower_totals.observed_at >= goals.period_start
            then follower_totals.observed_at end) as last_snapshot_at,
        max(case when follower_totals.observed_at < goals.period_start
            then follower_totals.observed_at end) as opening_snapshot_at,
        min(case when follower_totals.observed_at >= goals.period_start
            then follower_totals.observed_at end) as first_snapshot_at
    from goals
    inner join follower_totals
        on follower_totals.observed_at <= goals.measured_through
        and follower_totals.observed_at < goals.period_end
    where goals.metric = 'page_followers'
    group by goals.goal_id

),

follower_levels as (

    select
        follower_actuals.goal_id,
        closing.followers as page_followers,
        coalesce(opening.followers, first_in_period.followers) as opening_followers
    from follower_actuals
    left join follower_totals as closing on closing.observed_at = follower_actuals.last_snapshot_at
    left join follower_totals as opening on opening.observed_at = follower_actuals.opening_snapshot_at
    left join follower_totals as first_in_period
        on first_in_period.observed_at = follower_actuals.first_snapshot_at

),

lead_actuals as (

    select goals.goal_id, count(distinct fills.submission_id) as leads
    from goals
    inner join {{ ref('stg_event_log__form_fills') }} as fills
        on fills.occurred_at >= goals.period_start
        and fills.occurred_at <= goals.measured_through
        and fills.occurred_at < goals.period_end
    where goals.metric = 'leads'
        {%- if is_incremental() %}
        and fills.occurred_at >= (select first_start from periods where events_counted = 'lead')
        and fills.occurred_at < (select last_end from periods where events_counted = 'lead')
        {%- endif %}
        and exists (
            select 1
            from {{ ref('int_clicks_classified') }} as clicks
            where clicks.visitor_id = fills.visitor_id
                and clicks.share_id is not null
                and not clicks.is_bot
                and clicks.clicked_at <= fills.occurred_at
        )
    group by goals.goal_id

),

pipeline_actuals as (

    select goals.goal_id, sum(deals.amount) as pipeline
    from goals
    inner join {{ ref('fct_deals') }} as deals
        on deals.created_at >= goals.period_start
        and deals.created_at <= goals.measured_through
        and deals.created_at < goals.period_end
        and deals.currency = goals.currency
    where goals.metric = 'pipeline' and deals.is_attributed
    group by goals.goal_id

),

actuals as (

    select
        goals.*,
        {{ reachloop.safe_divide(
            dbt.datediff('goals.period_start', 'goals.measured_through', 'second'),
            dbt.datediff('goals.period_start', 'goals.period_end', 'second')
        ) }} as elapsed_share,
        case goals.metric
            {% for metric in ['employee_shares', 'active_sharers', 'members_reached', 'impressions', 'interactions'] -%}
            when '{{ metric }}' then cast(coalesce(share_actuals.{{ metric }}, 0) as {{ reachloop.type_double() }})
            {% endfor -%}
            when 'engagement_rate' then share_actuals.engagement_rate
            when 'social_sourced_site_visits' then cast(coalesce(visit_actuals.social_sourced_site_visits, 0) as {{ reachloop.type_double() }})
            when 'page_followers' then cast(follower_levels.page_followers as {{ reachloop.type_double() }})
            when 'leads' then cast(coalesce(lead_actuals.leads, 0) as {{ reachloop.type_double() }})
            when 'pipeline' then cast(coalesce(pipeline_actuals.pipeline, 0) as {{ reachloop.type_double() }})
        end as actual,
        cast(follower_levels.opening_followers as {{ reachloop.type_double() }}) as opening_value,
        goals.department is not null
            and coalesce(department_sizes.employees, 0) < {{ var('min_group_size') }} as is_suppressed
    from goals
    left join share_actuals on goals.goal_id = share_actuals.goal_id
    left join visit_actuals on goals.goal_id = visit_actuals.goal_id
    left join follower_levels on goals.goal_id = follower_levels.goal_id
    left join lead_actuals on goals.goal_id = lead_actuals.goal_id
    left join pipeline_actuals on goals.goal_id = pipeline_actuals.goal_id
    left join department_sizes on goals.department = department_sizes.department

),

forecasts as (

    select
        *,
        case
            when elapsed_share is null or elapsed_share = 0 then null
            when metric = 'engagement_rate' then actual
            when metric = 'page_followers' then opening_value + (actual - opening_value) / elapsed_share
            else actual / elapsed_share
        end as forecast
    from actuals

),

final as (

    select
        goal_id,
        cast(title as {{ dbt.type_string() }}) as title,
        metric,
        department,
        network,
        currency,
        period_start,
        period_end,
        measured_through,
        elapsed_share,
        target,
        is_suppressed,
        case when not is_suppressed then actual end as actual,
        case when not is_suppressed then {{ reachloop.safe_divide('actual', 'target') }} end as pct_of_target,
        case when not is_suppressed then forecast end as forecast,
        case when not is_suppressed then {{ reachloop.safe_divide('forecast', 'target') }} end
            as forecast_pct_of_target,
        cast(case
            when is_suppressed then null
            when elapsed_share = 0 then 'not_started'
            when elapsed_share >= 1 and actual >= target then 'achieved'
            when elapsed_share >= 1 then 'missed'
            when forecast >= target then 'on_track'
            else 'behind'
        end as {{ dbt.type_string() }}) as status,
        {{ reachloop.log_position() }} as log_position_through
    from forecasts

)

select * from final
