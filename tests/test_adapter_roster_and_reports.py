"""HR roster exports (hr_roster) and advocacy share reports with metrics (advocacy_report):
header variants, options, snapshots in time, LinkedIn ids, PII, and the marts they feed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventlog.settings import Settings
from ingestion.adapters import detect_format
from ingestion.pseudonymize import pseudonym
from reachloop.cli import main
from tests.helpers import clear_text_columns, dbt_build, query, write_csv
from tests.helpers import land_in as land
from tests.helpers import write_dedented as write

SAMPLES = Path(__file__).resolve().parents[1] / "ingestion" / "adapters" / "samples"


def employees(settings: Settings) -> list[tuple]:
    return query(
        settings.warehouse,
        "select employee_id, department, title, email, hired_at::date::varchar, left_at::date::varchar"
        " from raw.employee order by employee_id",
    )


# --- hr_roster: header styles ---------------------------------------------------------------


def test_bamboohr_style_headers_map(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "bamboohr_2026-03-01.csv",
        """
        Employee #,First Name,Last Name,Work Email,Home Email,Department,Job Title,Hire Date,Termination Date,LinkedIn
        E-1,Ana,Silva,ana.silva@acme.example,ana@home.example,Marketing,Content Lead,2021-04-01,0000-00-00,https://www.linkedin.com/in/ana-silva/
        """,
    )
    [result] = land(settings, path, pii_key)  # detected from its columns
    assert (result.event_type, result.rows_landed) == ("employee", 1)
    assert employees(settings) == [
        ("E-1", "Marketing", "Content Lead", pseudonym("ana.silva@acme.example", pii_key, email=True),
         "2021-04-01", None)
    ]
    [(observed, network, size)] = query(
        settings.warehouse, "select observed_at::varchar, network, network_size from raw.employee"
    )
    assert (observed, network, size) == ("2026-03-01 00:00:00+00", "linkedin", None)


def test_workday_style_headers_map(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "Workday_Worker_Report_20260301.csv",
        """
        Employee ID,Worker,Email - Primary Work,Supervisory Organization,Business Title,Cost Center,Hire Date,Termination Date,LinkedIn URN
        21001,Ben Okafor,ben.okafor@acme.example,Sales (EMEA),Account Executive,CC-100,09/15/2022,,urn:li:person:bEn222
        """,
    )
    land(settings, path, pii_key, "hr_roster:tz=America/New_York")
    assert employees(settings) == [
        ("21001", "Sales (EMEA)", "Account Executive", pseudonym("ben.okafor@acme.example", pii_key, email=True),
         "2022-09-15", None)
    ]
    assert query(settings.warehouse, "select hired_at::varchar, member_id from raw.employee") == [
        ("2022-09-15 04:00:00+00", pseudonym("urn:li:person:bEn222", pii_key))  # EDT midnight
    ]


@pytest.mark.parametrize(
    "header, row",
    [
        ("ID,First name,Last name,Email,Department,Position,Hire date,Termination date,Team",
         "7,Cem,Yilmaz,cem.yilmaz@acme.example,Sales,SDR,09.01.2023,31.03.2026,North"),
        ("ID,Vorname,Nachname,E-Mail,Abteilung,Position,Eintrittsdatum,Austrittsdatum,Kostenstelle",
         "7,Cem,Yilmaz,cem.yilmaz@acme.example,Sales,SDR,09.01.2023,31.03.2026,4711"),
    ],
    ids=["english", "german"],
)
def test_personio_style_headers_map(settings, pii_key, tmp_path, header, row) -> None:
    path = write(tmp_path / "personio-export-2026-03-01.csv", f"{header}\n{row}\n")
    assert detect_format(path) == "hr_roster"
    land(settings, path, pii_key, "hr_roster:tz=Europe/Berlin")
    assert employees(settings) == [
        ("7", "Sales", "SDR", pseudonym("cem.yilmaz@acme.example", pii_key, email=True), "2023-01-08", "2026-03-30")
    ]  # Berlin midnight is the previous day in UTC
    assert query(settings.warehouse, "select left_at::varchar from raw.employee") == [("2026-03-30 22:00:00+00",)]


def test_custom_column_names_via_options(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "staff.csv",
        """
        Staff No,Mail,Unit,Role,Joined,Left,Profile,ID
        s-9,dan@acme.example,Finance,Controller,2020-02-01,2025-12-31,https://linkedin.com/in/dan-f,999
        """,
    )
    spec = (
        "hr_roster:employee_id=Staff No,email=Mail,department=unit,title=Role,hired_at=Joined,"
        "left_at=Left,linkedin=Profile,observed_at=2026-03-01T06:00:00Z,network=LinkedIn"
    )
    [result] = land(settings, path, pii_key, spec)
    assert result.status == "landed", result.message
    assert employees(settings) == [
        ("s-9", "Finance", "Controller", pseudonym("dan@acme.example", pii_key, email=True),
         "2020-02-01", "2025-12-31")
    ]
    assert query(settings.warehouse, "select observed_at::varchar, member_id from raw.employee") == [
        ("2026-03-01 06:00:00+00", pseudonym("linkedin.com/in/dan-f", pii_key))
    ]


# --- hr_roster: shapes and snapshot time ----------------------------------------------------


def test_a_missing_required_column_is_named(settings, pii_key, tmp_path, capsys) -> None:
    path = write(
        tmp_path / "roster-2026-03-01.csv",
        "Staff No,Department,Hire Date\ns-1,Sales,2020-01-01\n",
    )
    assert main(["land", "--format", "hr_roster", str(path)]) == 1
    err = capsys.readouterr().err
    assert "missing columns: employee_id (one of: employee id" in err and "columns in the file: Staff No" in err
    # a column named by an option must be there too
    assert main(["land", "--format", "hr_roster:employee_id=Personnel No", str(path)]) == 1
    assert "missing columns: Personnel No (employee_id=Personnel No)" in capsys.readouterr().err
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


def test_a_field_several_columns_could_be_is_not_guessed(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "roster-2026-03-01.csv",
        """
        ID,Employee #,Department,Hire Date
        101,E-1,Sales,2020-01-01
        """,
    )
    assert detect_format(path) is None
    [result] = land(settings, path, pii_key, "hr_roster")
    assert result.status == "rejected"
    assert "employee_id could be any of the columns ID, Employee #" in result.message
    assert "hr_roster:employee_id=<column>" in result.message
    land(settings, path, pii_key, "hr_roster:employee_id=Employee #")
    assert query(settings.warehouse, "select employee_id from raw.employee") == [("E-1",)]


def test_a_roster_without_a_date_is_refused_and_the_option_or_name_dates_it(settings, pii_key, tmp_path) -> None:
    text = "Employee ID,Department,Hire Date\nE-{},Sales,2020-01-01\n"  # contents differ: checksums
    undated = write(tmp_path / "roster.csv", text.format(1))
    [result] = land(settings, undated, pii_key, "hr_roster")
    assert result.status == "rejected" and "a roster is a snapshot" in result.message
    [result] = land(settings, undated, pii_key, "hr_roster:observed_at=next tuesday")
    assert result.status == "rejected" and "'next tuesday') is no date or time" in result.message
    land(settings, undated, pii_key, "hr_roster:observed_at=2026-02-01")
    land(settings, write(tmp_path / "BambooHR_20260301.csv", text.format(2)), pii_key, "hr_roster")
    # a period in the name: its end
    land(settings, write(tmp_path / "roster_2026-03-15_to_2026-03-31.csv", text.format(3)), pii_key, "hr_roster")
    assert query(settings.warehouse, "select observed_at::date::varchar from raw.employee order by 1") == [
        ("2026-02-01",), ("2026-03-01",), ("2026-03-31",)
    ]


def test_a_terminated_employee_gets_left_at(settings, pii_key) -> None:
    land(settings, SAMPLES / "hr_roster", pii_key)
    assert [(e, left) for e, *_, left in employees(settings)] == [
        ("emp-ana", None), ("emp-ben", None), ("emp-cem", "2026-03-31")  # 0000-00-00 is no date
    ]


def test_urn_is_the_member_id_and_the_profile_url_is_kept_as_a_pseudonym(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "roster-2026-03-01.csv",
        """
        Employee ID,LinkedIn,LinkedIn URN
        both,https://www.linkedin.com/in/Ana-Silva/?trk=x,urn:li:person:aaa111
        url-only,https://de.linkedin.com/in/ben-okafor,
        urn-in-url-column,urn:li:person:ccc333,
        none,,
        """,
    )
    [result] = land(settings, path, pii_key, "hr_roster")
    assert "1 employees without a LinkedIn id" in result.message
    rows = query(settings.warehouse, "select employee_id, member_id, extra from raw.employee order by source_line")
    p = lambda v: pseudonym(v, pii_key)  # noqa: E731
    assert [(e, m, json.loads(x) if x else None) for e, m, x in rows] == [
        # the URN matches the API's engagers; the URL (canonical, as audiences carry it) is kept
        ("both", p("urn:li:person:aaa111"), {"other_member_id": p("linkedin.com/in/ana-silva")}),
        ("url-only", p("linkedin.com/in/ben-okafor"), None),
        ("urn-in-url-column", p("urn:li:person:ccc333"), None),
        ("none", None, None),
    ]


def test_relanding_a_roster_is_a_no_op(settings, pii_key) -> None:
    [first] = land(settings, SAMPLES / "hr_roster", pii_key)
    [again] = land(settings, SAMPLES / "hr_roster", pii_key)
    assert (first.status, first.rows_landed, again.status) == ("landed", 3, "skipped")
    assert query(settings.warehouse, "select count(*), count(distinct batch_id) from raw.employee") == [(3, 1)]


def test_a_roster_at_the_instant_of_a_network_size_snapshot_says_it_hides_it(settings, pii_key, tmp_path) -> None:
    write(
        tmp_path / "people" / "employee.csv",
        """
        employee_id,observed_at,network,network_size
        emp-ana,2026-03-01T00:00:00Z,linkedin,1350
        """,
    )
    land(settings, tmp_path / "people", pii_key)
    [result] = land(settings, SAMPLES / "hr_roster", pii_key)
    assert "1 employees have a network-size snapshot at this very observed_at" in result.message


def test_no_name_email_profile_url_or_urn_in_clear_in_any_table(settings, pii_key, tmp_path) -> None:
    land(settings, SAMPLES / "hr_roster", pii_key)
    land(settings, SAMPLES / "advocacy_report", pii_key)
    # a quarantined row too: its raw text is kept, masked
    write(tmp_path / "r" / "roster-2026-03-02.csv",
          "Employee ID,Work Email,LinkedIn URN,Hire Date\n"
          "E-9,eve.adams@acme.example,urn:li:person:eee555,someday\n")
    land(settings, tmp_path / "r", pii_key, "hr_roster")
    assert query(settings.warehouse, "select count(*) from meta.quarantine where event_type = 'employee'") == [(1,)]
    needles = [
        "Silva", "Okafor", "Yilmaz", "Adams", "@", "linkedin.com/in", "ana-silva",
        "ben-okafor", "urn:li:person", "aaa111", "eee555", "+49", "555 0100", "78000", "92000",
    ]
    assert clear_text_columns(settings.warehouse, needles) == []
    # the helper does find clear text where there is some
    assert ("meta.quarantine.detail", "someday") in clear_text_columns(settings.warehouse, ["someday"])


def test_a_bom_and_crlf_roster(settings, pii_key, tmp_path) -> None:
    path = tmp_path / "roster-2026-03-01.csv"
    path.write_bytes(
        "\ufeffEmployee #,Department,Job Title,Hire Date\r\nE-1,Sales,AE,2020-01-01\r\nE-2,Marketing,CM,2021-06-01\r\n"
        .encode()
    )
    assert detect_format(path) == "hr_roster"
    land(settings, path, pii_key)
    assert [(e, d, t) for e, d, t, *_ in employees(settings)] == [("E-1", "Sales", "AE"), ("E-2", "Marketing", "CM")]


def test_quoted_newlines_in_a_column_not_read(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "roster-2026-03-01.csv",
        '''
        Employee ID,Home Address,Department,Hire Date
        E-1,"Hauptstr. 1
        10115 Berlin",Sales,2020-01-01
        E-2,"12 High St,
        London",Marketing,2021-06-01
        ''',
    )
    [result] = land(settings, path, pii_key)
    assert (result.rows_read, result.rows_landed) == (2, 2)
    assert [(e, d) for e, d, *_ in employees(settings)] == [("E-1", "Sales"), ("E-2", "Marketing")]
    assert clear_text_columns(settings.warehouse, ["Berlin", "London", "Hauptstr"]) == []


# --- advocacy_report ------------------------------------------------------------------------

REPORT_HEADER = "Employee ID,Employee Name,Network,Post URL,Shared At,Tracked Link,Content ID,Clicks,Likes,Comments"
POST = "https://www.linkedin.com/feed/update/urn:li:activity:7300000000000000001/"


def test_a_report_yields_shares_and_metrics_with_potential_reach(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "everyonesocial-report-2026-03-06.csv",
        f"""
        {REPORT_HEADER},Reposts,Impressions,Reach
        emp-ana,Ana Silva,LinkedIn,{POST},2026-03-01T09:00:00Z,https://acme.example/a?rlt=tk-1&utm_source=li,c-1,"1,204",23,4,2,"18,400",1350
        Total,,,,,,,"1,204",23,4,2,"18,400",1350
        """,
    )
    assert detect_format(path) == "advocacy_report"
    results = land(settings, path, pii_key)
    assert [(r.event_type, r.rows_read, r.rows_landed) for r in results] == [
        ("share", 1, 1), ("share_metrics", 1, 1)
    ]
    assert "1 rows without a post URL (totals lines): skipped" in results[0].message
    assert query(
        settings.warehouse, "select share_id, author_type, author_id, tracking_token, content_id from raw.share"
    ) == [("urn:li:activity:7300000000000000001", "employee", "emp-ana", "tk-1", "c-1")]
    assert query(
        settings.warehouse,
        "select share_id, observed_at::varchar, impressions, unique_impressions, reactions, comments, reshares,"
        " clicks, potential_reach from raw.share_metrics",
    ) == [("urn:li:activity:7300000000000000001", "2026-03-06 00:00:00+00", 18400, None, 23, 4, 2, 1204, 1350)]


def test_a_report_without_impressions_lands_shares_but_no_metrics(settings, pii_key, tmp_path) -> None:
    """Impressions are required by the contract and a platform may not have them: no figure is
    made up, the rows' metrics are skipped and counted, nothing is quarantined."""
    path = write(
        tmp_path / "report.csv",
        f"""
        {REPORT_HEADER},Reshares,Potential Reach
        emp-ana,Ana Silva,LinkedIn,{POST},2026-03-01T09:00:00Z,https://acme.example/a?rlt=tk-1,c-1,12,23,4,2,1350
        """,
    )
    results = land(settings, path, pii_key, "advocacy_report:observed_at=2026-03-06T18:00:00+01:00")
    assert [(r.event_type, r.rows_landed, r.rows_quarantined) for r in results] == [
        ("share", 1, 0), ("share_metrics", 0, 0)
    ]
    assert "1 rows without impressions: their metrics not landed" in results[0].message
    assert query(settings.warehouse, "select count(*) from meta.quarantine") == [(0,)]


def test_report_date_column_dates_the_metrics_and_the_option_overrides_it(settings, pii_key, tmp_path) -> None:
    text = f"""
        Report Date,{REPORT_HEADER},Reshares,Impressions
        2026-03-05,emp-ana,Ana Silva,LinkedIn,{POST},2026-03-01T09:00:00Z,https://acme.example/a?rlt=tk-1,c-1,1,2,3,4,500
        """
    land(settings, write(tmp_path / "a" / "report-2026-03-09.csv", text), pii_key, "advocacy_report")
    land(settings, write(tmp_path / "b" / "report-2026-03-09.csv", text.replace("500", "700")), pii_key,
         "advocacy_report:observed_at=2026-03-07")
    undated = write(tmp_path / "c" / "report.csv", text.replace("Report Date", "Period").replace("500", "900"))
    [result] = land(settings, undated, pii_key, "advocacy_report")
    assert result.status == "rejected" and "a report's metrics are a snapshot" in result.message
    assert query(
        settings.warehouse, "select observed_at::date::varchar, impressions from raw.share_metrics order by 1"
    ) == [("2026-03-05", 500), ("2026-03-07", 700)]


def test_a_report_without_tracked_links_lands_only_metrics(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "sprout-2026-03-06.csv",
        f"""
        Employee ID,Network,Permalink,Shared On,Reactions,Comments,Reposts,Impressions,Potential Reach
        emp-ana,LinkedIn,{POST},2026-03-01T09:00:00Z,23,4,2,1840,1350
        """,
    )
    results = land(settings, path, pii_key)
    assert [(r.event_type, r.rows_landed) for r in results] == [("share_metrics", 1)]
    assert "no tracked link column: shares not landed" in results[0].message
    assert query(settings.warehouse, "select clicks, potential_reach from raw.share_metrics") == [(None, 1350)]


def test_detection_tells_a_report_from_a_shares_export(tmp_path) -> None:
    shares = SAMPLES / "advocacy_shares" / "shares-2026-03-01_to_03.csv"
    assert detect_format(shares) == "advocacy_shares"
    assert detect_format(SAMPLES / "advocacy_report" / "report-2026-03-06.csv") == "advocacy_report"
    # the shares export's columns plus metrics: a report, and only a report
    lines = shares.read_text().splitlines()
    metrics = ["Likes,Comments", "5,1", "3,0"]
    report = write(tmp_path / "x.csv", "\n".join(f"{line},{m}" for line, m in zip(lines, metrics, strict=True)))
    assert detect_format(report) == "advocacy_report"
    # a report naming its reach twice is not guessed at
    row = f"emp-ana,Ana,LinkedIn,{POST},2026-03-01,https://a.example/?rlt=t,c-1,1,2,3,1350,1350"
    ambiguous = write(tmp_path / "y.csv", f"{REPORT_HEADER},Reach,Potential Reach\n{row}\n")
    assert detect_format(ambiguous) is None  # neither a report nor, dropping its metrics, a shares export
    assert detect_format(write(tmp_path / "z.csv", f"{REPORT_HEADER},Reach\n{row[:-5]}\n")) == "advocacy_report"


def test_report_samples_land_beside_the_shares_export(settings, pii_key) -> None:
    land(settings, SAMPLES / "advocacy_shares", pii_key)
    results = land(settings, SAMPLES / "advocacy_report", pii_key)
    share = next(r for r in results if r.event_type == "share")
    # the report describes the same shares as the export, column for column: exact duplicates
    assert (share.rows_landed, share.rows_duplicate) == (0, 3)
    assert "1 rows without impressions or reshares" in share.message
    assert query(settings.warehouse, "select count(*), sum(potential_reach) from raw.share_metrics") == [(2, 2700)]


# --- end to end through dbt -----------------------------------------------------------------


@pytest.mark.slow
def test_roster_and_network_sizes_meet_in_the_marts(settings, pii_key, tmp_path) -> None:
    """A roster gives the department and the URN, a Connections-style snapshot the network
    size: dim_employees has both, and engagements by the URN are colleague engagements."""
    roster = write(
        tmp_path / "hr" / "roster-2026-03-01.csv",
        """
        Employee #,First Name,Work Email,Department,Job Title,Hire Date,LinkedIn,LinkedIn URN
        emp-ana,Ana,ana.silva@acme.example,Marketing,Content Lead,2021-04-01,https://www.linkedin.com/in/ana-silva/,urn:li:person:aaa111
        emp-ben,Ben,ben.okafor@acme.example,Sales,Account Executive,2022-09-15,https://www.linkedin.com/in/ben-okafor/,
        """,
    )
    assert main(["land", "--format", "hr_roster", str(roster)]) == 0
    contract = tmp_path / "contract"
    write_csv(contract, "employee", [  # as a Connections.csv export gives it: size, no member id
        dict(employee_id="emp-ana", observed_at="2026-03-02T00:00:00Z", network="linkedin", network_size=1350),
    ])
    write_csv(contract, "share", [
        dict(share_id="urn:li:activity:1", author_type="employee", author_id="emp-ben", network="linkedin",
             posted_at="2026-03-03T09:00:00Z", tracking_token="tk-ben-1"),
    ])
    write_csv(contract, "engagement", [
        dict(engagement_id=f"g{i}", share_id="urn:li:activity:1", actor_id=actor, engagement_type="reaction",
             occurred_at="2026-03-03T10:00:00Z")
        for i, actor in enumerate(("urn:li:person:aaa111", "urn:li:person:zzz999", "urn:li:person:yyy888"))
    ])
    assert main(["land", str(contract)]) == 0
    dbt_build(settings.home, "+dim_employees +mart_engagement_bubble +dim_contents")
    assert query(
        settings.warehouse,
        "select employee_id, department, title, linkedin_network_size, has_member_id, hired_at::date::varchar"
        " from marts.dim_employees order by employee_id",
    ) == [
        ("emp-ana", "Marketing", "Content Lead", 1350, True, "2021-04-01"),
        ("emp-ben", "Sales", "Account Executive", None, True, "2022-09-15"),
    ]
    assert query(
        settings.warehouse,
        "select share_id, engagements, colleague_engagements from marts.mart_engagement_bubble",
    ) == [("urn:li:activity:1", 3, 1)]
