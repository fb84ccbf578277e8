"""HRIS roster export (BambooHR, Workday, Personio style CSV) → employee snapshots.

A roster says who works here, in which department and job, since and until when, and (where
HR keeps it) under which LinkedIn identity: one ``employee`` snapshot per row, as of the day
the roster was taken. It knows nothing of network sizes (those come from the members' own
exports), so ``network_size`` stays empty, which the contract allows and dbt reads as "no
figure".

Each HRIS names its columns its own way; every field has a list of header names it is
recognized by (``ALIASES``), and each can be named explicitly with the format's own option
(``hr_roster:employee_id=Personalnummer,email=Work Email``). Only those columns are read:
names, phone numbers, addresses, salaries and the rest of an HR export never leave the file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from eventlog.contract import NETWORKS
from eventlog.errors import ReachloopError
from eventlog.sql import quote_str
from ingestion.adapters.base import (
    Adapter,
    Options,
    SourceShapeError,
    Staged,
    csv_header,
    file_name,
)
from ingestion.adapters.columns import date_in_name, read_fields, resolve_columns, snapshot_time

# Field → header names it is recognized by (matched trimmed, case-insensitively, runs of
# spaces as one). BambooHR: "Employee #", "Work Email", "Job Title", "Hire Date",
# "Termination Date", "LinkedIn"; Workday: "Employee ID", "Email - Primary Work",
# "Business Title", "Supervisory Organization"; Personio (English and German): "ID",
# "Email"/"E-Mail", "Position", "Abteilung", "Eintrittsdatum", "Austrittsdatum".
# A home email, an original hire date or a contract end date is not one of these on purpose.
ALIASES: dict[str, tuple[str, ...]] = {
    "employee_id": (
        "employee id", "employee_id", "employee #", "employee number", "employee no",
        "employee no.", "worker id", "personnel number", "personalnummer", "id",
    ),
    "email": (
        "work email", "work e-mail", "email - work", "email - primary work", "primary work email",
        "email", "e-mail",
    ),
    "department": ("department", "department name", "supervisory organization", "abteilung"),
    "title": ("job title", "title", "business title", "position"),
    "hired_at": ("hire date", "hire_date", "start date", "date of hire", "eintrittsdatum"),
    "left_at": (
        "termination date", "termination_date", "end date", "exit date", "leave date",
        "austrittsdatum",
    ),
    "linkedin": (
        "linkedin", "linkedin url", "linkedin profile", "linkedin profile url", "linkedin_url",
    ),
    "linkedin_urn": (
        "linkedin urn", "linkedin member urn", "linkedin person urn", "linkedin_urn",
    ),
    # Where HR or the advocacy program records who agreed to be asked to share (a custom
    # field in most HRIS): yes / no, true / false, 1 / 0, ja / nein; empty = not asked.
    "advocate_opt_in": (
        "advocacy opt-in", "advocacy opt in", "advocate opt-in", "advocate opt in", "advocate_opt_in",
        "advocacy program opt-in", "advocacy consent",
    ),
}
# The opt-in's spellings; any other value is read as "not asked" and counted in a note.
OPT_IN_VALUES = {
    "yes": "true", "y": "true", "true": "true", "1": "true", "ja": "true", "x": "true",
    "no": "false", "n": "false", "false": "false", "0": "false", "nein": "false",
}
REQUIRED = ("employee_id",)
# What makes a CSV recognizably a roster (auto-detection): an employee id, a department and a
# hire date. A contract ``employee`` file (hired_at, not "hire date") is never taken for one.
DETECT = ("employee_id", "department", "hired_at")

def observed_at(con: duckdb.DuckDBPyConnection, path: Path, options: Options) -> str:
    """When the roster was taken: the option ``observed_at``, else the date in its file name.
    Never the file's modification time: a copied or re-delivered file would change it."""
    given = options.get("observed_at")
    if given is not None:
        return snapshot_time(con, given, options.tz, f"{path.name}: observed_at")
    named = date_in_name(path)
    if named is None:
        raise SourceShapeError(
            f"{path.name}: a roster is a snapshot, but nothing says when it was taken: give"
            " hr_roster:observed_at=YYYY-MM-DD (or --observed-at), or put the date in the file"
            " name (roster-2026-03-01.csv)"
        )
    return snapshot_time(con, named, options.tz, f"{path.name}: the date in the file name")


def network_of(options: Options) -> str:
    network = (options.get("network") or "linkedin").strip().lower()
    if network not in NETWORKS:
        raise ReachloopError(f"hr_roster: network={network!r} is not one of {', '.join(NETWORKS)}")
    return network


def detect(path: Path) -> bool:
    if not path.name.lower().endswith((".csv", ".tsv")):
        return False
    try:
        with duckdb.connect() as con:
            header = csv_header(con, path)
        found = resolve_columns(path, header, ALIASES, Options(), required=DETECT, fmt="hr_roster")
    except (duckdb.Error, SourceShapeError):
        return False
    return set(DETECT) <= set(found)


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    header = csv_header(con, path)
    columns = resolve_columns(path, header, ALIASES, options, required=REQUIRED, fmt="hr_roster")
    observed, network = observed_at(con, path, options), network_of(options)
    read_fields(con, path, "_src_hr", columns, ALIASES)
    tz = quote_str(options.tz)
    con.execute(
        f"""
        create or replace temp table _src_hr_rows as
        select source_line, employee_id, email, department, title,
               -- BambooHR writes an empty date as 0000-00-00
               rl_time(nullif(trim(hired_at), '0000-00-00'), {tz}) as hired_at,
               rl_time(nullif(trim(left_at), '0000-00-00'), {tz}) as left_at,
               rl_member_id(linkedin_urn) as urn_id,
               rl_member_id(linkedin) as url_id,
               nullif(trim(advocate_opt_in), '') as opt_in_text,
               {_opt_in_case("lower(trim(advocate_opt_in))")} as advocate_opt_in
        from _src_hr
        """
    )
    select = f"""
        with ids as (
            select *,
                   -- The member id is the API's URN when the roster has one (engagements name
                   -- their actors by URN, so only it makes colleague engagements known), else
                   -- the profile URL; a value of either column that is a URN counts as one.
                   case when url_id like 'urn:li:%' and coalesce(urn_id, '') not like 'urn:li:%'
                        then url_id else coalesce(urn_id, url_id) end as member
            from _src_hr_rows
        ),
        both_ids as (
            select *, nullif(case when member = urn_id then url_id else urn_id end, member) as other
            from ids
        )
        select source_line, employee_id, {quote_str(observed)} as observed_at,
               {quote_str(network)} as network, member as member_id, department, title, email,
               hired_at, left_at, advocate_opt_in,
               -- The roster's other LinkedIn id (the profile URL beside a URN), which no other
               -- source can link to the member: kept as its keyed pseudonym, never in clear.
               json_object('other_member_id', pseudonym(other)) as extra
        from both_ids
    """
    return Staged(selects={"employee": select}, notes=notes(con, observed, network))


def _opt_in_case(expr: str) -> str:
    whens = " ".join(f"when {quote_str(k)} then {quote_str(v)}" for k, v in OPT_IN_VALUES.items())
    return f"case {expr} {whens} end"


def notes(con: duckdb.DuckDBPyConnection, observed: str, network: str) -> list[str]:
    """What the user should know: repeated ids, employees without a LinkedIn id, and network
    sizes this roster replaces (one key, employee_id + network + observed_at, names both a
    roster row and a network-size snapshot taken at the same instant)."""
    repeated, without_id, odd_opt_in = con.execute(
        """
        select (select count(*) from (select employee_id from _src_hr_rows
                where nullif(trim(employee_id), '') is not null group by 1 having count(*) > 1)),
               count(*) filter (where urn_id is null and url_id is null),
               count(*) filter (where opt_in_text is not null and advocate_opt_in is null)
        from _src_hr_rows
        """
    ).fetchone()
    [replaced] = con.execute(
        """
        select count(distinct e.employee_id) from raw.employee e
        join _src_hr_rows r on e.employee_id = trim(r.employee_id)
        where e.network = ? and e.observed_at = ?::timestamptz and e.network_size is not null
        """,
        [network, observed],
    ).fetchone()
    out = []
    if repeated:
        out.append(f"{repeated} employee ids have several rows: the last row is the snapshot")
    if without_id:
        out.append(
            f"{without_id} employees without a LinkedIn id: their engagements cannot be told from outsiders'"
        )
    if odd_opt_in:
        out.append(
            f"{odd_opt_in} advocacy opt-in values are neither yes nor no: read as not asked"
            " (never suggested as sharers)"
        )
    if replaced:
        out.append(
            f"{replaced} employees have a network-size snapshot at this very observed_at: the roster's"
            " row is a newer version of that event and hides its network size (give the roster"
            " another observed_at, e.g. with a time of day)"
        )
    return out


ADAPTER = Adapter(
    name="hr_roster",
    vendor="HRIS roster export (BambooHR, Workday, Personio style)",
    produces=("employee",),
    stage=stage,
    detect=detect,
    summary=(
        "CSV of employees: id, work email, department, job title, hire and end dates, LinkedIn id,"
        " advocacy opt-in"
    ),
    options=(*ALIASES, "observed_at", "network"),
    path_says=file_name,  # the day may be in it
)
