-- Grain: month × department × network × campaign × content_id × model × currency. Attributed
-- revenue cut by the report's filters: each touch's credit goes to the segment of the share
-- that was clicked (int_share_segments: the month it was posted, its author's department, its
-- network, its content's campaign). Summed over every column but model and currency, a model's
-- figures equal mart_attribution_rollups' attributed groups (the '(unattributed)' deals are not
-- here: they touched no share). Money as in the rollups: won_revenue and open_pipeline in the
-- deal currency, their *_reporting twins in the reporting currency (null without a rate).
-- Privacy: money is credited to people, so a department is named here only when, over the whole
-- log, its shares touched deals through at least var min_group_size distinct employees (as the
-- rollups suppress departments); the others join '(other departments)'. Only when that pool is
-- itself too small do its rows keep every figure nulled out, with is_suppressed true. Pooling
-- instead of nulling keeps every other cut (content, month, network, campaign) whole.

with

touches as (

    select
        touches.model,
        touches.deal_id,
        touches.deal_status,
        touches.currency,
        touches.credit,
        touches.attributed_amount,
        touches.attributed_amount_reporting,
        segments.month,
        segments.department,
        segments.network,
        segments.campaign,
        segments.content_id,
        segments.employee_id
    from {{ ref('mart_lead_to_deal_attribution') }} as touches
    inner join {{ ref('int_share_segments') }} as segments
        on touches.share_id = segments.share_id

),

department_sizes as (

    select department, count(distinct employee_id) as credited_employees
    from touches
    group by department

),

pooled as (

    select
        touches.model, touches.deal_id, touches.deal_status, touches.currency, touches.credit,
        touches.attributed_amount, touches.attributed_amount_reporting, touches.month,
        case
            when touches.department <> '(company page)'
                and department_sizes.credited_employees < {{ var('min_group_size') }}
                then '(other departments)'
            else touches.department
        end as department,
        touches.network, touches.campaign, touches.content_id, touches.employee_id
    from touches
    inner join department_sizes on touches.department = department_sizes.department

),

pool_sizes as (

    select department, count(distinct employee_id) as credited_employees
    from pooled
    group by department

),

grouped as (

    select
        month, department, network, campaign, content_id, model, currency,
        count(distinct employee_id) as employees,
        count(distinct deal_id) as deals_touched,
        count(distinct case when deal_status = 'won' then deal_id end) as won_deals_touched,
        {{ reachloop.exact_sum('credit') }} as attributed_deals,
        {{ reachloop.exact_sum("case when deal_status = 'won' then credit else 0 end") }} as attributed_won_deals,
        sum(case when deal_status = 'won' then attributed_amount else 0 end) as won_revenue,
        sum(case when deal_status = 'open' then attributed_amount else 0 end) as open_pipeline,
        {{ reachloop.sum_known('attributed_amount_reporting', "deal_status = 'won'") }} as won_revenue_reporting,
        {{ reachloop.sum_known('attributed_amount_reporting', "deal_status = 'open'") }} as open_pipeline_reporting
    from pooled
    group by month, department, network, campaign, content_id, model, currency

)

{%- set suppressed = "grouped.department <> '(company page)' and pool_sizes.credited_employees < " ~ var('min_group_size') %}

select
    cast(grouped.month as date) as month,
    cast(grouped.department as {{ dbt.type_string() }}) as department,
    cast(grouped.network as {{ dbt.type_string() }}) as network,
    cast(grouped.campaign as {{ dbt.type_string() }}) as campaign,
    cast(grouped.content_id as {{ dbt.type_string() }}) as content_id,
    cast(grouped.model as {{ dbt.type_string() }}) as model,
    cast(grouped.currency as {{ dbt.type_string() }}) as currency,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
    cast({{ suppressed }} as boolean) as is_suppressed,
    {% for column, type in [
        ('employees', dbt.type_bigint()),
        ('deals_touched', dbt.type_bigint()),
        ('won_deals_touched', dbt.type_bigint()),
        ('attributed_deals', reachloop.type_double()),
        ('attributed_won_deals', reachloop.type_double()),
        ('won_revenue', reachloop.type_money()),
        ('open_pipeline', reachloop.type_money()),
        ('won_revenue_reporting', reachloop.type_money()),
        ('open_pipeline_reporting', reachloop.type_money()),
    ] %}
    cast(case when not ({{ suppressed }}) then grouped.{{ column }} end as {{ type }}) as {{ column }}
    {%- if not loop.last %},{% endif %}
    {% endfor %}
from grouped
inner join pool_sizes on grouped.department = pool_sizes.department
