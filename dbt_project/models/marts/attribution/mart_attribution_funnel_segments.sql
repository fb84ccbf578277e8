-- Grain: month × department × network × campaign (of the shares: int_share_segments). The
-- closed loop as in mart_attribution_funnel, cut by the report's filters: shares posted in the
-- segment → human clicks on them (any time) → leads (contacts, via stitched visitors, who
-- clicked them) → deals they touched (in the lookback window) → won. Shares and clicks add up
-- over segments to mart_attribution_funnel's months; leads and deals are distinct within a
-- segment, so one who clicked shares of two segments counts in each (mart_deal_segments
-- counts each deal once for any set of segments).

with

segments as (

    select * from {{ ref('int_share_segments') }}

),

-- lead_clicks and share_clicks read the clicks each (two column scans): one CTE read twice
-- would be materialized whole first, which costs more than both scans.
lead_clicks as (

    select clicks.share_id, visitors.contact_id
    from {{ ref('int_clicks_classified') }} as clicks
    inner join {{ ref('int_visitors_stitched') }} as visitors
        on clicks.visitor_id = visitors.visitor_id
    where clicks.share_id is not null and not clicks.is_bot

),

deal_touches as (

    select touches.share_id, touches.deal_id, deals.status
    from {{ ref('int_deal_clicks_joined') }} as touches
    inner join {{ ref('int_deals_folded') }} as deals
        on touches.deal_id = deals.deal_id
    where touches.is_touch

),

-- Clicks counted per share first (a click is one row, a share one segment): sums, not
-- distinct counts over shares × clicks, which cost three times as much.
share_clicks as (

    select
        share_id,
        sum(case when not is_bot then 1 else 0 end) as human_clicks,
        sum(case when is_bot then 1 else 0 end) as bot_clicks
    from {{ ref('int_clicks_classified') }}
    where share_id is not null
    group by share_id

),

shared as (

    select
        segments.month, segments.department, segments.network, segments.campaign,
        count(*) as shares,
        coalesce(sum(share_clicks.human_clicks), 0) as human_clicks,
        coalesce(sum(share_clicks.bot_clicks), 0) as bot_clicks
    from segments
    left join share_clicks on segments.share_id = share_clicks.share_id
    group by segments.month, segments.department, segments.network, segments.campaign

),

leads as (

    select
        segments.month, segments.department, segments.network, segments.campaign,
        count(distinct lead_clicks.contact_id) as leads
    from segments
    inner join lead_clicks on segments.share_id = lead_clicks.share_id
    group by segments.month, segments.department, segments.network, segments.campaign

),

deals as (

    select
        segments.month, segments.department, segments.network, segments.campaign,
        count(distinct deal_touches.deal_id) as deals,
        count(distinct case when deal_touches.status = 'won' then deal_touches.deal_id end) as won_deals
    from segments
    inner join deal_touches on segments.share_id = deal_touches.share_id
    group by segments.month, segments.department, segments.network, segments.campaign

)

select
    cast(shared.month as date) as month,
    cast(shared.department as {{ dbt.type_string() }}) as department,
    cast(shared.network as {{ dbt.type_string() }}) as network,
    cast(shared.campaign as {{ dbt.type_string() }}) as campaign,
    cast(shared.shares as {{ dbt.type_bigint() }}) as shares,
    cast(shared.human_clicks as {{ dbt.type_bigint() }}) as human_clicks,
    cast(shared.bot_clicks as {{ dbt.type_bigint() }}) as bot_clicks,
    cast(coalesce(leads.leads, 0) as {{ dbt.type_bigint() }}) as leads,
    cast(coalesce(deals.deals, 0) as {{ dbt.type_bigint() }}) as deals,
    cast(coalesce(deals.won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals
from shared
left join leads
    on shared.month = leads.month and shared.department = leads.department
    and shared.network = leads.network and shared.campaign = leads.campaign
left join deals
    on shared.month = deals.month and shared.department = deals.department
    and shared.network = deals.network and shared.campaign = deals.campaign
