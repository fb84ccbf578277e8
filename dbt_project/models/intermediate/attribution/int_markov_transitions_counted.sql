-- Grain: from_state × to_state. The first-order transition counts of all journeys, set-based
-- (no path strings: DuckDB cannot spill list or string aggregates, and these can be large):
--   (start) → first state, each state → the next, last state → (conversion) or (null).
-- log_position_through is the build's log position: the Python models below stamp the states
-- whose values they change with it (int_touches_credited re-credits the deals on those).

with

steps as (

    select
        journey_id,
        is_converting,
        step_number,
        state,
        lead(state) over (partition by journey_id order by step_number) as next_state
    from {{ ref('int_journey_touches_sequenced') }}

),

transitions as (

    select '(start)' as from_state, state as to_state
    from steps
    where step_number = 1

    union all

    select
        state as from_state,
        coalesce(
            next_state,
            case when is_converting then '(conversion)' else '(null)' end
        ) as to_state
    from steps

)

select
    from_state,
    to_state,
    count(*) as transitions,
    {{ reachloop.log_position() }} as log_position_through
from transitions
group by from_state, to_state
