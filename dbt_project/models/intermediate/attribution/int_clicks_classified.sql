-- Grain: click. Each click with the share its tracking token points to and whether a bot made
-- it. Bots are flagged, never dropped: the deal journey shows them, attribution skips them.
-- Rules (seed bot_user_agents): a case-insensitive substring of the user agent. When several
-- match, the lowest priority wins (a named bot over the HTTP library it is built on — LinkedInBot
-- says Apache-HttpClient — over a generic token such as "+http"), then the longest pattern.

-- Incremental on the log position: a run recomputes the clicks landed past the watermark and
-- the clicks whose token's owner may have changed — the tokens of shares landed past it, old
-- (as this table holds them) and new.

{{
    config(
        materialized='incremental',
        unique_key='click_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() -%}
changed_shares as (

    select share_id, tracking_token
    from {{ ref('stg_event_log__shares') }}
    where log_position > {{ reachloop.incremental_watermark() }}

),

touched_tokens as (

    select tracking_token from changed_shares
    union
    select tracking_token from {{ this }}
    where share_id in (select share_id from changed_shares)

),

{% endif -%}
clicks as (

    select * from {{ ref('stg_event_log__clicks') }}
    {% if is_incremental() -%}
    where log_position > {{ reachloop.incremental_watermark() }}
        or tracking_token in (select tracking_token from touched_tokens)
    {%- endif %}

),

shares as (

    select * from {{ ref('stg_event_log__shares') }}
    {% if is_incremental() -%}
    where tracking_token in (select tracking_token from clicks)
    {%- endif %}

),

bot_rules as (

    select lower(pattern) as pattern, category, priority from {{ ref('bot_user_agents') }}

),

-- A tracking token belongs to one share; should two shares ever carry the same token, the
-- first posted keeps it so that a click never counts twice.
token_owners as (

    select tracking_token, share_id
    from (
        select
            tracking_token,
            share_id,
            row_number() over (partition by tracking_token order by posted_at, share_id) as owner_rank
        from shares
    ) as ranked
    where owner_rank = 1

),

-- Classify each distinct user agent once: there are few of them and many clicks.
user_agents as (

    select distinct user_agent
    from clicks
    where nullif(trim(user_agent), '') is not null

),

user_agent_bots as (

    select user_agent, category as bot_category
    from (
        select
            user_agents.user_agent,
            bot_rules.category,
            row_number() over (
                partition by user_agents.user_agent
                order by bot_rules.priority, length(bot_rules.pattern) desc, bot_rules.pattern
            ) as rule_rank
        from user_agents
        inner join bot_rules
            on {{ dbt.position('bot_rules.pattern', 'lower(user_agents.user_agent)') }} > 0
    ) as matches
    where rule_rank = 1

),

classified as (

    select
        clicks.click_id,
        clicks.tracking_token,
        token_owners.share_id,
        clicks.visitor_id,
        clicks.occurred_at as clicked_at,
        clicks.user_agent,
        nullif(trim(clicks.user_agent), '') is null as is_user_agent_missing,
        case
            when user_agent_bots.bot_category is not null then user_agent_bots.bot_category
            {%- if var('missing_user_agent_is_bot') %}
            when nullif(trim(clicks.user_agent), '') is null then 'missing_user_agent'
            {%- endif %}
        end as bot_category
    from clicks
    left join token_owners
        on clicks.tracking_token = token_owners.tracking_token
    left join user_agent_bots
        on clicks.user_agent = user_agent_bots.user_agent

)

select
    *,
    bot_category is not null as is_bot,
    {{ reachloop.log_position() }} as log_position_through
from classified
