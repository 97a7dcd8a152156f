{#
    Activity (METRICS_SPEC section 2): an event counts when its name is in
    var product_metrics__active_event_names; an empty list means every event counts.
#}
{% macro is_active_event(event_name_column) -%}
    {%- set names = var('product_metrics__active_event_names', []) -%}
    {%- if names is string -%}{%- set names = [names] -%}{%- endif -%}
    {%- if names | length == 0 -%}
        true
    {%- else -%}
        {{ event_name_column }} in ({% for name in names %}'{{ name }}'{{ ',' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
