{#- Profile completeness, 0-100, defined once (docs/design.md, "Profiles and SSI"): photo 20,
    headline 15, About section 15, experience 10 per position up to 2, skills 3 per skill up to
    5, a recommendation 15. A part the snapshot does not state counts as missing; a snapshot
    that states none of them (an SSI-only export) has no completeness (null). -#}
{% macro profile_completeness(relation='') -%}
    {%- set p = relation ~ '.' if relation else '' -%}
    case
        when {{ p }}has_photo is null and {{ p }}has_headline is null and {{ p }}has_about is null
            and {{ p }}experience_count is null and {{ p }}skills_count is null
            and {{ p }}recommendations_count is null
            then null
        else
            case when {{ p }}has_photo then 20 else 0 end
            + case when {{ p }}has_headline then 15 else 0 end
            + case when {{ p }}has_about then 15 else 0 end
            + 10 * least(coalesce({{ p }}experience_count, 0), 2)
            + 3 * least(coalesce({{ p }}skills_count, 0), 5)
            + case when coalesce({{ p }}recommendations_count, 0) >= 1 then 15 else 0 end
    end
{%- endmacro %}

{#- The band of a completeness score, labelled so that the labels sort in order. -#}
{% macro profile_completeness_band(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} < 40 then '1 low (0-39)'
        when {{ score }} < 70 then '2 partial (40-69)'
        when {{ score }} < 90 then '3 good (70-89)'
        else '4 complete (90-100)'
    end
{%- endmacro %}

{#- The first day of every month from the month of `first_moment` to that of `last_moment`
    (scalar SQL expressions), as a select of one column, month_start. -#}
{% macro month_starts(first_moment, last_moment) -%}
    {{ return(adapter.dispatch('month_starts', 'reachloop')(first_moment, last_moment)) }}
{%- endmacro %}

{% macro default__month_starts(first_moment, last_moment) -%}
    select cast(month_start as date) as month_start
    from unnest(generate_series(
        cast({{ dbt.date_trunc('month', first_moment) }} as date),
        cast({{ dbt.date_trunc('month', last_moment) }} as date),
        interval 1 month
    )) as months(month_start)
{%- endmacro %}

{% macro spark__month_starts(first_moment, last_moment) -%}
    select explode(sequence(
        cast({{ dbt.date_trunc('month', first_moment) }} as date),
        cast({{ dbt.date_trunc('month', last_moment) }} as date),
        interval 1 month
    )) as month_start
{%- endmacro %}
