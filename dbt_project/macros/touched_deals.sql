{#- The deal side of incremental builds (docs/design.md, "Incremental builds: the deal side"):
    which deals, contacts and journeys an incremental run must recompute, found from what
    landed past the calling model's own watermark (macros/incremental.sql) and, for the values
    those events had before, from every version the log holds of them (a deal event moved to
    another deal, a form fill to another email, a click to another visitor): a superset is
    recomputed, never a subset.

    A deal's clicks are those of the visitors of its contacts, so a deal can change when
      * one of its events changed (its contacts, creation, status, amount …);
      * a form fill of one of its contacts changed (the contact's visitors);
      * a click of one of its contacts' visitors changed — landed, or classified anew by
        int_clicks_classified (its token's share changed: another share, content or author).
    A lead (a contact with form fills who is no deal's contact) can change when its form fills
    or its visitors' clicks changed, or when a deal event names it (it became, or stopped
    being, a deal's contact). -#}

{#- Deals named by any version of a deal event whose current version landed past the watermark. -#}
{% macro deals_of_changed_deal_events() -%}
    select deal_versions.deal_id
    from {{ source('event_log', 'deal') }} as deal_versions
    where deal_versions.event_key in ({{ reachloop.changed_events('stg_event_log__deal_events') }})
{%- endmacro %}

{#- Contacts whose visitors may have changed past the watermark: the emails of every version
    of a changed form fill. -#}
{% macro contacts_of_changed_form_fills() -%}
    select form_fill_versions.email as contact_id
    from {{ source('event_log', 'form_fill') }} as form_fill_versions
    where form_fill_versions.email is not null
        and form_fill_versions.event_key in ({{ reachloop.changed_events('stg_event_log__form_fills') }})
{%- endmacro %}

{#- Contacts that may have become, or stopped being, a deal's contact: the emails of every
    version of a changed deal event. -#}
{% macro contacts_of_changed_deal_events() -%}
    select deal_versions.contact_email as contact_id
    from {{ source('event_log', 'deal') }} as deal_versions
    where deal_versions.contact_email is not null
        and deal_versions.event_key in ({{ reachloop.changed_events('stg_event_log__deal_events') }})
{%- endmacro %}

{#- Visitors whose clicks may have changed past the watermark: every version of a landed click,
    and the clicks int_clicks_classified recomputed since (their token's share changed). -#}
{% macro visitors_of_changed_clicks() -%}
    select click_versions.visitor_id
    from {{ source('event_log', 'click') }} as click_versions
    where click_versions.event_key in ({{ reachloop.changed_events('stg_event_log__clicks') }})
    union
    select clicks.visitor_id
    from {{ ref('int_clicks_classified') }} as clicks
    where clicks.log_position_through > {{ reachloop.incremental_watermark() }}
{%- endmacro %}

{#- Contacts whose journeys (as a lead, or through their deals) may have changed. -#}
{% macro contacts_touched() -%}
    {{ reachloop.contacts_of_changed_form_fills() }}
    union
    {{ reachloop.contacts_of_changed_deal_events() }}
    union
    select stitched.contact_id
    from {{ ref('int_visitors_stitched') }} as stitched
    where stitched.visitor_id in ({{ reachloop.visitors_of_changed_clicks() }})
{%- endmacro %}

{#- Deals whose events, contacts' visitors or those visitors' clicks may have changed.
    `touched_contacts`: a CTE already holding contacts_touched() (contact_id), else it is
    expanded here. -#}
{% macro deals_touched(touched_contacts=none) -%}
    {{ reachloop.deals_of_changed_deal_events() }}
    union
    select deal_contacts.deal_id
    from {{ ref('int_deal_contacts_collected') }} as deal_contacts
    where deal_contacts.contact_id in (
        {%- if touched_contacts %}
        select contact_id from {{ touched_contacts }}
        {%- else %}
        {{ reachloop.contacts_touched() }}
        {%- endif %}
    )
{%- endmacro %}
