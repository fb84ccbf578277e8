-- Grain: dimension × group_key × model × currency. Attributed revenue rolled up by share,
-- content item, employee, department, month (of the touch) and network (of the touched
-- share), for every model. Money is
-- not summed across currencies in won_revenue and open_pipeline, hence currency in the grain;
-- their *_reporting twins are in the reporting currency (var reporting_currency), so summing
-- them over currencies gives a dimension's total (null where a deal's rate is unknown).
-- Unattributed deals stay visible: on every dimension they form the group '(unattributed)',
-- with their whole amount, so that each dimension's groups add up to all deals.
-- Privacy: a department with fewer contributing employees than var min_group_size keeps its
-- row with every figure nulled out and is_suppressed true (employees are pseudonymous ids).
--
-- Incremental on the log position, by group: int_attribution_touch_groups replaces the rows of
-- the deal × model pairs that changed and keeps what they were beside them (is_previous), so a run
-- recomputes the groups (dimension × group_key × model × currency) of those rows, old and new:
-- a group's figures read only its own rows, so no other group can change — suppression too is
-- decided within the group. A group left without rows gets a marker (is_suppressed null) that
-- the post-hook deletes, and so are the previous rows once read. Groups are matched null to
-- null (is not distinct from, and the key as a list: macros/dbt_overrides.sql): a deal's
-- currency is null until an event carries one, and a touched share fct_shares does not hold
-- has no network.

{{
    config(
        materialized='incremental',
        unique_key=['dimension', 'group_key', 'model', 'currency'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where is_suppressed is null",
            "delete from {{ ref('int_attribution_touch_groups') }} where is_previous",
        ],
    )
}}

{%- set dimensions = ['share', 'content', 'employee', 'department', 'month', 'network'] %}

with

{% if is_incremental() -%}
-- The groups of the rows int_attribution_touch_groups wrote past the watermark (a changed
-- deal's new rows and what it was). Were int_attribution_touch_groups rebuilt whole since the
-- rollups last ran (every current row past the watermark: a full refresh of it alone, or one
-- whose build failed before the rollups), no previous rows would name the groups it left:
-- then every stored group is recomputed too (a group without rows gets its marker).
touched_groups as (

    {% for dimension in dimensions %}
    select '{{ dimension }}' as dimension, {{ dimension }}_key as group_key, model, currency
    from {{ ref('int_attribution_touch_groups') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    {% endfor -%}
    select dimension, group_key, model, currency
    from {{ this }}
    where (
        select coalesce(min(log_position_through), {{ reachloop.incremental_watermark() }} + 1)
        from {{ ref('int_attribution_touch_groups') }}
        where not is_previous
    ) > {{ reachloop.incremental_watermark() }}

),

{% endif -%}
credited as (

    select * from {{ ref('int_attribution_touch_groups') }}
    where not is_previous

),

grouped as (

    {% for dimension in dimensions %}
    select
        '{{ dimension }}' as dimension,
        {{ dimension }}_key as group_key,
        model,
        currency,
        count(distinct employee_id) as employees,
        count(distinct contact_id) as leads_touched,
        count(distinct deal_id) as deals_touched,
        count(distinct case when deal_status = 'won' then deal_id end) as won_deals_touched,
        {{ reachloop.exact_sum('credit') }} as attributed_deals,
        {{ reachloop.exact_sum("case when deal_status = 'won' then credit else 0 end") }} as attributed_won_deals,
        sum(case when deal_status = 'won' then attributed_amount else 0 end) as won_revenue,
        sum(case when deal_status = 'open' then attributed_amount else 0 end) as open_pipeline,
        {{ reachloop.sum_known('attributed_amount_reporting', "deal_status = 'won'") }} as won_revenue_reporting,
        {{ reachloop.sum_known('attributed_amount_reporting', "deal_status = 'open'") }} as open_pipeline_reporting
    from credited
    {%- if is_incremental() %}
    where exists (
        select 1 from touched_groups
        where touched_groups.dimension = '{{ dimension }}'
            and touched_groups.group_key is not distinct from credited.{{ dimension }}_key
            and touched_groups.model = credited.model
            and touched_groups.currency is not distinct from credited.currency
    )
    {%- endif %}
    group by {{ dimension }}_key, model, currency
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

{%- set suppressed = "dimension = 'department' and group_key not in ('(unattributed)', '(company page)') and employees < " ~ var('min_group_size') %}

select
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(group_key as {{ dbt.type_string() }}) as group_key,
    cast(model as {{ dbt.type_string() }}) as model,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
    cast({{ suppressed }} as boolean) as is_suppressed,
    {% for column, type in [
        ('employees', dbt.type_bigint()),
        ('leads_touched', dbt.type_bigint()),
        ('deals_touched', dbt.type_bigint()),
        ('won_deals_touched', dbt.type_bigint()),
        ('attributed_deals', reachloop.type_double()),
        ('attributed_won_deals', reachloop.type_double()),
        ('won_revenue', reachloop.type_money()),
        ('open_pipeline', reachloop.type_money()),
        ('won_revenue_reporting', reachloop.type_money()),
        ('open_pipeline_reporting', reachloop.type_money()),
    ] %}
    cast(case when not ({{ suppressed }}) then {{ column }} end as {{ type }}) as {{ column }},
    {% endfor %}
    {{ reachloop.log_position() }} as log_position_through
from grouped
{%- if is_incremental() %}

union all

-- A group left without rows: a marker that replaces its row (post-hook).
select
    dimension, group_key, model, currency,
    cast(null as {{ dbt.type_string() }}), cast(null as boolean),
    {% for _ in range(10) %}null, {% endfor %}
    {{ reachloop.log_position() }}
from touched_groups
where not exists (
    select 1 from grouped
    where grouped.dimension = touched_groups.dimension
        and grouped.group_key is not distinct from touched_groups.group_key
        and grouped.model = touched_groups.model
        and grouped.currency is not distinct from touched_groups.currency
)
{%- endif %}
