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

with

touches as (

    select * from {{ ref('mart_lead_to_deal_attribution') }}

),

employees as (

    select employee_id, department from {{ ref('dim_employees') }}

),

models as (

    select distinct model from {{ ref('int_touches_credited') }}

),

credited as (

    select
        touches.model,
        touches.deal_id,
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
    from touches
    left join employees
        on touches.author_id = employees.employee_id and touches.author_type = 'employee'
    left join {{ ref('fct_shares') }} as shares
        on touches.share_id = shares.share_id

    union all

    -- one row per unattributed deal and model, carrying the whole deal
    select
        models.model,
        deals.deal_id,
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

),

grouped as (

    {% for dimension in ['share', 'content', 'employee', 'department', 'month', 'network'] %}
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
    cast(case when not ({{ suppressed }}) then {{ column }} end as {{ type }}) as {{ column }}
    {%- if not loop.last %},{% endif %}
    {% endfor %}
from grouped
