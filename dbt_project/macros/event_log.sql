{#- The events of one type that a build may see — the single place where the event log is
    filtered, used by every staging model:
      * only batches not rejected by an operator (stg_event_log__batches, itself as of as_of);
      * only batches at or before the build's log position (log_cutoff_position; as of a past
        moment, the last position committed by then);
      * the current version of each event_key (docs/design.md, "Versions"): the newest by the
        event's own time (`valid_time`: occurred_at, posted_at …; none for event types whose
        key holds their time, e.g. snapshots keyed by observed_at), then the latest by log
        position, then by source line. Landing drops a re-sent identical version, and an
        older interval's backfill carries older event times: neither can displace a newer
        version.
    Incremental staging models (materialized='incremental', unique_key='event_key') read only
    batches past the newest log position they hold; keep_current_versions then keeps the new
    rows that beat the version already stored.
    Returns a select of every raw column plus the batch's log_position. -#}
{% macro event_log_events(event_type, valid_time=none) %}
select events.*, batches.log_position
from {{ source('event_log', event_type) }} as events
inner join {{ ref('stg_event_log__batches') }} as batches
    on events.batch_id = batches.batch_id
where not batches.is_rejected
{%- if is_incremental() %}
    and batches.log_position > {{ reachloop.staged_through() }}
{%- endif %}
qualify row_number() over (
    partition by events.event_key
    order by {% if valid_time %}events.{{ valid_time }} desc, {% endif %}batches.log_position desc, events.source_line desc
) = 1
{% endmacro %}

{#- The newest log position an incremental staging model holds (0 when empty). -#}
{% macro staged_through() -%}
    (select coalesce(max(log_position), 0) from {{ this }})
{%- endmacro %}

{#- The rows of `relation` (a staging model's renamed CTE) to store: all of them in a full
    build; in an incremental run, those whose version beats the one stored for their key. A
    new row always comes later in the log, so it wins unless the stored version has a newer
    `valid_time`. delete+insert then replaces exactly the keys whose version changed. -#}
{% macro keep_current_versions(relation, valid_time=none) %}
select * from {{ relation }} as candidate
{%- if is_incremental() and valid_time %}
where not exists (
    select 1 from {{ this }} as stored
    where stored.event_key = candidate.event_key
        and stored.{{ valid_time }} > candidate.{{ valid_time }}
)
{%- endif %}
{% endmacro %}
