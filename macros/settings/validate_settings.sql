{#
    The first on-run-start hook (dbt_project.yml): every documented var is checked before anything
    is built, so a wrong value stops `dbt build`, `run`, `test` and `seed` with one line naming the
    var, its value and what is allowed, instead of quietly changing the numbers (a window of -3
    days, an as-of date before the data). Nothing runs on `dbt parse`/`compile` (no hooks there).

    Names that never occur in the raw events (an active event, the activation or the core-action
    event) are warnings: a new event may not have arrived yet. The names and the data's range (for
    the as-of date) are read from the raw events the staging models read (the raw source or var
    product_metrics__events_relation, macros/sources/raw_table.sql), cheaply (raw_events_summary);
    before that relation exists (a host model not built yet) there is nothing to check here, and a
    missing input stops the base model that reads it (macro require_raw_input).
#}
{% macro validate_settings() -%}
    {%- if not execute -%}
        {#- Parsed with the refs of the events input, so that it can be read when the hook runs. -#}
        {%- do product_metrics.raw_relation_var('events') -%}
        {{ return('') }}
    {%- endif -%}
    {%- for name in ['mau_window_days', 'invite_window_days', 'invite_conversion_days',
                     'customer_conversion_window_days', 'activation_window_days'] -%}
        {%- do product_metrics.require_whole_number('product_metrics__' ~ name, 1, none, 'a whole number of days, at least 1') -%}
    {%- endfor -%}
    {%- do product_metrics.require_whole_number('product_metrics__ltv_lookback_months', 1, none, 'a whole number of months, at least 1') -%}
    {%- do product_metrics.require_whole_number('product_metrics__late_arrival_days', 0, none, 'a whole number of days, 0 or more') -%}
    {%- do product_metrics.require_whole_number('product_metrics__north_star_min_core_actions', 1, none, 'a whole number of core actions, at least 1') -%}
    {%- do product_metrics.require_whole_number('product_metrics__latency_decimals', 0, 9, 'a whole number from 0 to 9') -%}

    {%- set margin = var('product_metrics__gross_margin_rate', 0.75) -%}
    {%- set margin_number = product_metrics.settings_number(margin) -%}
    {%- if margin_number is none or margin_number <= 0 or margin_number > 1 -%}
        {%- do product_metrics.refuse_setting('product_metrics__gross_margin_rate', margin, 'a number above 0 and at most 1 (0.75 is a 75 % margin)') -%}
    {%- endif -%}

    {%- set timezone = var('product_metrics__reporting_timezone', 'UTC') -%}
    {%- if timezone is not string or timezone not in modules.pytz.all_timezones -%}
        {%- do product_metrics.refuse_setting('product_metrics__reporting_timezone', timezone, 'a time zone name of the IANA database, e.g. UTC or America/New_York') -%}
    {%- endif -%}

    {%- set active_names = var('product_metrics__active_event_names', []) -%}
    {#- One name alone is read as a list of one (macro is_active_event). -#}
    {%- set active_list = [active_names] if active_names is string else active_names -%}
    {%- set is_list = active_list is not none and active_list is not mapping and active_list is iterable -%}
    {%- set bad_names = [] -%}
    {%- for name in (active_list if is_list else []) -%}
        {%- if not product_metrics.is_event_name(name) -%}{%- do bad_names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not is_list or bad_names -%}
        {%- do product_metrics.refuse_setting('product_metrics__active_event_names', active_names, "a list of event names, e.g. ['page_view', 'core_action'], or [] for every event (a name is non-empty text without quotes)") -%}
    {%- endif -%}
    {%- for name in ['activation_event_name', 'core_action_event_name'] -%}
        {%- set value = var('product_metrics__' ~ name, 'core_action') -%}
        {%- if not product_metrics.is_event_name(value) -%}
            {%- do product_metrics.refuse_setting('product_metrics__' ~ name, value, 'an event name (non-empty text without quotes)') -%}
        {%- endif -%}
    {%- endfor -%}

    {#- product_metrics__bi_role: macro bi_role refuses what cannot be written into SQL as a role. -#}
    {%- do product_metrics.bi_role() -%}

    {%- do product_metrics.validate_experiments() -%}

    {%- set as_of = var('product_metrics__as_of_date', none) -%}
    {%- set as_of_text = none if as_of is none else as_of | string -%}
    {%- if as_of is not none and not product_metrics.is_iso_date(as_of_text) -%}
        {%- do product_metrics.refuse_setting('product_metrics__as_of_date', as_of, 'a date written YYYY-MM-DD, or null for the day after the latest event') -%}
    {%- endif -%}

    {%- set event_names = [] -%}
    {%- for name in active_list + [var('product_metrics__activation_event_name', 'core_action'), var('product_metrics__core_action_event_name', 'core_action')] -%}
        {%- if name not in event_names -%}{%- do event_names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- set data = product_metrics.raw_events_summary(event_names, with_range=as_of is not none) -%}
    {%- if data is none -%}
        {{ return('') }}
    {%- endif -%}

    {%- if as_of is not none and data.first_date is not none -%}
        {#- The cutoff is exclusive: at least the first day of data is before it, at most every day is. -#}
        {%- set first = modules.datetime.date.fromisoformat(data.first_date) + modules.datetime.timedelta(days=1) -%}
        {%- set last = modules.datetime.date.fromisoformat(data.last_date) + modules.datetime.timedelta(days=1) -%}
        {%- set as_of_date = modules.datetime.date.fromisoformat(as_of_text) -%}
        {%- if as_of_date < first or as_of_date > last -%}
            {%- do product_metrics.refuse_setting('product_metrics__as_of_date', as_of,
                'a date from ' ~ first ~ ' to ' ~ last ~ ' (the first day not counted; the events run from '
                ~ data.first_date ~ ' to ' ~ data.last_date ~ '), or null for the day after the latest event') -%}
        {%- endif -%}
    {%- endif -%}

    {%- for name in data.missing -%}
        {%- set vars_naming_it = [] -%}
        {%- if name in active_list -%}{%- do vars_naming_it.append('product_metrics__active_event_names') -%}{%- endif -%}
        {%- if name == var('product_metrics__activation_event_name', 'core_action') -%}{%- do vars_naming_it.append('product_metrics__activation_event_name') -%}{%- endif -%}
        {%- if name == var('product_metrics__core_action_event_name', 'core_action') -%}{%- do vars_naming_it.append('product_metrics__core_action_event_name') -%}{%- endif -%}
        {%- do exceptions.warn(vars_naming_it | join(' and ') ~ (' name' if vars_naming_it | length > 1 else ' names') ~ " event '" ~ name ~ "', which never occurs in "
            ~ data.relation ~ ": nothing counts it. Check the spelling; ignore this if that event is still to come.") -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}


{# Stop the run: one line naming the var, its value and what is allowed. #}
{% macro refuse_setting(var_name, value, allowed) -%}
    {{ exceptions.raise_compiler_error(var_name ~ ' is ' ~ product_metrics.shown_setting(value) ~ ': it must be ' ~ allowed ~ '.') }}
{%- endmacro %}


{# A value as the user wrote it in YAML: text quoted, null and booleans in YAML's spelling. #}
{% macro shown_setting(value) -%}
    {%- if value is none -%}
        {{ return('null') }}
    {%- elif value is boolean -%}
        {{ return('true' if value else 'false') }}
    {%- elif value is string -%}
        {{ return("'" ~ value ~ "'") }}
    {%- elif value is mapping -%}
        {{ return(tojson(value)) }}
    {%- elif value is iterable -%}
        {%- set items = [] -%}
        {%- for item in value -%}{%- do items.append(product_metrics.shown_setting(item)) -%}{%- endfor -%}
        {{ return('[' ~ items | join(', ') ~ ']') }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}


{#
    A whole number (an integer, or text of digits: the models read the var with `| int`, the
    semantic layer writes it into a window such as '30 days', so 7.5 or 'seven' are refused).
#}
{% macro require_whole_number(var_name, minimum, maximum, allowed) -%}
    {%- set value = var(var_name) -%}
    {%- set is_whole = (value is integer and value is not boolean)
        or (value is string and modules.re.match('^[0-9]+$', value)) -%}
    {%- if not is_whole or value | int < minimum or (maximum is not none and value | int > maximum) -%}
        {%- do product_metrics.refuse_setting(var_name, value, allowed) -%}
    {%- endif -%}
{%- endmacro %}


{# A number (or text of one) as a float, none when it is not one. #}
{% macro settings_number(value) -%}
    {%- if value is number and value is not boolean -%}
        {{ return(value | float) }}
    {%- elif value is string and modules.re.match('^\\s*[0-9]*\\.?[0-9]+\\s*$', value) -%}
        {{ return(value | float) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{# Event names are written into SQL as quoted literals: non-empty text without a quote. #}
{% macro is_event_name(value) -%}
    {{ return(value is string and value | trim != '' and "'" not in value and '\\' not in value) }}
{%- endmacro %}


{# YYYY-MM-DD naming a real day (2026-02-30 is not one). #}
{% macro is_iso_date(text) -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- if not match -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
    {%- if year < 1 or month < 1 or month > 12 or day < 1 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set next_month = modules.datetime.date(year + 1, 1, 1) if month == 12 else modules.datetime.date(year, month + 1, 1) -%}
    {{ return(day <= (next_month - modules.datetime.timedelta(days=1)).day) }}
{%- endmacro %}


{#
    What the checks need of the raw events the staging models read: `missing`, the names of
    `event_names` that never occur (as staging reads them: trimmed; each looked up with `limit 1`,
    so a name that occurs costs a few rows), and with `with_range` the local dates (reporting time
    zone) of the first and the latest timestamp that casts (one min/max; the local date only grows
    with the UTC time). None when the relation does not exist yet.
#}
{% macro raw_events_summary(event_names, with_range) -%}
    {%- set events = product_metrics.hook_raw_table('events') -%}
    {%- if events is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set summary = {'relation': events, 'missing': [], 'first_date': none, 'last_date': none} -%}
    {%- if event_names -%}
        {%- set query -%}
            {%- for name in event_names %}
            select found_name from (
                select '{{ name }}' as found_name from {{ events }}
                where {{ product_metrics.raw_text('event_name') }} = '{{ name }}'
                limit 1
            ) as found_{{ loop.index }}
            {% if not loop.last %}union all{% endif %}
            {%- endfor %}
        {%- endset -%}
        {%- set found = run_query(query).columns[0].values() -%}
        {%- do summary.update({'missing': event_names | reject('in', found) | list}) -%}
    {%- endif -%}
    {%- if with_range -%}
        {%- if product_metrics.raw_timestamp_kind(events, 'occurred_at') == 'text' -%}
            {#- Text timestamps are cast by the engine's functions (PostgreSQL), set up before they are used. -#}
            {%- set setup = product_metrics.create_engine_functions() -%}
            {%- if setup | trim -%}{%- do run_query(setup) -%}{%- endif -%}
        {%- endif -%}
        {%- set query -%}
            select
                cast({{ product_metrics.local_date('min(occurred_at)') }} as {{ dbt.type_string() }}) as first_date,
                cast({{ product_metrics.local_date('max(occurred_at)') }} as {{ dbt.type_string() }}) as last_date
            from (
                select {{ product_metrics.raw_timestamp_columns(events, 'occurred_at') }}
                from {{ events }}
            ) as typed_events
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {#- Text or a date, as the adapter's result types it: its first ten characters are the date. -#}
        {%- do summary.update({'first_date': none if row[0] is none else (row[0] | string)[:10],
                               'last_date': none if row[1] is none else (row[1] | string)[:10]}) -%}
    {%- endif -%}
    {{ return(summary) }}
{%- endmacro %}


{#
    The raw events relation for a hook: macro raw_table's choice without its check (none when the
    relation does not exist yet). A hook may ref() only what it referenced when it was parsed, so
    validate_settings renders var product_metrics__events_relation at parse time too.
#}
{% macro hook_raw_table(name) -%}
    {%- set given = product_metrics.raw_relation_var(name) -%}
    {%- set relation = source('raw', name) if given is none else product_metrics.relation_from_text(given) -%}
    {%- if relation.schema is none or adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
