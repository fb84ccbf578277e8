-- Grain: content item.

with

contents as (

    select
        content_id,
        url,
        title,
        topic,
        campaign,
        published_at
    from {{ ref('stg_event_log__contents') }}

)

select * from contents
