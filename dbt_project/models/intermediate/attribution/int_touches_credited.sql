-- Grain: deal × model × touch. Every attribution model, defined here once. Credits of one
-- deal under one model sum to 1 (tested); every model has a row for every touch, 0 included.
-- The models credited are those of var attribution_models (dbt_project.yml), which names them
-- once: each has its column in `credits` below.
--   first_touch     1 to the first touch.
--   last_touch      1 to the last touch.
--   linear          1/n to each of n touches.
--   position_based  40% first, 40% last, 20% shared by the middle; one touch 100%, two 50/50.
--   time_decay      weight 2^(−Δt ÷ half_life_days), Δt = deal creation − touch time (days),
--                   normalized over the deal's touches.
--   markov          the deal's credit split over its touches in proportion to the removal
--                   effect of each touch's state (int_markov_removal_effects: computed from
--                   all journeys, converting or not, by attribution/markov.py).
--   shapley         the same split in proportion to each touch's state's Shapley value
--                   (int_shapley_values, attribution/shapley.py: the exact Shapley value of
--                   the game whose coalitions are the journeys' sets of distinct states).
-- The two data-driven splits when every touch of a deal has weight 0 — its states never
-- occur on a converting journey, as an open deal's may not under attribution_conversion
-- `won` — fall back to 1/n each (linear): a deal's credits still sum to 1. Weights are never
-- negative (removal effects lie in [0, 1], Shapley values of this game are ≥ 0; both tested).
--
-- Incremental on the log position, re-crediting only the deals whose credits can change: the
-- deals whose touches int_deal_clicks_joined or whose journey int_journey_touches_sequenced
-- recomputed past the watermark (or that have no touch left), and the deals with a touch on a
-- state whose removal effect or Shapley value moved past it (int_markov_removal_effects and
-- int_shapley_values stamp a state only when its value moved: attribution/stamps.py). A deal's
-- split reads only its own touches and its states' values, so no other deal can move. Of
-- those, only the deals whose credit under some model moves by more than 1e-12 from the stored
-- one are written. A deal left without touches gets a marker row (model null) that replaces
-- its credits and that the post-hook deletes.

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where model is null",
    )
}}

with

{% if is_incremental() -%}
-- Deals whose credits can change (see above).
candidates as (

    select deal_id from {{ ref('int_deal_clicks_joined') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select deal_id from {{ ref('int_journey_touches_sequenced') }}
    where deal_id is not null and log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select journeys.deal_id
    from {{ ref('int_journey_touches_sequenced') }} as journeys
    where journeys.deal_id is not null and journeys.state in (
        select state from {{ ref('int_markov_removal_effects') }}
        where log_position_through > {{ reachloop.incremental_watermark() }}
        union
        select state from {{ ref('int_shapley_values') }}
        where log_position_through > {{ reachloop.incremental_watermark() }}
    )

),

{% endif -%}
touches as (

    select
        deal_id,
        click_id,
        touch_number,
        count(*) over (partition by deal_id) as touches,
        {{ reachloop.days_between('clicked_at', 'deal_created_at') }} as days_before_creation
    from {{ ref('int_deal_clicks_joined') }}
    where is_touch
    {%- if is_incremental() %}
        and deal_id in (select deal_id from candidates)
    {%- endif %}

),

states as (

    select deal_id, click_id, state
    from {{ ref('int_journey_touches_sequenced') }}
    where deal_id is not null
    {%- if is_incremental() %}
        and deal_id in (select deal_id from candidates)
    {%- endif %}

),

weighted as (

    select
        touches.*,
        power(2.0, -touches.days_before_creation / {{ var('half_life_days') }}) as decay_weight,
        removal.removal_effect,
        shapley.shapley_value
    from touches
    inner join states
        on touches.deal_id = states.deal_id and touches.click_id = states.click_id
    inner join {{ ref('int_markov_removal_effects') }} as removal
        on states.state = removal.state
    inner join {{ ref('int_shapley_values') }} as shapley
        on states.state = shapley.state

),

deal_totals as (

    -- Each deal's weights added up in value order (exact_sum): a window sum adds them in the
    -- order the rows arrive, which moved a credit's last bits from one build of the same log
    -- to the next (and with it the published bytes of the credits and of every rollup).
    select
        deal_id,
        {{ reachloop.exact_sum('decay_weight') }} as decay_weight_total,
        {{ reachloop.exact_sum('removal_effect') }} as removal_effect_total,
        {{ reachloop.exact_sum('shapley_value') }} as shapley_value_total
    from weighted
    group by deal_id

),

credits as (

    select
        deal_id,
        click_id,
        touch_number,
        touches,
        case when touch_number = 1 then 1.0 else 0.0 end as first_touch,
        case when touch_number = touches then 1.0 else 0.0 end as last_touch,
        1.0 / touches as linear,
        case
            when touches = 1 then 1.0
            when touches = 2 then 0.5
            when touch_number = 1 or touch_number = touches then 0.4
            else 0.2 / (touches - 2)
        end as position_based,
        decay_weight / decay_weight_total as time_decay,
        {% for weight, model in [('removal_effect', 'markov'), ('shapley_value', 'shapley')] %}
        case
            when {{ weight }}_total > 0 then {{ weight }} / {{ weight }}_total
            else 1.0 / touches
        end as {{ model }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from weighted
    inner join deal_totals using (deal_id)

),

credited as (

    {% for model in var('attribution_models') %}
    select
        deal_id,
        '{{ model }}' as model,
        touch_number,
        click_id,
        cast({{ model }} as {{ reachloop.type_double() }}) as credit
    from credits
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

){% if is_incremental() %},

-- The candidates whose split moved (a credit more than 1e-12 away from the stored one, or a
-- touch added or gone), and the deals that lost every touch.
recredited as (

    select deal_id from {{ ref('int_deal_clicks_joined') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select deal_id from {{ this }}
    where deal_id not in (select deal_id from credited)
        and deal_id in (select deal_id from candidates)
    union
    select credited.deal_id
    from credited
    inner join {{ this }} as stored
        on credited.deal_id = stored.deal_id
        and credited.model = stored.model
        and credited.touch_number = stored.touch_number
    where abs(credited.credit - stored.credit) > 1e-12
    union
    select stored.deal_id
    from {{ this }} as stored
    where stored.deal_id not in (
        select deal_id from {{ ref('int_deal_clicks_joined') }} where is_touch
    )

){% endif %}

select *, {{ reachloop.log_position() }} as log_position_through
from credited
{%- if is_incremental() %}
where deal_id in (select deal_id from recredited)

union all

-- A deal without touches now: a marker that replaces its credits (post-hook).
select recredited.deal_id, null, null, null, null, {{ reachloop.log_position() }}
from recredited
where recredited.deal_id not in (select deal_id from credited)
{%- endif %}
