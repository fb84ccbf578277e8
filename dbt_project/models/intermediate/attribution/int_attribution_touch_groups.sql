-- Grain: deal × model × touch, and one row per unattributed deal × model (touch_number null).
-- What mart_attribution_rollups adds up: each credited touch with its money and the group it
-- falls in on every dimension of the rollups (the touched share, its content, its author, the
-- author's department, the month of the touch, the share's network); an unattributed deal
-- carries its whole amount in the group '(unattributed)' of every dimension.
--
-- Incremental on the log position, by deal and model: a run computes every deal's rows (joins,
-- no aggregate: cheap) and replaces only the deal × model pairs whose rows differ from the
-- stored ones — a re-credit, a new amount, status or rate, a share that changed network or
-- content, an author who changed department all show there, whatever upstream path brought
-- them (and a Markov re-credit leaves the other models' rows of the deal alone). The rows a
-- changed pair had before are kept beside its new ones, with is_previous true, so that
-- mart_attribution_rollups can recompute the groups the deal left as well as those it joined;
-- the rollups' post-hook deletes them (docs/design.md, "Incremental builds: the deal side").

{{
    config(
        materialized='incremental',
        unique_key=['deal_id', 'model'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{%- set columns = [
    'model', 'deal_id', 'touch_number', 'deal_status', 'currency', 'contact_id', 'credit',
    'attributed_amount', 'attributed_amount_reporting', 'employee_id', 'share_key', 'content_key',
    'employee_key', 'department_key', 'month_key', 'network_key',
] %}

with

employees as (

    select employee_id, department from {{ ref('dim_employees') }}

),

models as (

    select distinct model from {{ ref('int_touches_credited') }}

),

grouped as (

    select
        touches.model,
        touches.deal_id,
        touches.touch_number,
        touches.deal_status,
        touches.currency,
        touches.contact_id,
        touches.credit,
        touches.attributed_amount,
        touches.attributed_amount_reporting,
        case when touches.author_type = 'employee' then touches.author_id end as employee_id,
        touches.share_id as share_key,
        coalesce(touches.content_id, '(own post)') as content_key,
        case when touches.author_type = 'employee' then touches.author_id else '(company page)' end
            as employee_key,
        case
            when touches.author_type = 'employee' then coalesce(employees.department, '(unknown)')
            else '(company page)'
        end as department_key,
        cast(cast({{ dbt.date_trunc('month', 'touches.touch_at') }} as date) as {{ dbt.type_string() }})
            as month_key,
        shares.network as network_key
    from {{ ref('mart_lead_to_deal_attribution') }} as touches
    left join employees
        on touches.author_id = employees.employee_id and touches.author_type = 'employee'
    left join {{ ref('fct_shares') }} as shares
        on touches.share_id = shares.share_id

    union all

    -- one row per unattributed deal and model, carrying the whole deal
    select
        models.model,
        deals.deal_id,
        cast(null as {{ dbt.type_bigint() }}) as touch_number,
        deals.status as deal_status,
        deals.currency,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        1.0 as credit,
        deals.amount as attributed_amount,
        deals.amount_reporting as attributed_amount_reporting,
        cast(null as {{ dbt.type_string() }}) as employee_id,
        '(unattributed)' as share_key,
        '(unattributed)' as content_key,
        '(unattributed)' as employee_key,
        '(unattributed)' as department_key,
        '(unattributed)' as month_key,
        '(unattributed)' as network_key
    from {{ ref('fct_deals') }} as deals
    cross join models
    where not deals.is_attributed

){% if is_incremental() %},

-- The stored rows of the deals as the last run left them (rows of an earlier run's changes
-- that the rollups did not consume, after a failed build, are not the deal's state).
stored as (

    select {{ columns | join(', ') }}
    from {{ this }}
    where not is_previous

),

-- Deal × model pairs whose rows differ, either way, from the stored ones: added, changed or gone.
changed as (

    {{ reachloop.keys_that_differ(['deal_id', 'model'], columns, 'grouped', 'stored') }}

){% endif %}

select
    {{ columns | join(', ') }},
    false as is_previous,
    {{ reachloop.log_position() }} as log_position_through
from grouped
{%- if is_incremental() %}
where (deal_id, model) in (select deal_id, model from changed)

union all

-- What a changed deal was: the groups it leaves (or stays in) must be recomputed too.
select
    {{ columns | join(', ') }},
    true as is_previous,
    {{ reachloop.log_position() }} as log_position_through
from stored
where (deal_id, model) in (select deal_id, model from changed)

union all

-- Rows of an earlier run's changes that the rollups never consumed (a build failed between
-- the two): kept, their groups still to be recomputed.
select
    {{ columns | join(', ') }},
    true as is_previous,
    log_position_through
from {{ this }}
where is_previous and (deal_id, model) in (select deal_id, model from changed)
{%- endif %}
