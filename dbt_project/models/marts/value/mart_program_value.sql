-- Grain: dimension × group_key × model. What the advocacy program is worth, by employee,
-- content item, department, network and month, in the reporting currency, for every model of
-- var attribution_models (the model a column, never a hidden choice):
--   * earned media value (an estimate, mart_share_value) of employees' shares, by the share's
--     author, content, the author's department, network and month of posting; the same on
--     every model's row;
--   * won revenue attributed to employees' shares under the model (mart_lead_to_deal_attribution,
--     attributed_amount_reporting), grouped by the touching share, and by month of the win;
--   * on dimension month only, program cost (int_program_costs_daily: each cost spread evenly
--     over its days) and ROI:
--       roi         = (won_revenue_reporting + emv − cost_reporting) ÷ cost_reporting
--       revenue_roi = (won_revenue_reporting − cost_reporting) ÷ cost_reporting
--     null (not infinite) when the month's cost is 0 (or none is loaded), and null when a part is
--     unknown (a deal or cost without a rate; no media rates, for roi).
-- Page posts are the company's own media, not the program's: they are left out.
-- Privacy: a department with fewer employees than var min_group_size keeps its row with every
-- figure nulled out and is_suppressed true.
--
-- Incremental on the log position, by group (dimension × group_key): a run computes every group
-- and writes only the groups whose rows differ from the stored ones (EXCEPT both ways) — exact
-- by construction, whatever moved them (a share's metrics or rates, a re-credit, an author's
-- department, a cost). The SQL still reads every share and credited touch (the month,
-- department and network groups hold all of them); what it saves is rewriting the unchanged
-- rows. A group left without rows gets a marker (is_suppressed null) that the post-hook
-- deletes. Suppression is decided within the group's own row, so it follows its group.

{{
    config(
        materialized='incremental',
        unique_key='(dimension, group_key)',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where is_suppressed is null",
    )
}}

with

employees as (

    select employee_id, department from {{ ref('dim_employees') }}

),

models as (

    {% for model in var('attribution_models') %}
    select '{{ model }}' as model
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

shares as (

    select
        value.*,
        value.author_id as employee_key,
        coalesce(value.content_id, '(own post)') as content_key,
        coalesce(employees.department, '(unknown)') as department_key,
        value.network as network_key,
        cast(cast({{ dbt.date_trunc('month', 'value.posted_at') }} as date) as {{ dbt.type_string() }}) as month_key
    from {{ ref('mart_share_value') }} as value
    left join employees
        on value.author_id = employees.employee_id
    where value.author_type = 'employee'

),

won_touches as (

    select
        touches.model,
        touches.deal_id,
        touches.credit,
        touches.attributed_amount_reporting,
        touches.author_id as employee_key,
        coalesce(touches.content_id, '(own post)') as content_key,
        coalesce(employees.department, '(unknown)') as department_key,
        shares.network as network_key,
        cast(cast({{ dbt.date_trunc('month', 'deals.closed_at') }} as date) as {{ dbt.type_string() }}) as month_key
    from {{ ref('mart_lead_to_deal_attribution') }} as touches
    inner join {{ ref('fct_deals') }} as deals
        on touches.deal_id = deals.deal_id
    inner join {{ ref('fct_shares') }} as shares
        on touches.share_id = shares.share_id
    left join employees
        on touches.author_id = employees.employee_id
    where touches.author_type = 'employee' and touches.deal_status = 'won'

),

{% set dimensions = ['employee', 'content', 'department', 'network', 'month'] %}

value_grouped as (

    {% for dimension in dimensions %}
    select
        '{{ dimension }}' as dimension,
        {{ dimension }}_key as group_key,
        count(*) as shares,
        count(distinct author_id) as employees,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(engagements) as engagements,
        count(emv) as shares_valued,
        {{ reachloop.exact_sum('emv_impressions') }} as emv_impressions,
        {{ reachloop.exact_sum('emv_clicks') }} as emv_clicks,
        {{ reachloop.exact_sum('emv_engagements') }} as emv_engagements,
        {{ reachloop.exact_sum('emv') }} as emv
    from shares
    group by {{ dimension }}_key
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

revenue_grouped as (

    {% for dimension in dimensions %}
    select
        '{{ dimension }}' as dimension,
        {{ dimension }}_key as group_key,
        model,
        count(distinct deal_id) as won_deals_touched,
        {{ reachloop.exact_sum('credit') }} as attributed_won_deals,
        {{ reachloop.sum_known('attributed_amount_reporting', '1 = 1') }} as won_revenue_reporting
    from won_touches
    group by {{ dimension }}_key, model
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cost_grouped as (

    select
        'month' as dimension,
        cast(cast({{ dbt.date_trunc('month', 'cost_day') }} as date) as {{ dbt.type_string() }}) as group_key,
        -- the days' shares are unrounded doubles (int_program_costs_daily): rounded to cents
        -- below, their sum must not depend on the order DuckDB adds them in
        {{ reachloop.sum_known('amount_reporting', '1 = 1', exact=true) }} as cost_reporting
    from {{ ref('int_program_costs_daily') }}
    group by 2

),

groups as (

    select dimension, group_key from value_grouped
    union
    select dimension, group_key from revenue_grouped
    union
    select dimension, group_key from cost_grouped

),

combined as (

    select
        groups.dimension,
        groups.group_key,
        models.model,
        coalesce(value_grouped.shares, 0) as shares,
        coalesce(value_grouped.employees, 0) as employees,
        coalesce(value_grouped.impressions, 0) as impressions,
        coalesce(value_grouped.clicks, 0) as clicks,
        coalesce(value_grouped.engagements, 0) as engagements,
        coalesce(value_grouped.shares_valued, 0) as shares_valued,
        coalesce(value_grouped.emv_impressions, 0) as emv_impressions,
        coalesce(value_grouped.emv_clicks, 0) as emv_clicks,
        coalesce(value_grouped.emv_engagements, 0) as emv_engagements,
        case
            when coalesce(value_grouped.shares, 0) = 0 then 0
            else value_grouped.emv
        end as emv,
        coalesce(revenue_grouped.won_deals_touched, 0) as won_deals_touched,
        coalesce(revenue_grouped.attributed_won_deals, 0) as attributed_won_deals,
        case
            when revenue_grouped.group_key is null then 0
            else revenue_grouped.won_revenue_reporting
        end as won_revenue_reporting,
        case
            when groups.dimension <> 'month' then null
            when cost_grouped.group_key is null then 0
            else round(cost_grouped.cost_reporting, 2)
        end as cost_reporting
    from groups
    cross join models
    left join value_grouped
        on groups.dimension = value_grouped.dimension and groups.group_key = value_grouped.group_key
    left join revenue_grouped
        on groups.dimension = revenue_grouped.dimension
        and groups.group_key = revenue_grouped.group_key
        and models.model = revenue_grouped.model
    left join cost_grouped
        on groups.dimension = cost_grouped.dimension and groups.group_key = cost_grouped.group_key

),

with_roi as (

    select
        *,
        {{ reachloop.safe_divide('won_revenue_reporting + emv - cost_reporting', 'cost_reporting') }} as roi,
        {{ reachloop.safe_divide('won_revenue_reporting - cost_reporting', 'cost_reporting') }} as revenue_roi
    from combined

),

{%- set suppressed = "dimension = 'department' and group_key <> '(unknown)' and employees < " ~ var('min_group_size') %}
{%- set figures = [
    ('shares', dbt.type_bigint()),
    ('employees', dbt.type_bigint()),
    ('impressions', dbt.type_bigint()),
    ('clicks', dbt.type_bigint()),
    ('engagements', dbt.type_bigint()),
    ('shares_valued', dbt.type_bigint()),
    ('emv_impressions', reachloop.type_double()),
    ('emv_clicks', reachloop.type_double()),
    ('emv_engagements', reachloop.type_double()),
    ('emv', reachloop.type_double()),
    ('won_deals_touched', dbt.type_bigint()),
    ('attributed_won_deals', reachloop.type_double()),
    ('won_revenue_reporting', reachloop.type_money()),
    ('cost_reporting', reachloop.type_money()),
    ('roi', reachloop.type_double()),
    ('revenue_roi', reachloop.type_double()),
] %}
{%- set columns = ['dimension', 'group_key', 'model', 'reporting_currency', 'is_suppressed'] + figures | map('first') | list %}

rows_now as (

    select
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(group_key as {{ dbt.type_string() }}) as group_key,
        cast(model as {{ dbt.type_string() }}) as model,
        cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
        cast({{ suppressed }} as boolean) as is_suppressed,
        {% for column, type in figures %}
        cast(case when not ({{ suppressed }}) then {{ column }} end as {{ type }}) as {{ column }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from with_roi

){%- if is_incremental() %},

-- The groups whose rows differ from the stored ones, EXCEPT both ways: the sums are exact
-- (exact_sum), so an unchanged group gives the same bits and is left as it is.
changed_groups as (

    {{ reachloop.keys_that_differ(['dimension', 'group_key'], columns, 'rows_now', this) }}

)
{%- endif %}

select
    rows_now.*,
    {{ reachloop.log_position() }} as log_position_through
from rows_now
{%- if is_incremental() %}
where (dimension, group_key) in (select dimension, group_key from changed_groups)

union all

-- A group left without rows: a marker (is_suppressed null) that replaces its rows (post-hook).
select
    dimension,
    group_key,
    cast(null as {{ dbt.type_string() }}),
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}),
    cast(null as boolean),
    {% for column, type in figures %}cast(null as {{ type }}), {% endfor %}
    {{ reachloop.log_position() }}
from changed_groups
where (dimension, group_key) not in (select dimension, group_key from rows_now)
{%- endif %}
