-- Every attributed deal's credits sum to 1 under every model (within float rounding), and
-- every model credits every attributed deal: a deal missing from a model is a failure too.

with

sums as (

    select deal_id, model, sum(credit) as credit
    from {{ ref('mart_lead_to_deal_attribution') }}
    group by deal_id, model

),

models as (

    select distinct model from sums

),

expected as (

    select deals.deal_id, models.model
    from {{ ref('fct_deals') }} as deals
    cross join models
    where deals.is_attributed

)

select expected.deal_id, expected.model, sums.credit
from expected
left join sums
    on expected.deal_id = sums.deal_id and expected.model = sums.model
where sums.credit is null or abs(sums.credit - 1) > 1e-9
