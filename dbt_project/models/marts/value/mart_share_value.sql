-- Grain: share. Its earned media value, an estimate: what the same impressions, clicks and
-- engagements would have cost as paid media on the share's network, at the media rates in
-- force when it was posted (the latest quote of each metric at or before posted_at), in the
-- reporting currency (each quote converted when it was quoted: int_media_rates_converted).
--   emv_impressions = impressions ÷ 1000 × CPM
--   emv_clicks      = clicks × CPC
--   emv_engagements = (reactions + comments + reshares) × engagement value
-- counts from the latest metrics snapshot (fct_shares; clicks as fct_shares defines them). A
-- component whose rate is unknown is null; emv adds the components that are known (null when
-- none is) and components_valued says how many did: a vendor's formula is a choice of columns.

-- Incremental on the log position: a run recomputes the shares fct_shares recomputed since
-- (macros/touched_shares.sql: their counts, network or time moved) and the shares whose stored
-- rates are not the rates in force now at their posting (a media-rate quote changed: the
-- shares of its old and new window; an fx quote changed: the quotes it converts). They are
-- found by comparing each stored share's rates with the quotes, not by working out which
-- windows a change reaches: an fx quote can move a cross rate's pivot at every moment
-- (int_fx_rates_to_reporting). A row reads only its share's fct_shares row and the quotes.

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

rates as (

    select * from {{ ref('int_media_rates_converted') }}

),

{%- if is_incremental() %}

-- The rate of each metric in force at posting for every stored share, against what the row
-- holds: the quotes are a few hundred rows, the stored shares a scan of five columns.
repriced as (

    select stored.share_id
    from {{ this }} as stored
    {%- for metric in ['cpm', 'cpc', 'engagement'] %}
    left join rates as {{ metric }}_now
        on {{ metric }}_now.metric = '{{ metric }}'
        and {{ metric }}_now.network = stored.network
        and {{ metric }}_now.observed_at <= stored.posted_at
        and ({{ metric }}_now.valid_to is null or stored.posted_at < {{ metric }}_now.valid_to)
    {%- endfor %}
    where stored.cpm is distinct from cpm_now.amount_reporting
        or stored.cpc is distinct from cpc_now.amount_reporting
        or stored.engagement_value is distinct from engagement_now.amount_reporting

),

{%- endif %}

shares as (

    select
        share_id,
        author_type,
        author_id,
        network,
        content_id,
        posted_at,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(reshares, 0) as engagements
    from {{ ref('fct_shares') }}
    {%- if is_incremental() %}
    where share_id in ({{ reachloop.shares_recomputed() }})
        or share_id in (select share_id from repriced)
    {%- endif %}

),

priced as (

    select
        shares.share_id,
        {% for metric in ['cpm', 'cpc', 'engagement'] %}
        max(case when rates.metric = '{{ metric }}' then rates.amount_reporting end) as {{ metric }}_rate
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from shares
    inner join rates
        on rates.network = shares.network
        and rates.observed_at <= shares.posted_at
        and (rates.valid_to is null or shares.posted_at < rates.valid_to)
    group by shares.share_id

),

valued as (

    select
        shares.*,
        priced.cpm_rate,
        priced.cpc_rate,
        priced.engagement_rate,
        shares.impressions / 1000.0 * priced.cpm_rate as emv_impressions,
        shares.clicks * priced.cpc_rate as emv_clicks,
        shares.engagements * priced.engagement_rate as emv_engagements
    from shares
    left join priced
        on shares.share_id = priced.share_id

)

select
    cast(share_id as {{ dbt.type_string() }}) as share_id,
    cast(network as {{ dbt.type_string() }}) as network,
    cast(author_type as {{ dbt.type_string() }}) as author_type,
    cast(author_id as {{ dbt.type_string() }}) as author_id,
    cast(content_id as {{ dbt.type_string() }}) as content_id,
    cast(posted_at as {{ reachloop.type_timestamptz() }}) as posted_at,
    cast(impressions as {{ dbt.type_bigint() }}) as impressions,
    cast(clicks as {{ dbt.type_bigint() }}) as clicks,
    cast(engagements as {{ dbt.type_bigint() }}) as engagements,
    cast(cpm_rate as {{ reachloop.type_double() }}) as cpm,
    cast(cpc_rate as {{ reachloop.type_double() }}) as cpc,
    cast(engagement_rate as {{ reachloop.type_double() }}) as engagement_value,
    cast(emv_impressions as {{ reachloop.type_double() }}) as emv_impressions,
    cast(emv_clicks as {{ reachloop.type_double() }}) as emv_clicks,
    cast(emv_engagements as {{ reachloop.type_double() }}) as emv_engagements,
    cast(
        case
            when emv_impressions is null and emv_clicks is null and emv_engagements is null then null
            else coalesce(emv_impressions, 0) + coalesce(emv_clicks, 0) + coalesce(emv_engagements, 0)
        end
        as {{ reachloop.type_double() }}
    ) as emv,
    cast(
        case when emv_impressions is null then 0 else 1 end
        + case when emv_clicks is null then 0 else 1 end
        + case when emv_engagements is null then 0 else 1 end
        as {{ dbt.type_bigint() }}
    ) as components_valued,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
    {{ reachloop.log_position() }} as log_position_through
from valued
