"""Erasure end to end (issue #20 part 3): a person planted across form fills, CRM deals,
engagements, audiences, clicks and quarantine, built and published twice, then erased with
``reachloop erase``: no trace of them in any table, version or file of the home; the ledger
reconciles; a re-delivery lands none of their rows; an as-of build after the erasure has none;
the marts equal those of a home that never had them."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from builds.erasure import remove_old_publications
from eventlog.contract import EVENT_TYPES
from eventlog.settings import Settings
from ingestion.erasure import EMAIL, MEMBER_ID, identifier_texts, request_pseudonyms
from ingestion.pseudonymize import pseudonym
from reachloop.cli import main
from tests.helpers import TEST_PII_KEY, clear_text_places, environ, query

pytestmark = pytest.mark.slow

KEY = TEST_PII_KEY.encode()
EMAIL_AS_TYPED = " Erin.Erased@Example.ORG "
CLEAR = ["erin.erased@example.org", "urn:li:person:ErinX1", "v-erin"]
PSEUDONYMS = [pseudonym("erin.erased@example.org", KEY), pseudonym("urn:li:person:ErinX1", KEY)]


def _write(folder: Path, name: str, rows: list[dict], newline: str = "\n") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator=newline)
        writer.writeheader()
        writer.writerows(rows)


def plant_person(folder: Path, home: Path, newline: str = "\n") -> Path:
    """Erin's rows, on a busy share and a sharer's audience of the workload: form fills (one
    quarantined: no UTC offset; one with her email in an unknown column), a click of her
    visitor, a deal whose contact she is, a reaction and an audience membership by member URN."""
    share, token, employee = query(
        home / "warehouse.duckdb",
        "select s.share_id, s.tracking_token, s.author_id from raw.share s join raw.engagement e"
        " using (share_id) where s.author_type = 'employee' group by all order by count(*) desc,"
        " s.share_id limit 1",
    )[0]
    _write(folder, "form_fill-erin", [
        {"submission_id": "s-erin-1", "visitor_id": "v-erin", "email": EMAIL_AS_TYPED,
         "form_id": "demo-request", "occurred_at": "2025-11-03T10:00:00Z", "note": "call erin.erased@example.org"},
        {"submission_id": "s-erin-2", "visitor_id": "v-erin", "email": "erin.erased@example.org",
         "form_id": "newsletter", "occurred_at": "2025-11-04T10:00:00Z", "note": ""},
        {"submission_id": "s-erin-3", "visitor_id": "v-erin", "email": "erin.erased@example.org",
         "form_id": "webinar", "occurred_at": "2025-11-05 10:00", "note": ""},
    ], newline)
    _write(folder, "click-erin", [
        {"click_id": "c-erin-1", "tracking_token": token, "visitor_id": "v-erin",
         "occurred_at": "2025-11-02T09:00:00Z", "user_agent": "Mozilla/5.0 (Macintosh) Safari/605.1.15"},
    ], newline)
    _write(folder, "deal-erin", [
        {"deal_event_id": "de-erin-1", "deal_id": "d-erin", "event": "created",
         "occurred_at": "2025-11-10T00:00:00Z", "amount": "5000.00", "currency": "USD",
         "stage": "qualified", "contact_email": "ERIN.ERASED@example.org"},
    ], newline)
    _write(folder, "engagement-erin", [
        {"engagement_id": "e-erin-1", "share_id": share, "actor_id": "urn:li:person:ErinX1",
         "engagement_type": "reaction", "occurred_at": "2025-11-01T12:00:00Z"},
    ], newline)
    _write(folder, "audience-erin", [
        {"employee_id": employee, "member_id": "urn:li:person:ErinX1", "observed_at": "2025-11-01T00:00:00Z"},
    ], newline)
    return folder


def test_identifiers_find_the_same_person():
    """An email in any case and spacing, a member id bare, as URN or as profile URL: the
    pseudonyms landing gives them."""
    assert request_pseudonyms(EMAIL, EMAIL_AS_TYPED, KEY) == [pseudonym("erin.erased@example.org", KEY)]
    urn = pseudonym("urn:li:person:ErinX1", KEY)
    assert urn in request_pseudonyms(MEMBER_ID, "ErinX1", KEY)
    assert urn in request_pseudonyms(MEMBER_ID, " urn:li:person:ErinX1 ", KEY)
    assert pseudonym("ErinX1", KEY) in request_pseudonyms(MEMBER_ID, "urn:li:person:ErinX1", KEY)
    # a profile URL: the canonical text the adapters and the scan pseudonymize
    assert "linkedin.com/in/erin-é" in identifier_texts(
        MEMBER_ID, "https://de.linkedin.com/in/Erin-%C3%A9/?trk=x"
    )
    with pytest.raises(Exception, match="not a pseudonym"):
        request_pseudonyms("pseudonym", "xyz", None)


@pytest.fixture(scope="module")
def erased(published: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the published SF0.05 home (one version, without Erin) with Erin landed and
    published (a second version), then erased. Returns what the tests read: the home, Erin's
    landing folder, the erase command's report and what the scan found before."""
    root = tmp_path_factory.mktemp("erasure")
    home = root / "home"
    shutil.copytree(published.home, home, symlinks=True)
    person = plant_person(root / "erin", home)
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=TEST_PII_KEY):
        assert main(["land", str(person)]) == 0
        assert main(["build"]) == 0
        before = {
            "versions": sorted(p.name for p in (home / "published" / "versions").iterdir()),
            "places": clear_text_places(home, PSEUDONYMS),
        }
        assert main(["erase", "--member-id", "ErinX1", "--email", EMAIL_AS_TYPED, "--dry-run"]) == 0
        assert query(home / "warehouse.duckdb", "select count(*) from meta.erasure_requests") == [(0,)]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(["erase", "--email", EMAIL_AS_TYPED, "--member-id", "ErinX1", "--reason", "ticket 42",
                         "--json"])
        assert code == 0
    return {"home": home, "person": person, "report": json.loads(buffer.getvalue()), "before": before,
            "root": root}


def test_the_person_was_everywhere_before(erased: dict):
    """The scan sees Erin before the erasure: in the log, the marts and the published versions."""
    places = erased["before"]["places"]
    assert places, "the planted person should be found before the erasure"
    found = " ".join(p for ps in places.values() for p in ps)
    assert "warehouse.duckdb:raw.form_fill" in found and "warehouse.duckdb:meta.quarantine" in found
    assert "published/versions/" in found
    assert len(erased["before"]["versions"]) >= 2


def test_erase_reports_what_it_removed(erased: dict):
    report = erased["report"]
    tables = report["tables"]
    # form fills 2 + click 1 + deal 1 + engagement 1 + audience 1, and the quarantined fill
    assert {t: tables.get(t) for t in ("raw.form_fill", "raw.click", "raw.deal", "raw.engagement",
                                         "raw.audience", "meta.quarantine")} == {
        "raw.form_fill": 2, "raw.click": 1, "raw.deal": 1, "raw.engagement": 1, "raw.audience": 1,
        "meta.quarantine": 1,
    }
    assert report["rows_erased"] == 7 and report["visitors"] == 1 and report["batches"] == 5
    assert sorted(report["pseudonyms"].values()).count("email") == 1
    assert report["published_version"]
    assert report["removed_publications"], "the versions published with the person must go"


def test_no_trace_in_any_table_version_or_file(erased: dict):
    home: Path = erased["home"]
    assert clear_text_places(home, [*PSEUDONYMS, *CLEAR]) == {}
    # byte by byte too: every file under the home, the warehouse and the publications included
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes().lower()
            assert not [p for p in PSEUDONYMS if p.encode() in data], path
    versions = sorted(p.name for p in (home / "published" / "versions").iterdir())
    assert len(versions) == 1 and versions[0] not in erased["before"]["versions"]
    # the request keeps the pseudonyms only (as numbers), with the reason
    rows = query(home / "warehouse.duckdb",
                 "select printf('%032x', pseudonym), kind, reason, rows_erased from meta.erasure_requests")
    assert {r[0] for r in rows} >= set(PSEUDONYMS)
    assert {r[1] for r in rows} == {"email", "member_id", "visitor"}
    assert {(r[2], r[3]) for r in rows} == {("ticket 42", 7)}


def test_ledger_reconciles(erased: dict):
    warehouse = erased["home"] / "warehouse.duckdb"
    counts = " union all ".join(
        f"select batch_id, count(*) as n from raw.{name} group by all" for name in EVENT_TYPES
    )
    assert query(
        warehouse,
        f"""select b.batch_id from meta.batches b left join ({counts}) c using (batch_id)
            where b.rows_read <> b.rows_landed + b.rows_duplicate + b.rows_quarantined + b.rows_erased
               or b.rows_landed <> coalesce(c.n, 0)""",
    ) == []
    assert query(warehouse, "select sum(rows_erased) from meta.batches") == [(7,)]
    status = json.loads((erased["home"] / "status.json").read_text())
    assert status["event_types"]["form_fill"]["erased"] == 3


def test_a_redelivery_lands_none_of_their_rows(erased: dict, tmp_path: Path):
    """The same files again are already landed; the same records in other bytes (CRLF lines)
    are dropped at landing and counted."""
    home = erased["home"]
    work = tmp_path / "home"
    shutil.copytree(home, work, symlinks=True)
    again = plant_person(tmp_path / "again", work, newline="\r\n")
    with environ(REACHLOOP_HOME=str(work), REACHLOOP_PII_KEY=TEST_PII_KEY):
        assert main(["land", str(erased["person"])]) == 0
        assert main(["land", str(again)]) == 0
    rows = query(work / "warehouse.duckdb",
                 "select sum(rows_read), sum(rows_landed), sum(rows_quarantined), sum(rows_erased)"
                 " from meta.batches where file_path like '%again%'")
    assert rows == [(7, 0, 0, 7)]
    assert clear_text_places(work / "warehouse.duckdb", PSEUDONYMS) == {}


def test_as_of_build_after_erasure_has_none(erased: dict):
    home = erased["home"]
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=TEST_PII_KEY):
        assert main(["build", "--as-of", "2100-01-01T00:00:00Z"]) == 0
    assert list((home / "as_of").iterdir())
    assert clear_text_places(home / "as_of", PSEUDONYMS) == {}
    assert clear_text_places(home / "warehouse.duckdb", PSEUDONYMS) == {}


# What legitimately differs from a home that never had the person: the log position and
# landing moment a build saw (the erased home landed more batches), and the moment open deals
# convert at (the newest landing a build sees).
BOOKKEEPING = {"log_position_through", "ingested_through", "fx_at"}


def test_other_peoples_marts_unchanged(erased: dict, published: Settings):
    """The marts equal those of the home that never had Erin, row for row (EXCEPT ALL both
    ways), but for the build's own bookkeeping columns."""
    differ = []
    with duckdb.connect() as con:
        con.execute(f"attach '{erased['home'] / 'published' / 'reachloop.duckdb'}' as erased (read_only)")
        con.execute(f"attach '{published.published_duckdb}' as never (read_only)")
        marts = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'never' and schema_name = 'main'"
            " and table_name <> '_publication'").fetchall()]
        for mart in marts:
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'never'"
                " and schema_name = 'main' and table_name = ? order by column_index", [mart]).fetchall()]
            kept = ", ".join(f'"{c}"' for c in columns if c not in BOOKKEEPING)
            a, b = (f"select {kept} from {db}.main.{mart}" for db in ("erased", "never"))
            n = con.execute(
                f"select (select count(*) from ({a} except all {b})) + (select count(*) from ({b} except all {a}))"
            ).fetchone()[0]
            if n:
                differ.append(mart)
    assert len(marts) > 15
    assert differ == []


def test_old_publications_go(tmp_path: Path):
    """Every published version but the current one, and every as-of publication."""
    settings = Settings(tmp_path)
    versions = tmp_path / "published" / "versions"
    for name in ("v1", "v2", "v3"):
        (versions / name / "parquet").mkdir(parents=True)
    (tmp_path / "published" / "current").symlink_to("versions/v3")
    (tmp_path / "as_of" / "2025-06-01" / "versions").mkdir(parents=True)
    removed = remove_old_publications(settings)
    assert removed == ["published/versions/v1", "published/versions/v2", "as_of/2025-06-01"]
    assert sorted(p.name for p in versions.iterdir()) == ["v3"] and not list((tmp_path / "as_of").iterdir())


def test_erasures_survive_a_key_rotation(tmp_path: Path):
    """Re-keying re-lands the retained deliveries into a new home: the old home's requests
    carried over, landing recognizes the person under the retired key and records their new
    pseudonym, and --reapply erases what free text let through before that."""
    deliveries = tmp_path / "deliveries"
    _write(deliveries, "click-1", [  # names Erin in free text only, and lands first
        {"click_id": "c-1", "tracking_token": "rl-x", "visitor_id": "v-other",
         "occurred_at": "2025-11-02T09:00:00Z", "user_agent": "Mozilla/5.0 (erin.erased@example.org)"},
        {"click_id": "c-2", "tracking_token": "rl-x", "visitor_id": "v-erin",  # her visitor's
         "occurred_at": "2025-11-02T09:30:00Z", "user_agent": "Mozilla/5.0"},
    ])
    _write(deliveries, "form_fill-1", [
        {"submission_id": "s-1", "visitor_id": "v-erin", "email": EMAIL_AS_TYPED,
         "form_id": "demo", "occurred_at": "2025-11-03T10:00:00Z"},
        {"submission_id": "s-2", "visitor_id": "v-bob", "email": "bob@example.org",
         "form_id": "demo", "occurred_at": "2025-11-03T11:00:00Z"},
    ])
    old, new = tmp_path / "old", tmp_path / "new"
    with environ(REACHLOOP_HOME=str(old), REACHLOOP_PII_KEY="old-key"):
        assert main(["land", str(deliveries)]) == 0
        assert main(["erase", "--email", "erin.erased@example.org"]) == 0
    assert query(old / "warehouse.duckdb", "select count(*) from raw.form_fill union all "
                 "select count(*) from raw.click") == [(1,), (0,)]
    erin_new = pseudonym("erin.erased@example.org", b"new-key")
    with environ(REACHLOOP_HOME=str(new), REACHLOOP_PII_KEY="new-key", REACHLOOP_PII_KEY_PREVIOUS="old-key"):
        assert main(["erase", "--carry-over", str(old)]) == 0
        assert main(["land", str(deliveries)]) == 0
        warehouse = new / "warehouse.duckdb"
        # the form fill and her visitor's click were recognized under the retired key, dropped
        # and counted …
        assert query(warehouse, "select email from raw.form_fill") == [(pseudonym("bob@example.org", b"new-key"),)]
        assert query(warehouse, "select sum(rows_erased) from meta.batches") == [(2,)]
        assert (erin_new, "email") in query(
            warehouse, "select printf('%032x', pseudonym), kind from meta.erasure_requests")
        # … the click that only mentioned her landed before that, and goes now
        assert query(warehouse, "select click_id from raw.click") == [("c-1",)]
        assert main(["erase", "--reapply"]) == 0
    assert query(new / "warehouse.duckdb", "select count(*) from raw.click") == [(0,)]
    assert clear_text_places(new, [erin_new]) == {}


def test_clear_text_from_before_the_pattern_scan_is_erased_too(tmp_path: Path):
    """A warehouse landed before PII was scanned by pattern may hold an email in clear (in
    extra): erasing by email finds it as typed, in any case, besides its pseudonym."""
    deliveries = tmp_path / "in"
    _write(deliveries, "click-1", [
        {"click_id": f"c-{i}", "tracking_token": "rl-x", "visitor_id": f"v-{i}",
         "occurred_at": "2025-11-02T09:00:00Z"} for i in range(3)
    ])
    home = tmp_path / "home"
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=TEST_PII_KEY):
        assert main(["land", str(deliveries)]) == 0
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # as an old landing left it
            con.execute("""update raw.click set extra = '{"contact": "ERIN.Erased@Example.org"}'
                           where click_id = 'c-1'""")
        assert main(["erase", "--email", EMAIL_AS_TYPED]) == 0
    assert query(home / "warehouse.duckdb", "select click_id from raw.click order by 1") == [("c-0",), ("c-2",)]
    assert query(home / "warehouse.duckdb", "select rows_landed, rows_erased from meta.batches") == [(2, 1)]
    assert clear_text_places(home, ["erin.erased@example.org"]) == {}
