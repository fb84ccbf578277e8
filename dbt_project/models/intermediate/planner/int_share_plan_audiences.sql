-- Grain: candidate employee × member. Each candidate's audience as of the plan moment
-- (int_share_plan_candidates: an observation, or the engagers of their shares in the
-- `audience_fallback_days` before it), colleagues left out (int_colleague_members): the
-- planner counts people outside the company. member_number is the key the other planner
-- inputs join on; the planner numbers the members densely itself (int_share_plan_suggestions):
-- a dense numbering is a rank over every row, which no incremental run could keep.
-- No distinct: a candidate has one audience, an observation holds a member once
-- (stg_event_log__audiences' key is employee, member, observed_at), and a member's engager
-- spans are disjoint, so at most one holds the plan moment.
--
-- Incremental on the log position. A candidate's rows read their audience (basis and
-- observation, stored with each row), that observation's rows or their engager spans, and
-- the colleagues; so a run recomputes
--   * the candidates whose basis or observation is not the one their stored rows carry (a
--     newer observation at or before the plan moment, a new candidate, one whose audience was
--     empty: it stores no rows);
--   * the observed candidates whose observation gained a row past the watermark (a late row:
--     an observation's key holds its employee and time, so every version names the same one);
--   * every engaged candidate: their window ends at the plan moment, which moves with every
--     new share, and their spans with every engagement (a small part of the rows: 28k of 589k
--     at SF10);
--   * the candidates holding a member whose colleague status may have changed: a member named
--     by some version of an employee snapshot changed past the watermark, stored here although
--     a colleague now (they joined), or in the observation of a candidate although no
--     colleague now (they left, or were never one: a superset, rarely more than none). Stored
--     rows hold exactly their observation's members who were no colleagues when written, so a
--     member who stays a colleague (a roster's monthly snapshot) moves nobody.
--   * the stored employees who are candidates no more (opted out, left).
-- A recomputed employee without members gets a marker row that the post-hook deletes.
-- The colleague filter stays here rather than downstream: the table means the audience
-- outside the company to its readers (the plan, `reachloop plan`, Spark's copy), and the
-- holders of a changed colleague are found from the stored rows and, only for one who left,
-- one filtered scan of the observations.
-- depends_on: {{ ref('stg_event_log__employees') }}, {{ source('event_log', 'employee') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='employee_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where member_number is null",
    )
}}

with

candidates as (

    select employee_id, plan_at as posted_at, audience_basis, audience_observed_at
    from {{ ref('int_share_plan_candidates') }}

),

colleagues as (

    select {{ reachloop.member_number('member_id') }} as member_number
    from {{ ref('int_colleague_members') }}

),

{% if is_incremental() -%}
stored as (

    select employee_id, audience_basis, audience_observed_at
    from {{ this }}
    group by employee_id, audience_basis, audience_observed_at

),

changed_colleagues as (

    {%- set member_id = 'cast(employee_versions.member_id as ' ~ dbt.type_string() ~ ')' %}
    select distinct {{ reachloop.member_number(member_id) }} as member_number
    from {{ source('event_log', 'employee') }} as employee_versions
    where employee_versions.member_id is not null
        and employee_versions.event_key in ({{ reachloop.changed_events('stg_event_log__employees') }})

),

observed_candidates as (

    select employee_id, audience_observed_at
    from candidates
    where audience_basis = 'observed'

),

touched as (

    select employee_id from candidates where audience_basis = 'engaged'
    union
    select observed_candidates.employee_id
    from observed_candidates
    left join stored
        on stored.employee_id = observed_candidates.employee_id
        and stored.audience_basis = 'observed'
        and stored.audience_observed_at = observed_candidates.audience_observed_at
    where stored.employee_id is null
    union
    select stored.employee_id
    from stored
    where not exists (select 1 from candidates where candidates.employee_id = stored.employee_id)
    union
    select audiences.employee_id
    from {{ ref('stg_event_log__audiences') }} as audiences
    inner join observed_candidates
        on audiences.employee_id = observed_candidates.employee_id
        and audiences.observed_at = observed_candidates.audience_observed_at
    where audiences.log_position > {{ reachloop.incremental_watermark() }}
    union
    select employee_id
    from {{ this }}
    where member_number in (
        select member_number from changed_colleagues
        where member_number in (select member_number from colleagues)
    )
    union
    select audiences.employee_id
    from {{ ref('stg_event_log__audiences') }} as audiences
    inner join observed_candidates
        on audiences.employee_id = observed_candidates.employee_id
        and audiences.observed_at = observed_candidates.audience_observed_at
    where audiences.member_number in (
        select member_number from changed_colleagues
        where member_number not in (select member_number from colleagues)
    )

),

{% endif -%}
refs as (

    select candidates.*
    from candidates
    {%- if is_incremental() %}
    where candidates.employee_id in (select employee_id from touched)
    {%- endif %}

),

members as (

    select employee_id, audience_basis, audience_observed_at, member_number
    from (
        {{ reachloop.audience_members('refs', ['employee_id', 'audience_basis', 'audience_observed_at']) }}
    ) as audience_members
    where member_number is not null

),

outside as (

    select
        members.employee_id,
        members.member_number,
        members.audience_basis,
        members.audience_observed_at,
        {{ reachloop.log_position() }} as log_position_through
    from members
    where not exists (
        select 1 from colleagues where colleagues.member_number = members.member_number
    )

)

select * from outside
{%- if is_incremental() %}

union all

-- A touched employee without members now: a marker that replaces their rows (post-hook).
select employee_id, null, null, null, {{ reachloop.log_position() }}
from touched
where employee_id not in (select employee_id from outside)
{%- endif %}
