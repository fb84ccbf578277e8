-- Grain: month (in which the shares were posted). The closed loop as a funnel, by cohort of
-- shares: shares posted that month → human clicks on them (any time) → leads (contacts, via
-- stitched visitors, who clicked them) → deals they touched (in the lookback window) → won.
-- Each stage counts distinct ids, so a deal touched by two shares of the month counts once.

with

shares as (

    select
        share_id,
        cast({{ dbt.date_trunc('month', 'posted_at') }} as date) as month
    from {{ ref('stg_event_log__shares') }}

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

-- Clicks counted per share first (a click is one row, a share one month): sums, not
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

monthly as (

    select
        shares.month,
        count(*) as shares,
        coalesce(sum(share_clicks.human_clicks), 0) as human_clicks,
        coalesce(sum(share_clicks.bot_clicks), 0) as bot_clicks
    from shares
    left join share_clicks on shares.share_id = share_clicks.share_id
    group by shares.month

),

monthly_leads as (

    select shares.month, count(distinct lead_clicks.contact_id) as leads
    from shares
    inner join lead_clicks on shares.share_id = lead_clicks.share_id
    group by shares.month

),

monthly_deals as (

    select
        shares.month,
        count(distinct deal_touches.deal_id) as deals,
        count(distinct case when deal_touches.status = 'won' then deal_touches.deal_id end) as won_deals
    from shares
    inner join deal_touches on shares.share_id = deal_touches.share_id
    group by shares.month

)

select
    cast(monthly.month as date) as month,
    cast(monthly.shares as {{ dbt.type_bigint() }}) as shares,
    cast(monthly.human_clicks as {{ dbt.type_bigint() }}) as human_clicks,
    cast(monthly.bot_clicks as {{ dbt.type_bigint() }}) as bot_clicks,
    cast(coalesce(monthly_leads.leads, 0) as {{ dbt.type_bigint() }}) as leads,
    cast(coalesce(monthly_deals.deals, 0) as {{ dbt.type_bigint() }}) as deals,
    cast(coalesce(monthly_deals.won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals,
    {{ reachloop.safe_divide('monthly_leads.leads', 'monthly.human_clicks') }} as lead_rate,
    {{ reachloop.safe_divide('monthly_deals.deals', 'monthly_leads.leads') }} as deal_rate,
    {{ reachloop.safe_divide('monthly_deals.won_deals', 'monthly_deals.deals') }} as win_rate
from monthly
left join monthly_leads on monthly.month = monthly_leads.month
left join monthly_deals on monthly.month = monthly_deals.month
