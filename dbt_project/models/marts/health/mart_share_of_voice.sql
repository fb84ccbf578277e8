-- Grain: calendar month (UTC) × company audited that month. How the company's presence
-- compares with its competitors': each company's latest audit of the month; share of voice =
-- the company's posts (engagements) ÷ those of every company audited that month; follower
-- growth against the company's previous audited month; employees on LinkedIn ÷ headcount
-- (the audit's, or for the own company without one, the roster's enrolled employees).
-- The own company is the one whose latest audit row flags is_own_company.

with

audits as (

    select
        *,
        cast({{ dbt.date_trunc('month', 'observed_at') }} as date) as month_start,
        row_number() over (
            partition by company, {{ dbt.date_trunc('month', 'observed_at') }}
            order by observed_at desc
        ) as audit_rank
    from {{ ref('stg_event_log__company_presence') }}

),

own_flags as (

    select company, is_own_company
    from (
        select
            company,
            is_own_company,
            row_number() over (partition by company order by observed_at desc) as flag_rank
        from audits
        where is_own_company is not null
    ) as flagged
    where flag_rank = 1

),

roster as (

    select month_start, count(*) as enrolled_employees
    from {{ ref('int_employee_months') }}
    group by month_start

),

monthly as (

    select
        audits.month_start,
        audits.company,
        coalesce(own_flags.is_own_company, false) as is_own_company,
        audits.observed_at,
        audits.followers,
        audits.employees_on_linkedin,
        audits.posts_30d,
        audits.engagements_30d,
        audits.keyword,
        audits.keyword_posts_30d,
        coalesce(
            audits.employees,
            case when own_flags.is_own_company then roster.enrolled_employees end
        ) as headcount
    from audits
    left join own_flags on audits.company = own_flags.company
    left join roster on audits.month_start = roster.month_start
    where audits.audit_rank = 1

),

final as (

    select
        month_start,
        cast(company as {{ dbt.type_string() }}) as company,
        is_own_company,
        observed_at,
        followers,
        followers - lag(followers) over (partition by company order by month_start) as follower_growth,
        {{ reachloop.safe_divide(
            'followers - lag(followers) over (partition by company order by month_start)',
            'lag(followers) over (partition by company order by month_start)'
        ) }} as follower_growth_rate,
        employees_on_linkedin,
        cast(headcount as {{ dbt.type_bigint() }}) as headcount,
        {{ reachloop.safe_divide('employees_on_linkedin', 'headcount') }} as employees_on_platform_ratio,
        posts_30d,
        engagements_30d,
        {{ reachloop.safe_divide('posts_30d', 'sum(posts_30d) over (partition by month_start)') }}
            as share_of_voice_posts,
        {{ reachloop.safe_divide('engagements_30d', 'sum(engagements_30d) over (partition by month_start)') }}
            as share_of_voice_engagement,
        cast(keyword as {{ dbt.type_string() }}) as keyword,
        keyword_posts_30d,
        {{ reachloop.safe_divide(
            'keyword_posts_30d', 'sum(keyword_posts_30d) over (partition by month_start, keyword)'
        ) }} as share_of_voice_keyword,
        count(*) over (partition by month_start) as companies_audited
    from monthly

)

select * from final
