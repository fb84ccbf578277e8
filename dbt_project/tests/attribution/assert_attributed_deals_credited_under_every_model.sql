-- Every attributed deal of fct_deals has rows under every attribution model of var
-- attribution_models: a deal, or a whole model, missing from the mart is a failure. That the
-- credits of a deal under a model sum to 1 is the generic test group_sum_equals on
-- mart_lead_to_deal_attribution.credit (models/marts/attribution/_attribution__models.yml).

with

credited as (

    select distinct deal_id, model
    from {{ ref('mart_lead_to_deal_attribution') }}

),

models as (

    {% for model in var('attribution_models') %}
    select '{{ model }}' as model
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    select deals.deal_id, models.model
    from {{ ref('fct_deals') }} as deals
    cross join models
    where deals.is_attributed

)

select expected.deal_id, expected.model
from expected
left join credited
    on expected.deal_id = credited.deal_id and expected.model = credited.model
where credited.deal_id is null
