-- Grain: member id. Every member id that belongs to an employee (any `employee` snapshot, any
-- network, as of the build): an engagement by one of them is a colleague engagement.

with

colleague_members as (

    select
        member_id,
        min(employee_id) as employee_id,
        count(distinct employee_id) as employees
    from {{ ref('stg_event_log__employees') }}
    where member_id is not null
    group by member_id

)

select * from colleague_members
