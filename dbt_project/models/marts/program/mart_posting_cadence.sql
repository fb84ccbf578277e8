-- Grain: employee share. Cadence against reach: how often the author posts (posts that UTC
-- day, hours since their previous post on any network) next to what the post reached, to see
-- whether posting more often dilutes reach.
-- Incremental on the log position: a run writes the shares fct_shares recomputed since
-- (macros/touched_shares.sql: their reach) and, for every version of a changed share (a
-- share that moved leaves its old place), its author's shares of that UTC day (posts that
-- day) and up to their next post after it (whose previous post it was, or now is). Those are
-- computed over their authors' whole timelines; a row reads its author's posts and nobody
-- else's. A changed share left without a row (now a page's) gets a marker row that the
-- post-hook deletes.
-- depends_on: {{ ref('stg_event_log__shares') }} (read only by incremental runs)

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
changed_shares as (

    {{ reachloop.changed_share_ids() }}

),

version_places as (

    -- Where each version of a changed share sat in its author's timeline: its day, and the
    -- author's next post after it now.
    select
        changed.author_id as employee_id,
        {{ dbt.date_trunc('day', 'changed.posted_at') }} as day_start,
        (
            select min(later.posted_at) from {{ ref('fct_shares') }} as later
            where later.author_type = 'employee' and later.author_id = changed.author_id
                and later.posted_at > changed.posted_at
        ) as next_posted_at
    from changed_shares as changed
    where changed.author_type = 'employee'

),

touched_shares as (

    {{ reachloop.shares_recomputed() }}
    union
    select shares.share_id
    from {{ ref('fct_shares') }} as shares
    inner join version_places as places
        on shares.author_id = places.employee_id
        and shares.posted_at >= places.day_start
        and (
            shares.posted_at < {{ dbt.dateadd('day', 1, 'places.day_start') }}
            or shares.posted_at <= places.next_posted_at
        )
    where shares.author_type = 'employee'

),

touched_employees as (

    select author_id as employee_id
    from {{ ref('fct_shares') }}
    where author_type = 'employee' and share_id in (select share_id from touched_shares)

),

{% endif -%}
employee_shares as (

    select share_id, author_id as employee_id, network, posted_at, members_reached, reach_ratio
    from {{ ref('fct_shares') }}
    where author_type = 'employee'
    {%- if is_incremental() %}
        and author_id in (select employee_id from touched_employees)
    {%- endif %}

),

cadence as (

    select
        share_id,
        employee_id,
        network,
        posted_at,
        cast({{ dbt.date_trunc('day', 'posted_at') }} as date) as posted_on,
        lag(posted_at) over (partition by employee_id order by posted_at, share_id)
            as previous_posted_at,
        members_reached,
        reach_ratio
    from employee_shares

),

final as (

    select
        share_id,
        employee_id,
        network,
        posted_at,
        posted_on,
        count(*) over (partition by employee_id, posted_on) as posts_that_day,
        {{ reachloop.hours_between('previous_posted_at', 'posted_at') }} as hours_since_previous_post,
        members_reached,
        reach_ratio,
        {{ reachloop.log_position() }} as log_position_through
    from cadence

)

select * from final
{%- if is_incremental() %}
where share_id in (select share_id from touched_shares)
{%- endif %}
{%- if is_incremental() %}

union all

-- A changed share that is no employee's post any more: a marker that replaces its row (post-hook).
select share_id, null, null, null, null, null, null, null, null, {{ reachloop.log_position() }}
from (select distinct share_id from changed_shares) as changed
where share_id not in (select share_id from final)
{%- endif %}
