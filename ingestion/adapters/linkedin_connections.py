"""LinkedIn member data export ("Get a copy of your data"), ``Connections.csv`` → audience, employee.

An employee downloads their own LinkedIn data and hands in ``Connections.csv``: a short
"Notes:" preamble (missing in older exports), a blank line, then the header
``First Name,Last Name,URL,Email Address,Company,Position,Connected On`` and one row per
connection. The file says neither whose export it is nor when it was taken, so both are
given: the options ``employee`` and ``observed_at`` (``reachloop land --format
linkedin_connections --employee E --observed-at TS FILE``), or else the path —
``linkedin_connections/<employee_id>/…`` names the employee, and LinkedIn's archive name
``Basic_LinkedInDataExport_MM-DD-YYYY`` (or a ``YYYY-MM-DD`` date) anywhere in the path, the
nearest to the file first, names the day. Options always win over the path.

What lands:
  * one ``audience`` event per connection with a profile URL: member_id = the URL made
    canonical (rl_member_id), pseudonymized by the landing; observed_at = the export time.
    Connections whose profile is hidden (no URL) cannot be named: counted in the notes.
    A later export of the same member is a new observation, so a connection removed since is
    no longer in the audience as of that export (the latest observation at or before a moment
    is the audience).
  * one ``employee`` event (network ``linkedin``) at the export time: network_size = the
    connections in the file — every row with or without URL, a profile URL written twice
    counted once.
  * up to ``HISTORY_MONTHS`` earlier ``employee`` events, one per month end before the export
    (network_size_basis ``reconstructed``; ``extra.export_observed_at`` names the export): the
    connections made on or before that month's last day. dbt uses such a size only where no
    counted one is known at or before a share (int_share_network_sizes).

Detected by the header after the preamble. Whose and when are not needed to recognize it: a
file that says neither is rejected naming what to pass, so a folder run reports it with the
reason instead of calling it an unknown event type.

Why the reconstructed network sizes: the reach ratio (members reached ÷ network size) needs
the sharer's network size at posting time, and a share is only measured against a snapshot
taken at or before it. Most companies collect each employee's export once, after months of
sharing, so without them every earlier share would have no network size at all. ``Connected
On`` dates each connection still there, so the size at a past month end is known from below:
connections removed since are missing (a lower bound, flagged so). The bound drifts the further
back it goes, and shares older than two years rarely matter, so the history stops at
``HISTORY_MONTHS`` monthly rows, and skips months before the first connection. Month ends at
23:59:59 in ``tz`` never coincide with an export's own time (a date is its midnight). Two
exports of one member reconstruct their common months as two versions of one event (the
earlier export's is the tighter bound; ``export_observed_at`` tells them apart).
The audience is not reconstructed: it stays ONE observation at the export time, because who
was connected earlier cannot be told from who is connected now.

Privacy: only ``URL`` and ``Connected On`` are read (names, emails, employers and positions
of people who never agreed to be in our warehouse are never selected); the URL reaches the
warehouse only as a pseudonymized member_id, and Connected On only as monthly counts.
"""

from __future__ import annotations

import csv
import itertools
import re
from datetime import date
from pathlib import Path

import duckdb

from eventlog.sql import quote_ident, quote_str
from ingestion.adapters.base import Adapter, Options, SourceShapeError, Staged

REQUIRED = ("url", "connected on")
# In every export's header but never read: third parties' names, emails, employers, titles.
NOT_READ = ("first name", "last name", "email address", "company", "position")
# What makes a CSV a Connections.csv, wherever its header sits after the preamble.
MARKER = ("first name", "last name", "url", "connected on")
HEAD_RECORDS = 20  # the preamble is three records; the header is well within these

FOLDER = "linkedin_connections"  # linkedin_connections/<employee_id>/… names the employee
HISTORY_MONTHS = 24

# LinkedIn's archive and folder name (Basic_ or Complete_LinkedInDataExport_MM-DD-YYYY);
# a bare NN-NN-YYYY elsewhere is not read (day-first or month-first cannot be told).
EXPORT_NAME = re.compile(r"LinkedInDataExport_(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE)
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def detect(path: Path) -> bool:
    """A Connections.csv by its header, after the preamble. Whose and when are not needed to
    recognize it: without them, the landing rejects it naming what to pass."""
    return _header_index(_head(path), MARKER) is not None


def stage(con: duckdb.DuckDBPyConnection, files: list[Path], options: Options) -> Staged:
    [path] = files
    employee = options.get("employee") or employee_from_path(path)
    observed = options.get("observed_at") or _iso(date_from_path(path))
    _require_whose_and_when(path, employee, observed)
    header_line = _read(con, path)
    _export(con, path, employee, observed, options.tz, header_line)
    _connections(con, path)
    return Staged(selects={"employee": _EMPLOYEE, "audience": _AUDIENCE}, notes=_notes(con))


# --- whose export, taken when ---------------------------------------------------------------


def employee_from_path(path: Path) -> str | None:
    """The folder right below the nearest ``linkedin_connections`` folder holding the file
    (``linkedin_connections/emp-7/Basic_LinkedInDataExport_03-02-2026/Connections.csv`` →
    emp-7); None when there is none, or when that folder is an export's dated folder."""
    folders = path.absolute().parent.parts
    for i in range(len(folders) - 1, -1, -1):
        if folders[i].lower() == FOLDER:
            below = folders[i + 1] if i + 1 < len(folders) else None
            return below if below and not _dates_in(below) else None
    return None


def date_from_path(path: Path) -> date | None:
    """The export's day from its file or folder names, the nearest to the file first:
    LinkedIn's ``…LinkedInDataExport_MM-DD-YYYY``, else an ISO ``YYYY-MM-DD``."""
    for part in reversed(path.absolute().parts):
        found = _dates_in(part)
        if found:
            return found[0]
    return None


def _dates_in(name: str) -> list[date]:
    """The dates a file or folder name carries; a date-shaped text that is no date fails
    (falling back to a folder further out would silently take another day)."""
    found = []
    for pattern, order in ((EXPORT_NAME, (3, 1, 2)), (ISO_DATE, (1, 2, 3))):
        for m in pattern.finditer(name):
            year, month, day = (int(m.group(i)) for i in order)
            try:
                found.append(date(year, month, day))
            except ValueError:
                raise SourceShapeError(f"{name}: {m.group(0)} is no date") from None
    return found


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _require_whose_and_when(path: Path, employee: str | None, observed: str | None) -> None:
    missing = []
    if not employee:
        missing.append(f"whose it is (--employee EMPLOYEE_ID, or a {FOLDER}/<employee_id>/ folder)")
    if not observed:
        missing.append(
            "when it was taken (--observed-at TS, or LinkedIn's folder name"
            " Basic_LinkedInDataExport_MM-DD-YYYY or a YYYY-MM-DD date in its path)"
        )
    if missing:
        raise SourceShapeError(f"{path.name}: a LinkedIn connections export needs {' and '.join(missing)}")


# --- reading the file -----------------------------------------------------------------------


def _head(path: Path) -> list[list[str]]:
    """The first records of a CSV, quote-aware as DuckDB's ``skip`` counts them (a blank line
    is a record; a quoted value may span lines). Empty if it is no readable CSV."""
    if not path.name.lower().endswith(".csv"):
        return []
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            return list(itertools.islice(csv.reader(fh), HEAD_RECORDS))
    except (OSError, csv.Error):
        return []


def _header_index(records: list[list[str]], names: tuple[str, ...]) -> int | None:
    """The first record holding all these column names (trimmed, case-insensitive)."""
    for i, record in enumerate(records):
        if set(names) <= {c.strip().lower() for c in record}:
            return i
    return None


def _shape_error(path: Path, records: list[list[str]]) -> SourceShapeError:
    """Name the missing columns against the header the file seems to have: the first record
    after the preamble's blank line (or the first record, without preamble)."""
    starts_with_notes = bool(records) and [c.strip().lower() for c in records[0]] == ["notes:"]
    blank = next((i for i, r in enumerate(records) if not any(c.strip() for c in r)), None)
    after = records[blank + 1:] if starts_with_notes and blank is not None else records
    header = {c.strip().lower() for c in (after[0] if after else [])} - {""}
    missing = [c for c in REQUIRED if c not in header]
    unexpected = sorted(header - set(REQUIRED) - set(NOT_READ))
    hint = f"; unexpected: {', '.join(unexpected)}" if unexpected else ""
    return SourceShapeError(f"{path.name}: missing columns: {', '.join(missing)}{hint}")


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """``_src_lic(source_line, url, connected_on)``: only these two columns leave the file.
    Returns the header's line number (the source_line of what the whole file says)."""
    records = _head(path)
    skip = _header_index(records, REQUIRED)
    if skip is None:
        raise _shape_error(path, records)
    source = (
        f"read_csv({quote_str(str(path))}, skip={skip}, header=true, all_varchar=true,"
        " delim=',', quote='\"', escape='\"')"
    )
    try:
        present = {c.strip().lower(): c for c in con.sql(f"select * from {source} limit 0").columns}
        if not set(REQUIRED) <= set(present):  # DuckDB saw another header than we did
            raise _shape_error(path, records[skip:])
        # Line numbers count the header's line (exact unless a quoted value spans lines).
        con.execute(
            f"""
            create or replace temp table _src_lic as
            select row_number() over () + {skip + 1} as source_line,
                   {quote_ident(present['url'])} as url,
                   {quote_ident(present['connected on'])} as connected_on
            from {source}
            """
        )
    except duckdb.Error as exc:
        raise SourceShapeError(f"{path.name}: not readable as CSV: {exc}".splitlines()[0]) from exc
    return skip + 1


def _export(
    con: duckdb.DuckDBPyConnection, path: Path, employee: str, observed: str, tz: str, header_line: int
) -> None:
    """``_src_lic_export(employee_id, observed_at, zone, export_local, header_line)``: one row."""
    con.execute(
        """
        create or replace temp table _src_lic_export as
        select ?::varchar as employee_id, try_cast(rl_time(?, ?) as timestamptz) as observed_at,
               ?::varchar as zone, timezone(zone, observed_at) as export_local, ?::bigint as header_line
        """,
        [employee, observed, tz, tz, header_line],
    )
    if con.execute("select observed_at is null from _src_lic_export").fetchone()[0]:
        raise SourceShapeError(
            f"{path.name}: observed_at {observed!r} is no timestamp"
            " (ISO 8601: 2026-03-02 or 2026-03-02T10:00:00Z)"
        )


def _connections(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """``_src_lic_connections(source_line, member_id, connected_on)``: one row per connection
    (a profile URL written twice is one), and the check that none postdates the export."""
    con.execute(
        """
        create or replace temp table _src_lic_rows as
        select source_line, rl_member_id(url) as member_id,
               coalesce(try_strptime(trim(connected_on), '%d %b %Y'),
                        try_strptime(trim(connected_on), '%Y-%m-%d'))::date as connected_on
        from _src_lic;

        create or replace temp table _src_lic_connections as
        select min(source_line) as source_line, member_id, min(connected_on) as connected_on
        from _src_lic_rows where member_id is not null group by member_id
        union all
        select source_line, null, connected_on from _src_lic_rows where member_id is null
        """
    )
    # A connection made after the export is impossible: the export's date is wrong. One day
    # of slack, as LinkedIn's dates and the given time may be in different zones.
    late = con.execute(
        """
        select max(c.connected_on) from _src_lic_connections c, _src_lic_export e
        where c.connected_on > e.export_local::date + 1
        """
    ).fetchone()[0]
    if late is not None:
        raise SourceShapeError(
            f"{path.name}: connections made up to {late} postdate the export's time: is observed_at right?"
        )


def _notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    hidden, undated = con.execute(
        "select count(*) filter (where member_id is null), count(*) filter (where connected_on is null)"
        " from _src_lic_connections"
    ).fetchone()
    months = con.execute(f"select count(*) from ({_HISTORY}) where network_size > 0").fetchone()[0]
    notes = []
    if hidden:
        notes.append(
            f"{hidden} connections without a profile URL: not in the audience, counted in the network size"
        )
    if undated:
        notes.append(
            f"{undated} connections with an unreadable Connected On: not in the network-size history"
        )
    notes.append(f"{months} earlier monthly network sizes reconstructed from Connected On (lower bounds)")
    return notes


# Month ends before the export (local time in tz), newest first: connections made by then.
_HISTORY = f"""
    select e.header_line as source_line, e.employee_id,
           timezone(e.zone, m.month_start - interval 1 second) as observed_at,
           (select count(*) from _src_lic_connections c where c.connected_on < m.month_start::date)
               as network_size,
           strftime(timezone('UTC', e.observed_at), '%Y-%m-%dT%H:%M:%SZ') as export_observed_at
    from _src_lic_export e, range(0, {HISTORY_MONTHS}) r(k),
         lateral (select date_trunc('month', e.export_local) - to_months(r.k::integer) as month_start) m
"""

_EMPLOYEE = f"""
    select e.header_line as source_line, e.employee_id, e.observed_at, 'linkedin' as network,
           (select count(*) from _src_lic_connections) as network_size,
           'counted' as network_size_basis, null as extra
    from _src_lic_export e
    union all
    select source_line, employee_id, observed_at, 'linkedin', network_size, 'reconstructed',
           -- which export: two exports reconstruct one month as two versions, and the earlier
           -- export's is the tighter bound (it still knows connections removed before the later)
           json_object('export_observed_at', export_observed_at)
    from ({_HISTORY}) where network_size > 0
"""

_AUDIENCE = """
    select r.source_line, e.employee_id, r.member_id, e.observed_at
    from _src_lic_rows r, _src_lic_export e
    where r.member_id is not null
"""


def path_says(path: Path) -> str:
    """Whose export and of which day the path says: two members' identical files, or one
    member's export unchanged a month later, are two observations, not one file twice."""
    return f"employee={employee_from_path(path)};day={_iso(date_from_path(path))}"


ADAPTER = Adapter(
    name="linkedin_connections",
    vendor="LinkedIn member data export (Connections.csv)",
    produces=("employee", "audience"),
    stage=stage,
    detect=detect,
    summary="A member's own Connections.csv: their audience at the export, and their network size",
    options=("employee", "observed_at"),
    path_says=path_says,
)
