"""The linkedin_connections format: a member's own Connections.csv → audience, employee.

Every file here is written by the test (people, companies and URLs made up for reachloop)."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.adapters import SourceShapeError, detect_format, land_any
from ingestion.adapters.linkedin_connections import HISTORY_MONTHS, date_from_path, employee_from_path
from ingestion.pseudonymize import pseudonym
from reachloop.cli import main
from tests.helpers import clear_text_columns, query

FORMAT = "linkedin_connections"
HEADER = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")
# Our own wording, in the shape of the notes LinkedIn writes above the header.
PREAMBLE = (
    "Notes:\n"
    '"When exporting your connection data, some email addresses may be missing: only connections'
    ' who allow it share theirs. See https://www.linkedin.com/psettings/privacy/email"\n'
    "\n"
)

# Names chosen with letters beyond a-f, so that no pseudonym (hex) can contain them by chance.
GRACE = ("Grace", "Hopper", "https://www.linkedin.com/in/grace-hopper-cobol", "grace.hopper@navy.example",
         "Remington Rand, UNIVAC Division", 'Rear Admiral,\n"Amazing Grace"', "15 Jan 2025")
ALAN = ("Alan", "Turing", "https://uk.linkedin.com/in/Alan-Turing-Bletchley/?trk=public_profile", "",
        "Bletchley Park", "Cryptanalyst", "03 Feb 2026")
KATHERINE = ("Katherine", "Johnson", "https://www.linkedin.com/in/katherine-johnson-nasa", "",
             "NASA Langley", "Mathematician, Flight Research", "28 Feb 2026")
MARGARET = ("Margaret", "Hamilton", "", "", "MIT Instrumentation Lab", "Software Lead", "01 Mar 2026")
DOROTHY = ("Dorothy", "Vaughan", "https://www.linkedin.com/in/dorothy-vaughan-fortran", "dorothy@west.example",
           "West Computing", "Supervisor", "10 May 2026")
MARCH = [GRACE, ALAN, KATHERINE, MARGARET]  # exported 2026-03-02
JUNE = [GRACE, KATHERINE, MARGARET, DOROTHY]  # exported 2026-06-01: Alan removed, Dorothy added

MEMBERS = {
    "grace": "linkedin.com/in/grace-hopper-cobol",
    "alan": "linkedin.com/in/alan-turing-bletchley",
    "katherine": "linkedin.com/in/katherine-johnson-nasa",
    "dorothy": "linkedin.com/in/dorothy-vaughan-fortran",
}


def connections_csv(
    path: Path, people: list[tuple[str, ...]], *, preamble: bool = True, bom: bool = False, crlf: bool = False
) -> Path:
    """A Connections.csv as LinkedIn writes it (quoted where a value needs it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *people])
    text = (PREAMBLE if preamble else "") + out.getvalue()
    if crlf:
        text = text.replace("\n", "\r\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def land(path: Path, *args: str) -> int:
    return main(["land", *args, str(path)])


def land_as(path: Path, employee: str = "emp-7", observed_at: str = "2026-03-02") -> int:
    return land(path, "--format", FORMAT, "--employee", employee, "--observed-at", observed_at)


def member(name: str, key: bytes) -> str:
    return pseudonym(MEMBERS[name], key)


def audience(settings: Settings, employee: str = "emp-7") -> dict[str, set[str]]:
    """observed_at (ISO date) → the pseudonymized members observed then."""
    rows = query(
        settings.warehouse,
        "select strftime(observed_at, '%Y-%m-%d'), member_id from raw.audience where employee_id = ?",
        [employee],
    )
    out: dict[str, set[str]] = {}
    for day, member_id in rows:
        out.setdefault(day, set()).add(member_id)
    return out


def network_sizes(settings: Settings, employee: str = "emp-7") -> list[tuple]:
    """(observed_at UTC text, network_size, reconstructed?) in time order."""
    return query(
        settings.warehouse,
        """
        select strftime(timezone('UTC', observed_at), '%Y-%m-%d %H:%M:%S'), network_size,
               network_size_basis = 'reconstructed'
        from raw.employee where employee_id = ? and network = 'linkedin' order by observed_at
        """,
        [employee],
    )


def export_size(settings: Settings, day: str) -> int:
    return next(size for at, size, rebuilt in network_sizes(settings) if at.startswith(day) and not rebuilt)


# --- hostile files --------------------------------------------------------------------------


def test_bom_crlf_and_preamble(settings, pii_key, tmp_path) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH, bom=True, crlf=True)
    assert land_as(path) == 0
    assert audience(settings) == {"2026-03-02": {member(n, pii_key) for n in ("grace", "alan", "katherine")}}
    assert export_size(settings, "2026-03-02") == 4
    assert query(settings.warehouse, "select distinct observed_at from raw.audience") == [
        (datetime(2026, 3, 2, tzinfo=UTC),)
    ]


def test_a_quoted_newline_inside_a_position_is_one_connection(settings, pii_key, tmp_path) -> None:
    assert "\n" in GRACE[5] and "," in GRACE[5]
    path = connections_csv(tmp_path / "Connections.csv", [GRACE, KATHERINE], crlf=True)
    assert land_as(path) == 0
    assert audience(settings)["2026-03-02"] == {member("grace", pii_key), member("katherine", pii_key)}
    assert export_size(settings, "2026-03-02") == 2


def test_blank_emails_everywhere(settings, pii_key, tmp_path) -> None:
    people = [(*p[:3], "", *p[4:]) for p in (GRACE, ALAN, KATHERINE)]
    path = connections_csv(tmp_path / "Connections.csv", people)
    assert land_as(path) == 0
    assert len(audience(settings)["2026-03-02"]) == 3


def test_connections_without_url_are_counted_and_skipped(settings, pii_key, tmp_path, capsys) -> None:
    hidden = ("Ada", "Byron", "", "", "Analytical Engines", "Programmer", "10 Dec 2025")
    path = connections_csv(tmp_path / "Connections.csv", [GRACE, MARGARET, hidden])
    assert land_as(path) == 0
    assert "2 connections without a profile URL: not in the audience" in capsys.readouterr().out
    assert audience(settings)["2026-03-02"] == {member("grace", pii_key)}
    assert export_size(settings, "2026-03-02") == 3  # the member's network has them all


def test_an_export_without_preamble(settings, pii_key, tmp_path) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH, preamble=False)
    assert detect_format(path) == FORMAT
    assert land_as(path) == 0
    assert len(audience(settings)["2026-03-02"]) == 3


def test_duplicated_rows_land_once(settings, pii_key, tmp_path) -> None:
    # the same profile written twice, once in another spelling of its URL
    again = (*KATHERINE[:2], "https://www.linkedin.com/in/Katherine-Johnson-NASA/", *KATHERINE[3:])
    path = connections_csv(tmp_path / "Connections.csv", [GRACE, KATHERINE, again])
    assert land_as(path) == 0
    assert query(settings.warehouse, "select count(*) from raw.audience") == [(2,)]
    assert export_size(settings, "2026-03-02") == 2
    assert query(settings.warehouse, "select rows_read, rows_landed, rows_duplicate from meta.batches"
                 " where event_type = 'audience'") == [(3, 2, 1)]


def test_a_file_of_the_wrong_shape_names_the_missing_columns(settings, pii_key, tmp_path, capsys) -> None:
    contacts = tmp_path / "Contacts.csv"
    contacts.write_text(
        "Source,FirstName,LastName,Companies,Title,Emails,PhoneNumbers,CreatedAt\n"
        "MOBILE,Grace,Hopper,UNIVAC,Admiral,grace.hopper@navy.example,555-0100,3/2/26\n"
    )
    assert detect_format(contacts) is None
    assert land_as(contacts) == 1
    err = capsys.readouterr().err
    assert "Contacts.csv: missing columns: url, connected on" in err and "unexpected:" in err and "emails" in err
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


def test_no_date_anywhere_is_a_clear_error(settings, pii_key, tmp_path, capsys) -> None:
    path = connections_csv(tmp_path / "export" / "Connections.csv", MARCH)
    assert land(path, "--format", FORMAT, "--employee", "emp-7") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "needs when it was taken (--observed-at TS" in err and "whose it is" not in err
    assert land(path, "--format", FORMAT) == 1
    err = capsys.readouterr().err
    assert "whose it is (--employee EMPLOYEE_ID" in err and "--observed-at TS" in err
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


def test_an_observed_at_that_is_no_time_is_refused(settings, pii_key, tmp_path, capsys) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH)
    assert land_as(path, observed_at="last tuesday") == 1
    assert "observed_at 'last tuesday' is no timestamp" in capsys.readouterr().err


def test_connections_made_after_the_export_refuse_its_date(settings, pii_key, tmp_path, capsys) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH)
    assert land_as(path, observed_at="2026-02-01") == 1  # a typo: the export is from March
    assert "postdate the export's time: is observed_at right?" in capsys.readouterr().err
    assert query(settings.warehouse, "select count(*) from raw.audience") == [(0,)]


# --- whose export, taken when: the path ---------------------------------------------------


def test_the_folder_layout_gives_the_employee_and_the_date(settings, pii_key, tmp_path) -> None:
    landing = tmp_path / "landing"
    connections_csv(
        landing / FORMAT / "emp-7" / "Basic_LinkedInDataExport_03-02-2026" / "Connections.csv", MARCH, bom=True
    )
    connections_csv(landing / FORMAT / "emp-8" / "2026-06-01" / "Connections.csv", JUNE)
    assert land(landing) == 0  # formats detected, whose and when read from the path
    assert audience(settings, "emp-7") == {
        "2026-03-02": {member(n, pii_key) for n in ("grace", "alan", "katherine")}
    }
    assert set(audience(settings, "emp-8")) == {"2026-06-01"}


def test_the_options_win_over_the_path(settings, pii_key, tmp_path) -> None:
    path = connections_csv(
        tmp_path / FORMAT / "emp-7" / "Basic_LinkedInDataExport_03-02-2026" / "Connections.csv", MARCH
    )
    assert land_as(path, employee="emp-9", observed_at="2026-03-02T10:15:00+01:00") == 0
    assert query(settings.warehouse, "select distinct employee_id, observed_at from raw.audience") == [
        ("emp-9", datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
    ]


def test_whose_and_when_from_the_path() -> None:
    export = Path("/data/people/2026-03-05") / FORMAT / "emp-7" / "Basic_LinkedInDataExport_03-02-2026"
    assert employee_from_path(export / "Connections.csv") == "emp-7"
    # the nearest date to the file wins over the delivery folder's
    assert date_from_path(export / "Connections.csv") == date(2026, 3, 2)
    assert date_from_path(Path("/data/people/2026-03-05/x/Connections.csv")) == date(2026, 3, 5)
    assert date_from_path(Path("/data/x/Connections.csv")) is None
    # an export folder right below linkedin_connections names no employee
    assert employee_from_path(Path(FORMAT) / "Basic_LinkedInDataExport_03-02-2026" / "Connections.csv") is None
    assert employee_from_path(Path(FORMAT) / "Connections.csv") is None
    with pytest.raises(SourceShapeError, match="13-45-2026 is no date"):
        date_from_path(Path("Basic_LinkedInDataExport_13-45-2026/Connections.csv"))


def test_detected_without_whose_and_when_it_is_rejected_with_the_reason(settings, pii_key, tmp_path) -> None:
    folder = tmp_path / "inbox"
    path = connections_csv(folder / "Connections.csv", MARCH)
    assert detect_format(path) == FORMAT
    with warehouse(settings) as con:
        [result] = land_any(con, folder, pii_key)
    assert result.status == "rejected"
    assert "needs whose it is (--employee EMPLOYEE_ID" in result.message and "--observed-at TS" in result.message
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


# --- several exports ------------------------------------------------------------------------


def test_a_later_export_of_a_member_is_their_audience_from_then_on(settings, pii_key, tmp_path) -> None:
    march = connections_csv(tmp_path / "march" / "Connections.csv", MARCH)
    june = connections_csv(tmp_path / "june" / "Connections.csv", JUNE)
    assert land_as(march, observed_at="2026-03-02") == 0
    assert land_as(june, observed_at="2026-06-01") == 0

    def audience_at(moment: str) -> set[str]:
        """The dbt audience rule: the latest observation at or before the moment."""
        rows = query(
            settings.warehouse,
            """
            select member_id from raw.audience
            where employee_id = 'emp-7' and observed_at = (
                select max(observed_at) from raw.audience
                where employee_id = 'emp-7' and observed_at <= ?::timestamptz)
            """,
            [moment],
        )
        return {m for (m,) in rows}

    first = {member(n, pii_key) for n in ("grace", "alan", "katherine")}
    later = {member(n, pii_key) for n in ("grace", "katherine", "dorothy")}
    assert audience_at("2026-04-01T00:00:00Z") == first
    assert audience_at("2026-07-01T00:00:00Z") == later  # Alan removed, Dorothy added
    assert export_size(settings, "2026-03-02") == 4 and export_size(settings, "2026-06-01") == 4


def test_two_exports_land_alike_in_either_order(tmp_path, monkeypatch) -> None:
    march = connections_csv(tmp_path / "march" / "Connections.csv", MARCH)
    june = connections_csv(tmp_path / "june" / "Connections.csv", JUNE)
    raw = []
    for name, order in (("a", [(march, "2026-03-02"), (june, "2026-06-01")]),
                        ("b", [(june, "2026-06-01"), (march, "2026-03-02")])):
        monkeypatch.setenv("REACHLOOP_HOME", str(tmp_path / name))
        for path, day in order:
            assert land_as(path, observed_at=day) == 0
        home = Settings.from_env()
        raw.append([
            query(home.warehouse, f"select * exclude (ingested_at) from raw.{t} order by all")
            for t in ("audience", "employee")
        ])
    assert raw[0] == raw[1] and len(raw[0][0]) == 6


def test_the_same_file_twice_lands_once(settings, pii_key, tmp_path, capsys) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH)
    assert land_as(path) == 0
    before = query(settings.warehouse, "select count(*) from raw.audience union all select count(*) from raw.employee")
    copy = tmp_path / "again" / "Connections.csv"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    assert land_as(copy) == 0
    assert "already landed (same checksum)" in capsys.readouterr().out
    assert query(settings.warehouse, "select count(*) from raw.audience union all select count(*) from raw.employee") == before


def test_the_same_file_said_to_be_of_another_day_is_another_observation(settings, pii_key, tmp_path) -> None:
    """Whose and when are part of what lands: the same bytes re-dated are not 'already landed'."""
    path = connections_csv(tmp_path / "Connections.csv", MARCH)
    assert land_as(path, observed_at="2026-03-02") == 0
    assert land_as(path, observed_at="2026-04-02") == 0
    observed = audience(settings)
    assert sorted(observed) == ["2026-03-02", "2026-04-02"]
    assert observed["2026-03-02"] == observed["2026-04-02"]


def test_identical_files_of_two_members_or_two_days_are_observations_each(settings, pii_key, tmp_path) -> None:
    """Whose and when the folder layout says count as much as the bytes: the same file in two
    members' folders, or one member's export unchanged a month later, lands every time."""
    root = tmp_path / "linkedin_connections"
    for employee, day in (("emp-a", "03-01-2026"), ("emp-a", "04-01-2026"), ("emp-b", "03-01-2026")):
        connections_csv(root / employee / f"Basic_LinkedInDataExport_{day}" / "Connections.csv", MARCH)
    assert land(root, "--format", FORMAT) == 0
    assert audience(settings, "emp-a").keys() == {"2026-03-01", "2026-04-01"}
    assert audience(settings, "emp-b").keys() == {"2026-03-01"}


# --- network size history -------------------------------------------------------------------


def test_earlier_network_sizes_are_monthly_lower_bounds(settings, pii_key, tmp_path) -> None:
    path = connections_csv(tmp_path / "Connections.csv", MARCH)
    assert land_as(path) == 0
    sizes = network_sizes(settings)
    rebuilt = [(at, size) for at, size, flagged in sizes if flagged]
    # every month end from the first connection's (Grace, Jan 2025) to the last before the export
    assert rebuilt[0] == ("2025-01-31 23:59:59", 1)
    assert rebuilt[-2:] == [("2026-01-31 23:59:59", 1), ("2026-02-28 23:59:59", 3)]
    assert len(rebuilt) == 14 <= HISTORY_MONTHS
    assert sizes[-1] == ("2026-03-02 00:00:00", 4, False)  # the export itself
    extra = query(settings.warehouse, "select distinct extra from raw.employee where extra is not null")
    assert extra == [('{"export_observed_at":"2026-03-02T00:00:00Z"}',)]


def test_network_size_history_stops_after_its_months_and_follows_tz(settings, pii_key, tmp_path) -> None:
    old = ("Charles", "Babbage", "https://www.linkedin.com/in/charles-babbage-engine", "", "Cambridge",
           "Professor", "26 Dec 2019")
    path = connections_csv(tmp_path / "Connections.csv", [old, *MARCH])
    spec = f"{FORMAT}:tz=America/New_York,employee=emp-7,observed_at=2026-03-02"
    assert land(path, "--format", spec) == 0
    rebuilt = [(at, size) for at, size, flagged in network_sizes(settings) if flagged]
    assert len(rebuilt) == HISTORY_MONTHS
    # month ends in New York: February's is 04:59:59 UTC on March 1st (EST), March 2024's is
    # 03:59:59 UTC on April 1st (EDT)
    assert rebuilt[-1] == ("2026-03-01 04:59:59", 4) and rebuilt[0] == ("2024-04-01 03:59:59", 1)


# --- privacy --------------------------------------------------------------------------------


def test_no_connection_detail_reaches_the_warehouse_in_clear(settings, pii_key, tmp_path) -> None:
    landing = tmp_path / "landing" / FORMAT / "emp-7"
    connections_csv(landing / "Basic_LinkedInDataExport_03-02-2026" / "Connections.csv", MARCH, bom=True)
    connections_csv(landing / "2026-06-01" / "Connections.csv", JUNE, crlf=True)
    assert land(tmp_path / "landing") == 0
    needles = sorted(
        {value for person in [*MARCH, *JUNE] for value in person[:6] if value}
        | {part for person in [*MARCH, *JUNE] for part in person[5].split("\n")}
        | {slug.split("/")[-1] for slug in MEMBERS.values()}
        | {"Turing-Bletchley", "Connected On", "15 Jan 2025", "10 May 2026"}
    )
    assert clear_text_columns(settings.warehouse, needles) == []
    # the scan itself finds what is there: the employee id and the export's folder name
    assert ("raw.audience.employee_id", "emp-7") in clear_text_columns(settings.warehouse, ["emp-7"])
    assert clear_text_columns(settings.warehouse, ["LinkedInDataExport"]) == [("meta.batches.file_path", "LinkedInDataExport")]
