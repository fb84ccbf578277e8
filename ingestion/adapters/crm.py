"""Deal events from any CRM, once the CRM's adapter has normalized its export into four tables.

Each CRM adapter (hubspot, salesforce) resolves merges, drops deleted records and cleans
values, then fills:

  _src_deals(source_line, deal_id, created_at, stage, amount, currency, closed_at)
      current state of every surviving deal
  _src_versions(source_line, version_id, deal_id, happened_at, property, value)
      field history: property 'stage' or 'amount', value as cleaned text
  _src_closed_stages(stage_key, won)
      which stages close a deal, and whether as won (stage_key = ``stage_key(stage)``)
  _src_deal_contacts(source_line, event_id, deal_id, happened_at, email)
      every address of every contact on a deal

From these, one SQL makes the contract's deal events. Event ids are built from the CRM's own
record ids (a deal, a history row), never from positions in a file, so that overlapping
exports produce the same ids and land once.
"""

from __future__ import annotations

from eventlog.sql import quote_str


def stage_key(expr: str) -> str:
    """A stage label or id in a comparable form: 'Closed Won', 'closed_won', 'closedwon' agree."""
    return f"lower(regexp_replace({expr}, '[^A-Za-z0-9]', '', 'g'))"


# Stage names that close a deal in every CRM's default pipeline, whatever the export shows.
DEFAULT_CLOSED_STAGES = "select * from (values ('closedwon', true), ('closedlost', false)) t(stage_key, won)"


def deal_events(prefix: str) -> str:
    """The deal events select. ``prefix`` names the CRM in every event id (``hubspot``)."""
    p = quote_str(prefix)
    return f"""
    with closed as (
        select stage_key, bool_or(won) as won
        from (select * from _src_closed_stages union all {DEFAULT_CLOSED_STAGES})
        group by stage_key
    ),
    versions as (
        select *, lag(value) over (partition by deal_id, property order by happened_at, version_id) as before,
               row_number() over (partition by deal_id, property order by happened_at, version_id) as n
        from _src_versions
    ),
    first_values as (
        select deal_id, property, value from versions where n = 1
    ),
    created as (
        -- The first version of a field is its value at creation; without history, the
        -- current value stands in for it.
        select d.source_line, {p} || ':deal:' || d.deal_id || ':created' as deal_event_id, d.deal_id,
               'created' as event, d.created_at as occurred_at,
               coalesce(fa.value, d.amount) as amount, d.currency,
               coalesce(fs.value, d.stage) as stage, null as contact_email
        from _src_deals d
        left join first_values fs on fs.deal_id = d.deal_id and fs.property = 'stage'
        left join first_values fa on fa.deal_id = d.deal_id and fa.property = 'amount'
    ),
    changes as (
        select v.source_line, {p} || ':history:' || v.version_id || ':' || v.property as deal_event_id,
               v.deal_id,
               case when v.property = 'amount' then 'amount_changed'
                    when c.won then 'closed_won'
                    when not c.won then 'closed_lost'
                    else 'stage_changed' end as event,
               v.happened_at as occurred_at,
               -- a stage change needs no amount; a closing carries the amount won or lost
               case when v.property = 'amount' then v.value when c.won is not null then d.amount end
                   as amount,
               case when v.property = 'amount' or c.won is not null then d.currency end as currency,
               case when v.property = 'stage' then v.value else null end as stage, null as contact_email
        from versions v
        join _src_deals d using (deal_id)
        left join closed c on v.property = 'stage' and c.stage_key = {stage_key('v.value')}
        where v.n > 1 and v.value is distinct from v.before
    ),
    closings as (
        -- A closed deal whose export has no stage history still closed: at its close date.
        select d.source_line, {p} || ':deal:' || d.deal_id || ':closed', d.deal_id,
               case when c.won then 'closed_won' else 'closed_lost' end, d.closed_at,
               d.amount, d.currency, d.stage, null
        from _src_deals d
        join closed c on c.stage_key = {stage_key('d.stage')}
        where not exists (select 1 from _src_versions v where v.deal_id = d.deal_id and v.property = 'stage')
    ),
    contacts as (
        select source_line, event_id, deal_id, 'contact_added', happened_at, null, null, null, email
        from _src_deal_contacts
    )
    select * from created
    union all select * from changes
    union all select * from closings
    union all select * from contacts
    """
