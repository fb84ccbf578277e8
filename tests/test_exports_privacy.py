"""No clear-text PII anywhere a home keeps things, after every vendor sample has landed and built.

Every sample export (ingestion/adapters/samples/) and a member's Connections.csv land in one
home, which is built, published and reported on. Then every value of the samples that names a
person — emails, LinkedIn profile URLs and person URNs, names, phone numbers — is looked for in
clear in every table of every DuckDB file, every Parquet file and every other file under the
home (dbt's target and logs, GX data docs, the report). The values are read from the sample
files themselves, so a new sample brings its own.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from reachloop.cli import main
from tests.helpers import REPO, TEST_PII_KEY, clear_text_places, environ, write_planted_pii

pytestmark = pytest.mark.slow

SAMPLES = REPO / "ingestion" / "adapters" / "samples"
# How each sample folder lands (scripts/demo_exports.sh lands them alike).
SPECS = {
    "linkedin": "linkedin",
    "advocacy_shares": "advocacy_shares",
    "advocacy_report": "advocacy_report",
    "web_clicks": "web_clicks",
    "hubspot": "hubspot:tz=America/New_York",
    "salesforce": "salesforce",
    "hr_roster": "hr_roster",
    "post_analytics": "post_analytics",
    "ga4": "ga4",
    "segment": "segment",
}

CONNECTIONS = """Notes:
"When exporting your connection data, you may notice that some of the email addresses are missing."

First Name,Last Name,URL,Email Address,Company,Position,Connected On
Grace,Hopperton,https://www.linkedin.com/in/grace-hopperton-42/,grace.hopperton@navy.example,Navy,"Rear Admiral, Compilers",15 Jan 2025
Linus,Thorvaldsen,https://www.linkedin.com/in/linus-thorvaldsen,,Kernel Inc,"Maintainer
of everything",02 Feb 2026
Ada,Lovelock,https://uk.linkedin.com/in/ada-lovelock?trk=p,,Engines Ltd,Analyst,28 Feb 2026
"""

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PROFILE = re.compile(r"linkedin\.com/in/([A-Za-z0-9%_-]+)")
PERSON_URN = re.compile(r"urn:li:(?:person|member):[A-Za-z0-9_-]+")
# Person-shaped values planted in contract files of every format, in unknown columns, nested
# keys, headers, free text, URL query strings, broken JSON lines and file names
# (tests/helpers.write_planted_pii): found by pattern, they must be nowhere after a build either.
PLANTED = ["Planted.Person@Example.org", "https://www.linkedin.com/in/planted-person-7",
           "urn:li:person:PlantedAbc123", "+44 20 7946 0958"]
NAME_COLUMNS = {"first name", "last name", "firstname", "lastname", "name", "full name",
                "employee name", "contact name"}
PHONE_COLUMNS = {"phone", "mobile phone", "work phone", "mobilephone"}


def _texts(folder: Path) -> list[str]:
    """Every sample file's text (a workbook's cells, joined)."""
    texts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            texts.append(" ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True)
                                  for c in row if c is not None))
        else:
            texts.append(path.read_text(encoding="utf-8-sig"))
    return texts


def _column_values(text: str, columns: set[str]) -> list[str]:
    rows = list(csv.reader(text.splitlines()))
    for i, row in enumerate(rows[:10]):  # a preamble may come first
        header = [c.strip().lower() for c in row]
        if set(header) & columns:
            wanted = [j for j, c in enumerate(header) if c in columns]
            return [r[j].strip() for r in rows[i + 1:] for j in wanted if j < len(r) and r[j].strip()]
    return []


def pii_values(texts: list[str]) -> set[str]:
    """What in the samples names a person: emails, profile URLs (by their vanity name), person
    URNs, full names and longer last names, phone numbers."""
    values: set[str] = set()
    for text in texts:
        values |= set(EMAIL.findall(text)) | set(PERSON_URN.findall(text))
        values |= {f"linkedin.com/in/{slug}" for slug in PROFILE.findall(text)}
        values |= {slug for slug in PROFILE.findall(text) if len(slug) >= 6}
        names = _column_values(text, NAME_COLUMNS)
        values |= {n for n in names if len(n) >= 5}  # "Ana" is in "analytics": too short to look for
        values |= set(_column_values(text, PHONE_COLUMNS))
    return values


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("privacy")
    connections = root / "linkedin_connections" / "emp-ana" / "Basic_LinkedInDataExport_03-02-2026"
    connections.mkdir(parents=True)
    (connections / "Connections.csv").write_text(CONNECTIONS)
    with environ(REACHLOOP_HOME=str(root / "home"), REACHLOOP_PII_KEY=TEST_PII_KEY):
        for folder, spec in SPECS.items():
            assert main(["land", "--format", spec, str(SAMPLES / folder)]) == 0, folder
        assert main(["land", "--format", "linkedin_connections", str(root / "linkedin_connections")]) == 0
        for fmt in ("csv", "jsonl", "parquet"):
            write_planted_pii(root / "planted", PLANTED, fmt, tag=fmt)
        assert main(["land", str(root / "planted")]) == 0
        assert main(["build"]) == 0
        assert main(["report"]) == 0
    return root / "home"


def test_the_samples_name_people_to_look_for() -> None:
    """The scan below is only as good as its list: it must hold each kind of value."""
    values = pii_values([*_texts(SAMPLES), CONNECTIONS])
    for expected in ("jane.doe@globex.example", "urn:li:person:aaa111", "linkedin.com/in/ana-silva-acme",
                     "grace.hopperton@navy.example", "linkedin.com/in/grace-hopperton-42", "Okafor",
                     "+49 151 00000001", "Hopperton"):
        assert expected in values, expected


def test_no_person_is_named_in_clear_anywhere_in_the_home(home: Path) -> None:
    values = pii_values([*_texts(SAMPLES), CONNECTIONS])
    assert clear_text_places(home, values) == {}


def test_no_planted_value_is_anywhere_after_landing_building_and_publishing(home: Path) -> None:
    assert (home / "published" / "current").exists()
    assert clear_text_places(home, [*PLANTED, "planted-person-7", "PlantedAbc123", "79460958"]) == {}


def test_the_scan_finds_what_is_there(home: Path, tmp_path: Path) -> None:
    """The scan is not blind: a value planted in a copy of the published file, in a Parquet
    file and in a text file is found in each."""
    import shutil

    import duckdb

    copy = tmp_path / "home"
    shutil.copytree(home / "published" / "current", copy / "published", symlinks=False)
    with duckdb.connect(str(copy / "published" / "reachloop.duckdb")) as con:
        con.execute("create table planted as select 'Reach me: Jane.Doe@Globex.example' as note")
        con.execute(f"copy (select 'urn:li:person:aaa111' as actor) to '{copy / 'planted.parquet'}'")
    (copy / "dbt.log").write_text("… linkedin.com/in/ana-silva-acme …")
    found = clear_text_places(copy, {"jane.doe@globex.example", "urn:li:person:aaa111",
                                     "linkedin.com/in/ana-silva-acme"})
    assert found == {
        "jane.doe@globex.example": ["published/reachloop.duckdb:main.planted"],
        "urn:li:person:aaa111": ["planted.parquet"],
        "linkedin.com/in/ana-silva-acme": ["dbt.log"],
    }
