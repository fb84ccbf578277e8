{#- The events of one type that a build may see — the single place where the event log is
    filtered, used by every staging model:
      * only batches not rejected by an operator (stg_event_log__batches, itself as of as_of);
      * only events ingested at or before the as_of var and the build's log_cutoff
        (no cutoff when unset);
      * the latest version of each event_key: by ingested_at, then source_line (batch_id
        breaks the tie between two batches landed in the same instant, for determinism).
    Returns a select of every raw column. -#}
{% macro event_log_events(event_type) %}
select *
from (
    select
        events.*,
        row_number() over (
            partition by events.event_key
            order by events.ingested_at desc, events.source_line desc, events.batch_id desc
        ) as version_rank
    from {{ source('event_log', event_type) }} as events
    inner join {{ ref('stg_event_log__batches') }} as batches
        on events.batch_id = batches.batch_id
    where not batches.is_rejected
        and {{ reachloop.ingested_in_build('events.ingested_at') }}
) as versions
where version_rank = 1
{% endmacro %}
