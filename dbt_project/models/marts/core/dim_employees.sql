-- Grain: employee. Each employee's latest known department and title (from their newest
-- snapshot that carries one), employment dates and advocacy opt-in (likewise), and their
-- latest network size on each network they use (from the newest snapshot that has one).

with

snapshots as (

    select * from {{ ref('stg_event_log__employees') }}

),

latest_profile as (

    select employee_id, department, title
    from (
        select
            employee_id,
            department,
            title,
            row_number() over (
                partition by employee_id order by observed_at desc, network
            ) as profile_rank
        from snapshots
        where department is not null or title is not null
    ) as ranked
    where profile_rank = 1

),

latest_network_sizes as (

    select employee_id, network, network_size
    from (
        select
            employee_id,
            network,
            network_size,
            -- a counted size wins over a reconstructed lower bound, however recent
            row_number() over (
                partition by employee_id, network
                order by case when network_size_basis = 'reconstructed' then 1 else 0 end, observed_at desc
            ) as snapshot_rank
        from snapshots
        where network_size is not null
    ) as ranked
    where snapshot_rank = 1

),

employment as (

    -- The newest snapshot that says: a roster that stops mentioning an end date (a rehire)
    -- clears it only by saying so in a newer snapshot.
    select employee_id, hired_at, left_at
    from (
        select
            employee_id,
            hired_at,
            left_at,
            row_number() over (
                partition by employee_id order by observed_at desc, network
            ) as employment_rank
        from snapshots
        where hired_at is not null or left_at is not null
    ) as ranked
    where employment_rank = 1

),

networks as (

    select
        employee_id,
        count(*) as networks,
        cast(sum(network_size) as {{ dbt.type_bigint() }}) as total_network_size,
        cast(sum(case when network = 'linkedin' then network_size end) as {{ dbt.type_bigint() }}) as linkedin_network_size
    from latest_network_sizes
    group by employee_id

),

opt_in as (

    -- The newest snapshot that says: a source without the field (a network-size snapshot)
    -- neither grants nor withdraws it.
    select employee_id, advocate_opt_in
    from (
        select
            employee_id,
            advocate_opt_in,
            row_number() over (
                partition by employee_id order by observed_at desc, network
            ) as opt_in_rank
        from snapshots
        where advocate_opt_in is not null
    ) as ranked
    where opt_in_rank = 1

),

observed as (

    select
        employee_id,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at,
        max(case when member_id is not null then 1 else 0 end) = 1 as has_member_id
    from snapshots
    -- reconstructed sizes date from before anyone observed the employee
    where network_size_basis is distinct from 'reconstructed'
    group by employee_id

),

employees as (

    select
        observed.employee_id,
        latest_profile.department,
        latest_profile.title,
        networks.networks,
        networks.total_network_size,
        networks.linkedin_network_size,
        observed.has_member_id,
        employment.hired_at,
        employment.left_at,
        observed.first_observed_at,
        observed.last_observed_at,
        opt_in.advocate_opt_in
    from observed
    left join latest_profile on observed.employee_id = latest_profile.employee_id
    left join networks on observed.employee_id = networks.employee_id
    left join employment on observed.employee_id = employment.employee_id
    left join opt_in on observed.employee_id = opt_in.employee_id

)

select * from employees
