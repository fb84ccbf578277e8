"""HubSpot export folder → form_fill, deal (created, stage and amount changes, closings,
contacts on deals).

The folder holds HubSpot's CSV exports, one file per object, recognized by their columns
(file names do not matter): contacts, deals, deal property history (the ``dealstage`` and
``amount`` versions that the CRM API returns with ``propertiesWithHistory``, one row per
version) and form submissions (with our hidden ``rl_visitor_id`` field). They land together,
in one transaction, because they refer to each other: a deal names its contacts by record id,
a merged contact survives under another id.

Merges, as HubSpot records them: the surviving record lists the ids merged into it
("Merged Contact IDs", "Merged Deal IDs") and the merged records leave the export.
- A merged contact's addresses become the survivor's ("Additional email addresses"), and a
  deal associated with either id gets a contact_added event for every address of the
  survivor, so a form filled with any of them joins the deal.
- A merged deal's associations are the survivor's; its own stage and amount history is not
  replayed onto the survivor (HubSpot keeps the survivor's values), and is reported skipped.

HubSpot writes times in the portal's zone without an offset: give it as ``tz=``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters.base import Adapter, Options, Role, Staged, read_bundle, role_of
from ingestion.adapters.crm import deal_events, stage_key

ROLES = (
    Role(
        "contacts", "_src_hs_contacts",
        required=("record id", "email"),
        optional=("additional email addresses", "merged contact ids", "create date"),
        excludes=("deal stage", "conversion id"),
    ),
    Role(
        "deals", "_src_hs_deals",
        required=("record id", "deal stage", "create date"),
        optional=("deal name", "amount", "currency", "close date", "merged deal ids",
                  "associated contact ids", "is closed won", "pipeline"),
        marker=("record id", "deal stage"),
    ),
    Role(
        "deal property history", "_src_hs_history",
        required=("deal id", "property", "value", "timestamp"),
        optional=("source type",),
    ),
    Role(
        "form submissions", "_src_hs_forms",
        required=("conversion id", "form id", "submitted at", "email", "rl_visitor_id"),
        optional=("page url",),
        marker=("conversion id", "submitted at"),
    ),
)


def detect(path: Path) -> bool:
    return role_of(path, ROLES) is not None


def _ids(column: str) -> str:
    """HubSpot's multi-value cells: ids or addresses separated by ';'."""
    split = f"string_split(coalesce({column}, ''), ';')"
    return f"list_filter(list_transform({split}, lambda x: trim(x)), lambda x: x <> '')"


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    found = read_bundle(con, files, ROLES)
    tz, dec = quote_str(options.tz), quote_str(options.decimal)
    con.execute(
        f"""
        -- contact id (merged or not) → surviving contact id
        create or replace temp table _src_hs_contact_survivor as
        select trim("record id") as contact_id, trim("record id") as survivor from _src_hs_contacts
        union
        select unnest({_ids('"merged contact ids"')}), trim("record id") from _src_hs_contacts;

        -- every address of a surviving contact
        create or replace temp table _src_hs_contact_email as
        select distinct survivor, email from (
            select trim("record id") as survivor, email from _src_hs_contacts
            union all
            select trim("record id"), unnest({_ids('"additional email addresses"')}) from _src_hs_contacts
        ) where nullif(trim(email), '') is not null;

        create or replace temp table _src_hs_deal_survivor as
        select trim("record id") as deal_id, trim("record id") as survivor from _src_hs_deals
        union
        select unnest({_ids('"merged deal ids"')}), trim("record id") from _src_hs_deals;

        create or replace temp table _src_deals as
        select source_line, trim("record id") as deal_id, rl_time("create date", {tz}) as created_at,
               trim("deal stage") as stage, rl_amount(amount, {dec}) as amount,
               rl_currency(currency, amount) as currency, rl_time("close date", {tz}) as closed_at,
               lower(trim("is closed won")) in ('true', 'yes', '1') as is_won
        from _src_hs_deals;

        create or replace temp table _src_versions as
        select h.source_line, trim(h."deal id") || ':' || epoch_ms(rl_time(h.timestamp, {tz})::timestamptz)
                   as version_id,
               s.survivor as deal_id, rl_time(h.timestamp, {tz}) as happened_at,
               case lower(trim(h.property)) when 'dealstage' then 'stage' else 'amount' end as property,
               case lower(trim(h.property)) when 'amount' then rl_amount(h.value, {dec})
                    else trim(h.value) end as value
        from _src_hs_history h
        join _src_hs_deal_survivor s on s.deal_id = trim(h."deal id") and s.survivor = s.deal_id
        where lower(trim(h.property)) in ('dealstage', 'amount');

        -- A stage that a deal sits in now, marked closed won, is a won stage; the default
        -- pipeline's closedwon / closedlost are known anyway (crm.DEFAULT_CLOSED_STAGES).
        create or replace temp table _src_closed_stages as
        select distinct {stage_key('stage')} as stage_key, true as won from _src_deals where is_won;

        create or replace temp table _src_deal_contacts as
        with links as (
            select d.source_line, ds.survivor as deal_id, d.created_at as happened_at,
                   unnest({_ids('h."associated contact ids"')}) as contact_id
            from _src_hs_deals h
            join _src_deals d on d.deal_id = trim(h."record id")
            join _src_hs_deal_survivor ds on ds.deal_id = d.deal_id
        )
        select l.source_line,
               'hubspot:deal:' || l.deal_id || ':contact:' || cs.survivor || ':'
                   || pseudonym(lower(trim(e.email))) as event_id,
               l.deal_id, l.happened_at, e.email
        from links l
        join _src_hs_contact_survivor cs on cs.contact_id = l.contact_id
        join _src_hs_contact_email e on e.survivor = cs.survivor;
        """
    )
    notes = []
    orphans = con.execute(
        """
        select count(*) from _src_hs_history h
        where trim(h."deal id") not in (select deal_id from _src_deals)
        """
    ).fetchone()[0]
    if orphans:
        notes.append(
            f"{orphans} history versions skipped: their deal was merged into another (whose own"
            " history is kept) or is not in the export"
        )
    unknown_contacts = con.execute(
        f"""
        select count(*) from (select unnest({_ids('"associated contact ids"')}) as id from _src_hs_deals)
        where id not in (select contact_id from _src_hs_contact_survivor)
        """
    ).fetchone()[0]
    if unknown_contacts:
        notes.append(f"{unknown_contacts} deal-contact associations skipped: contact not in the export")

    selects = {}
    if "form submissions" in found or con.execute("select count(*) from _src_hs_forms").fetchone()[0]:
        selects["form_fill"] = f"""
            select source_line, "conversion id" as submission_id, rl_visitor_id as visitor_id,
                   email, "form id" as form_id, rl_time("submitted at", {tz}) as occurred_at,
                   json_object('page_url', rl_url_path("page url")) as extra
            from _src_hs_forms
        """
    if con.execute("select count(*) from _src_hs_deals").fetchone()[0]:
        selects["deal"] = deal_events("hubspot")
    return Staged(selects=selects, notes=notes)


ADAPTER = Adapter(
    name="hubspot",
    vendor="HubSpot CRM exports",
    produces=("form_fill", "deal"),
    stage=stage,
    detect=detect,
    bundle=True,
    summary="folder of CSV exports: contacts, deals, deal property history, form submissions",
)
