-- Grain: deal × month × department × network × campaign: each attributed deal once for every
-- segment (int_share_segments) of the shares whose clicks touched it, with the deal's own
-- figures repeated on each of its rows. Counting distinct deal_id over any set of segments
-- counts each deal once — what "deals touched by posts of this period / department / network /
-- campaign" means in the report's funnel, its won-revenue tile and its top deals. Deals
-- without touches are not here (fct_deals keeps them, is_attributed false).

with

touches as (

    select touches.deal_id, touches.share_id, touches.clicked_at
    from {{ ref('int_deal_clicks_joined') }} as touches
    where touches.is_touch

),

segmented as (

    select
        touches.deal_id,
        segments.month,
        segments.department,
        segments.network,
        segments.campaign,
        count(*) as touches,
        min(touches.clicked_at) as first_touch_at
    from touches
    inner join {{ ref('int_share_segments') }} as segments
        on touches.share_id = segments.share_id
    group by touches.deal_id, segments.month, segments.department, segments.network, segments.campaign

)

select
    cast(segmented.deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(segmented.month as date) as month,
    cast(segmented.department as {{ dbt.type_string() }}) as department,
    cast(segmented.network as {{ dbt.type_string() }}) as network,
    cast(segmented.campaign as {{ dbt.type_string() }}) as campaign,
    cast(segmented.touches as {{ dbt.type_bigint() }}) as touches,
    segmented.first_touch_at,
    deals.status as deal_status,
    deals.currency,
    deals.amount,
    deals.amount_reporting,
    deals.reporting_currency
from segmented
inner join {{ ref('fct_deals') }} as deals
    on segmented.deal_id = deals.deal_id
