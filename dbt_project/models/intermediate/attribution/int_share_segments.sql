-- Grain: share. The segment a share belongs to when attribution is cut by the report's filters:
-- the month it was posted, its author's department, its network and its content's campaign.
-- The segmented marts (mart_attribution_segments, mart_attribution_funnel_segments,
-- mart_deal_segments) all read these, so a touch, a click and a deal follow the share that was
-- clicked, as the report's reach figures do.
-- Privacy: a department is named only where mart_reach_by_department names it (at least
-- min_group_size sharers); smaller ones and employees without a department are pooled under
-- '(other departments)', so no segment singles out a small group. Page posts are '(company page)'.

with

shares as (

    select share_id, posted_at, author_type, author_id, network, content_id
    from {{ ref('fct_shares') }}

),

named_departments as (

    select department
    from {{ ref('mart_reach_by_department') }}
    where not is_suppressed and department is not null

)

select
    shares.share_id,
    cast({{ dbt.date_trunc('month', 'shares.posted_at') }} as date) as month,
    shares.author_type,
    case when shares.author_type = 'employee' then shares.author_id end as employee_id,
    case
        when shares.author_type = 'page' then '(company page)'
        when named_departments.department is not null then named_departments.department
        else '(other departments)'
    end as department,
    shares.network,
    coalesce(contents.campaign, '(no campaign)') as campaign,
    coalesce(shares.content_id, '(own post)') as content_id
from shares
left join {{ ref('dim_employees') }} as employees
    on shares.author_type = 'employee' and shares.author_id = employees.employee_id
left join named_departments
    on employees.department = named_departments.department
left join {{ ref('dim_contents') }} as contents
    on shares.content_id = contents.content_id
