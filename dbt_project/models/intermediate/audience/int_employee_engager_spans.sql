-- Grain: employee × engaging member × span. The fallback audience of an employee without an
-- `audience` observation, in a form that is not copied per share: a member is in it at a
-- moment when they engaged with one of the employee's shares in the
-- `audience_fallback_days` (N) before that moment (at most N days before, strictly before).
--
-- One engagement at t puts the member in the audience at every moment in (t, t + N days].
-- Those intervals are merged per employee and member: engagements at most N days apart
-- form one span (gaps-and-islands), the member is in the audience exactly at the moments in
-- (first_engaged_at, audience_until] of a span, audience_until = last_engaged_at + N days.
-- Spans of one employee and member are disjoint, so a moment falls into at most one span:
-- joining shares on first_engaged_at < posted_at <= audience_until gives each member once.
-- (t >= posted_at − N days  ⇔  posted_at <= t + N days: day arithmetic in UTC, the
-- warehouse's time zone, is a plain shift.)
--
-- Incremental on the log position: a run recomputes every span of the (employee, member)
-- pairs that engagements or shares landed past the watermark touch — with the pairs of their
-- older versions in the log (an engagement moved to another share, a share with another
-- author): a pair left without engagements gets a marker row (engagements = 0) that replaces
-- its spans and that the post-hook deletes.

{{
    config(
        materialized='incremental',
        unique_key=['employee_id', 'member_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where engagements = 0",
    )
}}

with

employee_shares as (

    select share_id, author_id as employee_id
    from {{ ref('stg_event_log__shares') }}
    where author_type = 'employee'

),

{% if is_incremental() -%}
changed_engagements as (

    select event_key from {{ ref('stg_event_log__engagements') }}
    where log_position > {{ reachloop.incremental_watermark() }}

),

changed_shares as (

    select event_key from {{ ref('stg_event_log__shares') }}
    where log_position > {{ reachloop.incremental_watermark() }}

),

-- Every version the log holds of what changed, current and older.
engagement_versions as (

    select share_id, actor_id as member_id
    from {{ source('event_log', 'engagement') }}
    where event_key in (select event_key from changed_engagements)

),

share_versions as (

    select share_id, author_id as employee_id
    from {{ source('event_log', 'share') }}
    where event_key in (select event_key from changed_shares) and author_type = 'employee'

),

touched_pairs as (

    select employee_shares.employee_id, engagement_versions.member_id
    from engagement_versions
    inner join employee_shares on engagement_versions.share_id = employee_shares.share_id
    union
    select share_versions.employee_id, engagement_versions.member_id
    from engagement_versions
    inner join share_versions on engagement_versions.share_id = share_versions.share_id
    union
    select share_versions.employee_id, engagements.actor_id
    from {{ ref('stg_event_log__engagements') }} as engagements
    inner join share_versions on engagements.share_id = share_versions.share_id

),

{% endif -%}
engagements as (

    select
        employee_shares.employee_id,
        engagements.actor_id as member_id,
        engagements.occurred_at
    from {{ ref('stg_event_log__engagements') }} as engagements
    inner join employee_shares
        on engagements.share_id = employee_shares.share_id
    {%- if is_incremental() %}
    inner join touched_pairs
        on employee_shares.employee_id = touched_pairs.employee_id
        and engagements.actor_id = touched_pairs.member_id
    {%- endif %}
    where engagements.occurred_at is not null
    {%- if is_incremental() %}
        -- The touched members' engagements first: without it the whole log's engagements are
        -- joined to their shares before the pairs cut them down.
        and engagements.actor_id in (select member_id from touched_pairs)
    {%- endif %}

),

previous_engagements as (

    select
        employee_id,
        member_id,
        occurred_at,
        lag(occurred_at) over (
            partition by employee_id, member_id order by occurred_at
        ) as previous_engaged_at
    from engagements

),

span_starts as (

    select
        employee_id,
        member_id,
        occurred_at,
        case
            when {{ dbt.dateadd('day', var('audience_fallback_days'), 'previous_engaged_at') }}
                >= occurred_at then 0
            else 1
        end as starts_span
    from previous_engagements

),

numbered as (

    -- range framing: engagements at the same moment always land in the same span
    select
        employee_id,
        member_id,
        occurred_at,
        sum(starts_span) over (
            partition by employee_id, member_id
            order by occurred_at
            range between unbounded preceding and current row
        ) as span_number
    from span_starts

),

spans as (

    select
        employee_id,
        member_id,
        min(occurred_at) as first_engaged_at,
        max(occurred_at) as last_engaged_at,
        count(*) as engagements
    from numbered
    group by employee_id, member_id, span_number

),

final as (

    select
        employee_id,
        member_id,
        -- converted once per span here, not by every model that joins spans
        {{ reachloop.member_number('member_id') }} as member_number,
        first_engaged_at,
        last_engaged_at,
        {{ dbt.dateadd('day', var('audience_fallback_days'), 'last_engaged_at') }} as audience_until,
        engagements,
        {{ reachloop.log_position() }} as log_position_through
    from spans
    {%- if is_incremental() %}

    union all

    -- A touched pair without engagements now: a marker that replaces its spans (post-hook).
    select
        touched_pairs.employee_id,
        touched_pairs.member_id,
        null,
        null,
        null,
        null,
        0,
        {{ reachloop.log_position() }}
    from touched_pairs
    where not exists (
        select 1 from spans
        where spans.employee_id = touched_pairs.employee_id
            and spans.member_id = touched_pairs.member_id
    )
    {%- endif %}

)

select * from final
