"""Salesforce export folder → deal (created, stage and amount changes, closings, contacts).

The folder holds CSV exports of the objects below, under their API field names (as Data
Loader, the Bulk API and the weekly Data Export write them), recognized by their columns:
Lead, Contact, Opportunity, OpportunityContactRole, OpportunityHistory. They land together,
in one transaction, because they refer to each other by record id.

- Each OpportunityHistory row is one save of an opportunity: a changed StageName becomes a
  stage_changed event (closed_won / closed_lost when the stage closes the deal), a changed
  Amount an amount_changed event, both with ids built from the history row's Id.
- OpportunityContactRole puts contacts on a deal: one contact_added event per address the
  contact is known by: its own Email, those of contacts merged into it, and those of the
  leads converted into it (a lead's address is often the one the person typed in a form).
- Deleted records (IsDeleted = true, as "export all" includes them) make no events. A contact
  deleted by a merge names its survivor in MasterRecordId, and its roles follow the survivor.

Salesforce writes times in UTC with a Z: no ``tz=`` is needed unless a report export is used.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.sql import quote_str
from ingestion.adapters.base import Adapter, Options, Role, Staged, read_bundle, role_of
from ingestion.adapters.crm import deal_events, stage_key

ROLES = (
    Role(
        "Lead", "_src_sf_lead",
        required=("id", "email", "isconverted"),
        optional=("convertedcontactid", "convertedopportunityid", "isdeleted", "createddate"),
        marker=("id", "isconverted"),
    ),
    Role(
        "Contact", "_src_sf_contact",
        required=("id", "email"),
        optional=("accountid", "masterrecordid", "isdeleted", "createddate"),
        marker=("id", "email", "accountid"),
        excludes=("isconverted",),
    ),
    Role(
        "Opportunity", "_src_sf_opportunity",
        required=("id", "stagename", "createddate"),
        optional=("name", "amount", "currencyisocode", "closedate", "isclosed", "iswon", "isdeleted"),
        marker=("id", "stagename"),
        excludes=("opportunityid",),
    ),
    Role(
        "OpportunityContactRole", "_src_sf_role",
        required=("opportunityid", "contactid"),
        optional=("id", "role", "isprimary", "createddate", "isdeleted"),
    ),
    Role(
        "OpportunityHistory", "_src_sf_history",
        required=("opportunityid", "stagename", "createddate"),
        optional=("id", "amount", "closedate", "isdeleted"),
        excludes=("contactid",),
    ),
)


def detect(path: Path) -> bool:
    return role_of(path, ROLES) is not None


def _live(table: str) -> str:
    """Rows of an object that are not deleted."""
    return f"(select * from {table} where lower(coalesce(trim(isdeleted), 'false')) not in ('true', '1'))"


def _deleted(table: str) -> str:
    return f"(select count(*) from {table} where lower(coalesce(trim(isdeleted), 'false')) in ('true', '1'))"


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    read_bundle(con, files, ROLES)
    tz, dec = quote_str(options.tz), quote_str(options.decimal)
    con.execute(
        f"""
        -- contact id → surviving contact id: itself, or the MasterRecordId a merge left behind
        create or replace temp table _src_sf_survivor as
        select trim(id) as contact_id, coalesce(nullif(trim(masterrecordid), ''), trim(id)) as survivor
        from _src_sf_contact;

        -- every address of a surviving contact: its own, its merged contacts', its leads'
        create or replace temp table _src_sf_email as
        select distinct s.survivor, c.email
        from _src_sf_contact c join _src_sf_survivor s on s.contact_id = trim(c.id)
        where nullif(trim(c.email), '') is not null
        union
        select s.survivor, l.email
        from {_live('_src_sf_lead')} l
        join _src_sf_survivor s on s.contact_id = trim(l.convertedcontactid)
        where lower(trim(l.isconverted)) in ('true', '1') and nullif(trim(l.email), '') is not null;

        create or replace temp table _src_deals as
        select source_line, trim(id) as deal_id, rl_time(createddate, {tz}) as created_at,
               trim(stagename) as stage, rl_amount(amount, {dec}) as amount,
               rl_currency(currencyisocode, amount) as currency,
               rl_time(closedate, {tz}) as closed_at,
               lower(trim(isclosed)) in ('true', '1') as is_closed,
               lower(trim(iswon)) in ('true', '1') as is_won
        from {_live('_src_sf_opportunity')};

        create or replace temp table _src_versions as
        with h as (
            select source_line, coalesce(nullif(trim(id), ''),
                                         trim(opportunityid) || ':' || trim(createddate)) as row_id,
                   trim(opportunityid) as deal_id, rl_time(createddate, {tz}) as happened_at,
                   trim(stagename) as stage, rl_amount(amount, {dec}) as amount
            from {_live('_src_sf_history')}
            where trim(opportunityid) in (select deal_id from _src_deals)
        )
        select source_line, row_id as version_id, deal_id, happened_at, 'stage' as property, stage as value
        from h
        union all
        select source_line, row_id, deal_id, happened_at, 'amount', amount from h where amount is not null;

        -- The stages today's opportunities close in tell which stages close a deal.
        create or replace temp table _src_closed_stages as
        select distinct {stage_key('stage')} as stage_key, is_won as won from _src_deals where is_closed;

        create or replace temp table _src_deal_contacts as
        select r.source_line,
               'salesforce:role:' || trim(r.opportunityid) || ':' || s.survivor || ':'
                   || pseudonym(lower(trim(e.email))) as event_id,
               trim(r.opportunityid) as deal_id,
               coalesce(rl_time(r.createddate, {tz}), d.created_at) as happened_at, e.email
        from {_live('_src_sf_role')} r
        join _src_deals d on d.deal_id = trim(r.opportunityid)
        join _src_sf_survivor s on s.contact_id = trim(r.contactid)
        join _src_sf_email e on e.survivor = s.survivor;
        """
    )
    deleted = con.execute(
        f"select {_deleted('_src_sf_opportunity')}, {_deleted('_src_sf_history')}, {_deleted('_src_sf_role')}"
    ).fetchone()
    notes = [
        f"{n} deleted {what} skipped"
        for n, what in zip(deleted, ("opportunities", "history rows", "contact roles"), strict=True)
        if n
    ]
    orphans = con.execute(
        f"""
        select (select count(*) from {_live('_src_sf_history')}
                where trim(opportunityid) not in (select deal_id from _src_deals)),
               (select count(*) from {_live('_src_sf_role')}
                where trim(opportunityid) not in (select deal_id from _src_deals)
                   or trim(contactid) not in (select contact_id from _src_sf_survivor))
        """
    ).fetchone()
    notes += [
        f"{n} {what} skipped: their opportunity or contact is deleted or not in the export"
        for n, what in zip(orphans, ("history rows", "contact roles"), strict=True)
        if n
    ]
    has_deals = con.execute("select count(*) from _src_deals").fetchone()[0]
    return Staged(selects={"deal": deal_events("salesforce")} if has_deals else {}, notes=notes)


ADAPTER = Adapter(
    name="salesforce",
    vendor="Salesforce exports",
    produces=("deal",),
    stage=stage,
    detect=detect,
    bundle=True,
    summary="folder of object CSVs: Lead, Contact, Opportunity, OpportunityContactRole, OpportunityHistory",
)
