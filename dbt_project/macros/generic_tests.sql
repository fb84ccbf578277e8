{#- Generic data tests (the few dbt_utils ones we need, written here: no package hub). -#}

{#- No two rows share these columns' values. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every row satisfies a SQL expression (nulls pass, as in dbt's own tests). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}

{#- A column lies within [min_value, max_value] (either bound optional; nulls pass). -#}
{% test in_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}

{#- Per group of rows (the group_by columns), the column's values sum to `value` within
    `tolerance` (nulls are left out of a sum; a group of nulls only passes, as in dbt's own
    tests). Gate 2 checks the built marts again with the same arguments (builds/gates). -#}
{% test group_sum_equals(model, column_name, group_by, value, tolerance=0) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as {{ column_name }}_sum
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - {{ value }}) > {{ tolerance }}
{% endtest %}
