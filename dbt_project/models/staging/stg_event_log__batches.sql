-- One row per landed batch (file), with its log position (the commit sequence builds and
-- incremental models follow) and the operator's latest decision about it. A batch
-- whose latest action is 'reject' is excluded from every build; as of a past moment, only
-- batches and decisions recorded by then count, so a later rejection does not rewrite history.

with

batches as (

    select * from {{ source('event_log_meta', 'batches') }}
    where {{ reachloop.in_build_log('log_position', source('event_log_meta', 'batches')) }}

),

decisions as (

    select
        batch_id,
        action,
        reason,
        recorded_at,
        row_number() over (partition by batch_id order by recorded_at desc) as decision_rank
    from {{ source('event_log_meta', 'batch_events') }}
    where {{ reachloop.at_or_before_as_of('recorded_at') }}

),

latest_decision as (

    select * from decisions where decision_rank = 1

),

renamed as (

    select
        ---------- ids
        cast(batches.batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(batches.event_type as {{ dbt.type_string() }}) as event_type,

        ---------- strings
        cast(batches.file_path as {{ dbt.type_string() }}) as file_path,
        cast(batches.file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(batches.format as {{ dbt.type_string() }}) as file_format,
        cast(latest_decision.action as {{ dbt.type_string() }}) as latest_action,
        cast(latest_decision.reason as {{ dbt.type_string() }}) as latest_action_reason,

        ---------- numerics
        cast(batches.file_bytes as {{ dbt.type_bigint() }}) as file_bytes,
        cast(batches.rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(batches.rows_landed as {{ dbt.type_bigint() }}) as rows_landed,
        cast(batches.rows_duplicate as {{ dbt.type_bigint() }}) as rows_duplicate,
        cast(batches.rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
        cast(batches.log_position as {{ dbt.type_bigint() }}) as log_position,

        ---------- booleans
        coalesce(latest_decision.action = 'reject', false) as is_rejected,

        ---------- timestamps
        cast(batches.started_at as {{ reachloop.type_timestamptz() }}) as started_at,
        cast(batches.ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(batches.committed_at as {{ reachloop.type_timestamptz() }}) as committed_at,
        cast(latest_decision.recorded_at as {{ reachloop.type_timestamptz() }}) as latest_action_at

    from batches
    left join latest_decision
        on batches.batch_id = latest_decision.batch_id

)

select * from renamed
