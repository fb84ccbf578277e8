{#- The share planner's "now" (var `plan_at`): the moment the plan starts and audiences,
    opt-ins and earlier shares are taken as of. Unset: the newest post in the log (the log's
    own clock, so that a plan of replayed or generated data starts where its data ends). -#}
{% macro share_plan_at() -%}
    {%- if var('plan_at', none) not in (none, '') -%}
        cast('{{ var("plan_at") }}' as {{ reachloop.type_timestamptz() }})
    {%- else -%}
        (select max(posted_at) from {{ ref('stg_event_log__shares') }})
    {%- endif -%}
{%- endmacro %}
