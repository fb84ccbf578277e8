-- Grain: employee share. Which audience each employee share is measured against, without
-- copying its members (an audience snapshot would be copied once per share that uses it):
--   * 'observed': the employee's latest `audience` observation at or before posted_at; its
--     members are the stg_event_log__audiences rows with that employee_id and observed_at
--     (audience_observed_at);
--   * 'engaged' (no such observation): the members who engaged with the employee's shares in
--     the `audience_fallback_days` before posted_at; its members are the
--     int_employee_engager_spans rows of the employee with
--     first_engaged_at < posted_at <= audience_until.
-- A later observation is never used. Page shares have no audience here.
-- Incremental on the log position: a run recomputes the shares landed past the watermark and
-- the employee's shares posted at or after an `audience` observation landed past it (an
-- observation's key holds its employee and time, so every version of it names the same
-- shares); nothing else decides a row. A share that is no employee's any more gets a marker
-- row that the post-hook deletes.

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where employee_id is null",
    )
}}

with

{% if is_incremental() -%}
touched_shares as (

    select share_id from {{ ref('stg_event_log__shares') }}
    where log_position > {{ reachloop.incremental_watermark() }}
    union
    select shares.share_id
    from {{ ref('stg_event_log__shares') }} as shares
    inner join (
        select employee_id, min(observed_at) as observed_from
        from {{ ref('stg_event_log__audiences') }}
        where log_position > {{ reachloop.incremental_watermark() }}
        group by employee_id
    ) as observed
        on shares.author_id = observed.employee_id and shares.posted_at >= observed.observed_from
    where shares.author_type = 'employee'

),

{% endif -%}
employee_shares as (

    select share_id, author_id as employee_id, posted_at
    from {{ ref('stg_event_log__shares') }}
    where author_type = 'employee'
    {%- if is_incremental() %}
        and share_id in (select share_id from touched_shares)
    {%- endif %}

),

observations as (

    -- One row an observation: the audience log holds one row a member.
    select distinct employee_id, observed_at
    from {{ ref('stg_event_log__audiences') }}
    {%- if is_incremental() %}
    -- the touched shares' authors' only: not every member row of every observation
    where employee_id in (select employee_id from employee_shares)
    {%- endif %}

),

latest_observations as (

    select share_id, observed_at
    from (
        select
            employee_shares.share_id,
            observations.observed_at,
            row_number() over (
                partition by employee_shares.share_id order by observations.observed_at desc
            ) as observation_rank
        from employee_shares
        inner join observations
            on observations.employee_id = employee_shares.employee_id
            and observations.observed_at <= employee_shares.posted_at
    ) as ranked
    where observation_rank = 1

),

resolved as (

    select
        employee_shares.share_id,
        employee_shares.employee_id,
        employee_shares.posted_at,
        case
            when latest_observations.share_id is null then 'engaged'
            else 'observed'
        end as audience_basis,
        latest_observations.observed_at as audience_observed_at,
        {{ reachloop.log_position() }} as log_position_through
    from employee_shares
    left join latest_observations
        on employee_shares.share_id = latest_observations.share_id

)

select * from resolved
{%- if is_incremental() %}

union all

-- A touched share that is no employee's post any more: a marker that replaces its row (post-hook).
select share_id, null, null, null, null, {{ reachloop.log_position() }}
from touched_shares
where share_id not in (select share_id from resolved)
{%- endif %}
