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

with

touches as (

    select
        deal_id,
        click_id,
        touch_number,
        count(*) over (partition by deal_id) as touches,
        {{ dbt.datediff('clicked_at', 'deal_created_at', 'second') }} / 86400.0 as days_before_creation
    from {{ ref('int_deal_clicks_joined') }}
    where is_touch

),

states as (

    select deal_id, click_id, state
    from {{ ref('int_journey_touches_sequenced') }}
    where deal_id is not null

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
        decay_weight / sum(decay_weight) over (partition by deal_id) as time_decay,
        {% for weight, model in [('removal_effect', 'markov'), ('shapley_value', 'shapley')] %}
        case
            when sum({{ weight }}) over (partition by deal_id) > 0
                then {{ weight }} / sum({{ weight }}) over (partition by deal_id)
            else 1.0 / touches
        end as {{ model }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from weighted

)

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
