"""Landing into the event log: contract checks, quarantine, idempotency, reconciliation, PII."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion import landing
from ingestion.landing import event_type_for, land_path
from ingestion.pseudonymize import pseudonym
from reachloop.cli import main
from tests.helpers import query

SHARE_HEADER = "share_id,author_type,author_id,network,posted_at,tracking_token,content_id,platform_urn\n"
GOOD_SHARE = "s1,employee,e1,linkedin,2026-03-01T10:00:00Z,tok1,c1,urn:x:1\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def land(settings: Settings, path: Path, key: bytes) -> list[landing.FileResult]:
    with warehouse(settings) as con:
        return land_path(con, path, key)


def quarantine(settings: Settings) -> list[tuple]:
    return query(
        settings.warehouse,
        "select event_type, source_line, reason, detail, raw from meta.quarantine order by event_type, source_line",
    )


def test_event_type_comes_from_file_name_or_folder(tmp_path: Path) -> None:
    assert event_type_for(tmp_path / "click.csv", tmp_path) == "click"
    assert event_type_for(tmp_path / "share_metrics-2026-03-01.jsonl", tmp_path) == "share_metrics"
    assert event_type_for(tmp_path / "deal" / "part-7.parquet", tmp_path) == "deal"
    assert event_type_for(tmp_path / "form_fill.2026.csv", tmp_path) == "form_fill"


def test_each_csv_violation_is_quarantined_while_neighbours_land(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "in" / "share.csv",
        SHARE_HEADER
        + GOOD_SHARE
        + "s2,robot,e1,linkedin,2026-03-01T10:00:00Z,tok2,c1,u\n"  # line 3: enum
        + "s3,employee,e1,linkedin,yesterday,tok3,c1,u\n"  # line 4: timestamp
        + "s4,employee,e1,linkedin\n"  # line 5: structure
        + ",employee,e1,linkedin,2026-03-01T10:00:00Z,tok5,c1,u\n"  # line 6: missing id
        + "s6,page,page:acme,LinkedIn,2026-03-01T12:00:00+02:00,tok6,,u\n"  # line 7: good
        + "s7,employee,e1,linkedin,1970-01-01T00:00:00Z,tok7,c1,u\n",  # line 8: implausible time
    )
    [result] = land(settings, path, pii_key)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (7, 2, 5)
    reasons = [(line, reason) for _, line, reason, _, _ in quarantine(settings)]
    assert reasons == [
        (3, "invalid_enum"),
        (4, "invalid_timestamp"),
        (5, "malformed_record"),
        (6, "missing_field"),
        (8, "invalid_timestamp"),
    ]
    landed = query(settings.warehouse, "select share_id, network, posted_at, source_line from raw.share order by 1")
    # enum values are normalized; an offset timestamp is stored as the same instant in UTC
    assert [(r[0], r[1], r[2].isoformat(), r[3]) for r in landed] == [
        ("s1", "linkedin", "2026-03-01T10:00:00+00:00", 2),
        ("s6", "linkedin", "2026-03-01T10:00:00+00:00", 7),
    ]


def test_numbers_money_and_json_violations(settings, pii_key, tmp_path) -> None:
    write(
        tmp_path / "in" / "share_metrics.jsonl",
        """
        {"share_id": "s1", "observed_at": "2026-03-02T00:00:00Z", "impressions": 100, "reactions": 3, "comments": 1, "reshares": 0, "clicks": 4}
        {"share_id": "s1", "observed_at": "2026-03-03T00:00:00Z", "impressions": "lots", "reactions": 3, "comments": 1, "reshares": 0, "clicks": 4}
        {"share_id": "s1", "observed_at": "2026-03-04T00:00:00Z", "impressions": 120
        ["not", "an", "object"]

        {"share_id": "s1", "observed_at": "2026-03-05T00:00:00Z", "impressions": 130, "reactions": 3, "comments": 1, "reshares": 0, "clicks": 5, "unique_impressions": 90, "source": "api"}
        """,
    )
    write(
        tmp_path / "in" / "deal.csv",
        """
        deal_event_id,deal_id,event,occurred_at,amount,currency
        x1,d1,created,2026-03-01T00:00:00Z,1000.50,usd
        x2,d1,amount_changed,2026-03-02T00:00:00Z,"1,200",usd
        """,
    )
    results = land(settings, tmp_path / "in", pii_key)
    assert {r.event_type: (r.rows_read, r.rows_landed, r.rows_quarantined) for r in results} == {
        "deal": (2, 1, 1),
        "share_metrics": (5, 2, 3),  # the blank line is no record
    }
    q = [(et, line, reason, detail) for et, line, reason, detail, _ in quarantine(settings)]
    assert q == [
        ("deal", 3, "invalid_number", "amount = 1,200"),
        ("share_metrics", 2, "invalid_number", "impressions = lots"),
        ("share_metrics", 3, "malformed_record", "not a JSON object"),
        ("share_metrics", 4, "malformed_record", "not a JSON object"),
    ]
    [(currency, amount)] = query(settings.warehouse, "select currency, amount from raw.deal")
    assert (currency, str(amount)) == ("USD", "1000.50")
    # unknown fields are kept, not dropped
    extras = query(settings.warehouse, "select extra from raw.share_metrics where extra is not null")
    assert [json.loads(e) for (e,) in extras] == [{"source": "api"}]


def test_parquet_rows_are_checked_like_any_other(settings, pii_key, tmp_path) -> None:
    path = tmp_path / "in" / "engagement" / "part-1.parquet"
    path.parent.mkdir(parents=True)
    table = pa.table(
        {
            "engagement_id": ["g1", "g2", "g3"],
            "share_id": ["s1", "s1", None],
            "actor_id": ["urn:li:person:abc", "urn:li:person:def", "urn:li:person:ghi"],
            "engagement_type": ["reaction", "like", "comment"],
            "occurred_at": pa.array(["2026-03-01T10:00:00Z"] * 3),
            "client": ["web", "ios", "web"],
        }
    )
    pq.write_table(table, path)
    [result] = land(settings, tmp_path / "in", pii_key)
    assert (result.event_type, result.rows_landed, result.rows_quarantined) == ("engagement", 1, 2)
    q = quarantine(settings)
    assert [(line, reason) for _, line, reason, _, _ in q] == [(2, "invalid_enum"), (3, "missing_field")]
    # quarantined raw text carries the pseudonym, never the member id
    assert all("urn:li:person" not in raw for *_, raw in q)
    [(actor, extra)] = query(settings.warehouse, "select actor_id, extra from raw.engagement")
    assert actor == pseudonym("urn:li:person:abc", pii_key)
    assert json.loads(extra) == {"client": "web"}


def test_typed_parquet_columns_land_as_their_text_would(settings, pii_key, tmp_path) -> None:
    """Timestamps, integers and money a Parquet file already types skip the text round trip:
    the log, the quarantine (reason, detail, raw) and the ledger must be what the same values
    written as text give."""
    from datetime import UTC, datetime
    from decimal import Decimal

    when = [datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC), datetime(1999, 12, 31, tzinfo=UTC), None]
    sizes = [500, 700, 900]
    amounts = [Decimal("1000.50"), None, Decimal("-3.25")]
    typed = {
        "employee": pa.table({
            "employee_id": ["e1", "e2", "e3"], "observed_at": pa.array(when, pa.timestamp("us", tz="UTC")),
            "network": ["linkedin"] * 3, "network_size": pa.array(sizes, pa.int64()),
            "email": ["A@x.com", "b@x.com", "c@x.com"],
        }),
        "deal": pa.table({
            "deal_event_id": ["d1", "d2", "d3"], "deal_id": ["D"] * 3, "event": ["created"] * 3,
            "occurred_at": pa.array([when[0]] * 3, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(amounts, pa.decimal128(18, 2)), "currency": ["usd"] * 3,
        }),
    }

    def as_text(table: pa.Table) -> pa.Table:
        # each value as DuckDB writes it as text: what the reader made of it before
        con = duckdb.connect()
        con.execute("set timezone = 'UTC'")
        con.register("t", table)
        cast = ", ".join(f"cast({c} as varchar) as {c}" for c in table.column_names)
        rows = con.execute(f"select {cast} from t").fetchall()
        return pa.table({c: [r[i] for r in rows] for i, c in enumerate(table.column_names)})

    outcomes = []
    for variant, convert in (("typed", lambda t: t), ("text", as_text)):
        home = Settings(home=tmp_path / variant)
        for name, table in typed.items():
            path = tmp_path / variant / "in" / f"{name}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(convert(table), path)
        results = land(home, tmp_path / variant / "in", pii_key)
        outcomes.append((
            [(r.event_type, r.rows_landed, r.rows_quarantined) for r in results],
            query(home.warehouse, "select * exclude (batch_id, ingested_at, content_hash) from raw.employee"),
            query(home.warehouse, "select * exclude (batch_id, ingested_at, content_hash) from raw.deal"),
            query(home.warehouse, "select event_type, source_line, reason, detail from meta.quarantine order by all"),
        ))
    typed_outcome, text_outcome = outcomes
    assert typed_outcome[0] == [("deal", 3, 0), ("employee", 1, 2)]
    assert [(line, reason) for _, line, reason, _ in typed_outcome[3]] == [
        (2, "invalid_timestamp"), (3, "missing_field")
    ]
    assert typed_outcome[3][0][3] == "observed_at = 1999-12-31 00:00:00+00"
    assert typed_outcome == text_outcome


def test_same_file_twice_is_a_no_op(settings, pii_key, tmp_path) -> None:
    path = write(tmp_path / "in" / "share.csv", SHARE_HEADER + GOOD_SHARE)
    [first] = land(settings, path, pii_key)
    before = query(settings.warehouse, "select count(*) from raw.share")
    [again] = land(settings, path, pii_key)
    assert first.status == "landed" and again.status == "skipped"
    assert again.batch_id == first.batch_id
    assert query(settings.warehouse, "select count(*) from raw.share") == before
    assert query(settings.warehouse, "select count(*) from meta.batches") == [(1,)]


def test_same_events_in_two_files_land_once(settings, pii_key, tmp_path) -> None:
    write(tmp_path / "a" / "share-1.csv", SHARE_HEADER + GOOD_SHARE + GOOD_SHARE)
    # the same event in another format, with the same instant written in another offset
    write(
        tmp_path / "b" / "share-2.jsonl",
        '{"share_id":"s1","author_type":"employee","author_id":"e1","network":"LinkedIn",'
        '"posted_at":"2026-03-01T12:00:00+02:00","tracking_token":"tok1","content_id":"c1",'
        '"platform_urn":"urn:x:1"}\n'
        '{"share_id":"s1","author_type":"employee","author_id":"e1","network":"linkedin",'
        '"posted_at":"2026-03-01T10:00:00Z","tracking_token":"tok1","content_id":"c9",'
        '"platform_urn":"urn:x:1"}\n',
    )
    [a] = land(settings, tmp_path / "a", pii_key)
    [b] = land(settings, tmp_path / "b", pii_key)
    assert (a.rows_landed, a.rows_duplicate) == (1, 1)
    # a changed content is a new version of the event, not a duplicate
    assert (b.rows_landed, b.rows_duplicate) == (1, 1)
    assert query(settings.warehouse, "select count(distinct event_key), count(*) from raw.share") == [(1, 2)]


def test_every_ledger_row_reconciles_and_status_reports_it(settings, pii_key, tmp_path, capsys) -> None:
    write(
        tmp_path / "in" / "share.csv",
        SHARE_HEADER + GOOD_SHARE + GOOD_SHARE + "s2,robot,e1,linkedin,2026-03-01T10:00:00Z,t,c,u\n",
    )
    write(tmp_path / "in" / "click.csv", "click_id,tracking_token,visitor_id,occurred_at\nk1,tok1,v1,2026-03-02T00:00:00Z\n")
    assert main(["land", str(tmp_path / "in")]) == 0
    rows = query(
        settings.warehouse,
        "select rows_read, rows_landed + rows_duplicate + rows_quarantined from meta.batches",
    )
    assert all(read == parts for read, parts in rows)
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["event_types"]["share"] == {
        "landed": 1, "duplicates": 1, "quarantined": 1, "erased": 0, "rows_read": 3, "batches": 1,
    }
    assert status["event_types"]["click"]["landed"] == 1
    assert status["quarantine_reasons"] == {"invalid_enum": 1}


def test_one_person_one_pseudonym_across_forms_crm_and_roster(settings, pii_key, tmp_path) -> None:
    write(
        tmp_path / "in" / "form_fill.csv",
        """
        submission_id,visitor_id,email,form_id,occurred_at
        f1,v1, Jane.Doe@Example.com ,demo,2026-03-01T10:00:00Z
        f2,v2,jane.doe@example.com,demo,2026-03-02T10:00:00Z
        """,
    )
    write(
        tmp_path / "in" / "deal.jsonl",
        '{"deal_event_id":"x1","deal_id":"d1","event":"created","occurred_at":"2026-03-03T00:00:00Z",'
        '"amount":"10","currency":"EUR","contact_email":"JANE.DOE@EXAMPLE.COM  "}\n',
    )
    write(
        tmp_path / "in" / "employee.csv",
        """
        employee_id,observed_at,network,network_size,member_id,email
        e1,2026-01-01T00:00:00Z,linkedin,150,urn:li:person:jd,jane.doe@example.COM
        """,
    )
    land(settings, tmp_path / "in", pii_key)
    emails = query(
        settings.warehouse,
        """
        select email from raw.form_fill union all select contact_email from raw.deal
        union all select email from raw.employee
        """,
    )
    assert {e for (e,) in emails} == {pseudonym("jane.doe@example.com", pii_key, email=True)}
    assert len(emails) == 4


def test_landing_refuses_to_run_without_a_key(settings, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("REACHLOOP_PII_KEY")
    write(tmp_path / "in" / "share.csv", SHARE_HEADER + GOOD_SHARE)
    assert main(["land", str(tmp_path / "in")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("reachloop land: REACHLOOP_PII_KEY is not set") and "\n" not in err


def test_unknown_event_type_is_reported_and_fails(settings, tmp_path, capsys) -> None:
    write(tmp_path / "in" / "share.csv", SHARE_HEADER + GOOD_SHARE)
    write(tmp_path / "in" / "notes.csv", "a,b\n1,2\n")
    write(tmp_path / "in" / "_ground_truth" / "deals.csv", "a\n1\n")  # underscore: not data
    assert main(["land", str(tmp_path / "in")]) == 1
    captured = capsys.readouterr()
    assert "unknown event type 'notes'" in captured.err
    assert "_ground_truth" not in captured.out + captured.err
    assert query(settings.warehouse, "select count(*) from raw.share") == [(1,)]


def test_an_error_mid_file_leaves_nothing_half_landed(settings, pii_key, tmp_path, monkeypatch) -> None:
    path = write(
        tmp_path / "in" / "share.csv", SHARE_HEADER + GOOD_SHARE + "s2,robot,e1,linkedin,2026-03-01,t,c,u\n"
    )
    real_append = landing._append

    def append_then_fail(*args, **kwargs):
        real_append(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(landing, "_append", append_then_fail)
    with pytest.raises(RuntimeError):
        land(settings, path, pii_key)
    counts = query(
        settings.warehouse,
        "select (select count(*) from raw.share), (select count(*) from meta.quarantine),"
        " (select count(*) from meta.batches)",
    )
    assert counts == [(0, 0, 0)]
    monkeypatch.setattr(landing, "_append", real_append)
    [result] = land(settings, path, pii_key)  # and the file lands whole afterwards
    assert (result.rows_landed, result.rows_quarantined) == (1, 1)


def test_a_crashed_process_leaves_nothing_half_landed(settings, tmp_path) -> None:
    """The process dies (no rollback, no clean close) after the rows were inserted."""
    path = write(tmp_path / "in" / "share.csv", SHARE_HEADER + GOOD_SHARE)
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from ingestion import landing
        from eventlog.settings import Settings
        from eventlog.warehouse import warehouse

        real_append = landing._append
        def append_then_die(*args, **kwargs):
            real_append(*args, **kwargs)
            os._exit(9)
        landing._append = append_then_die
        with warehouse(Settings.from_env()) as con:
            landing.land_path(con, Path({str(path)!r}), b"k")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    counts = query(
        settings.warehouse,
        "select (select count(*) from raw.share), (select count(*) from meta.batches)",
    )
    assert counts == [(0, 0)]


def test_json_field_names_match_whatever_their_case_and_pii_never_leaks(settings, pii_key, tmp_path) -> None:
    write(
        tmp_path / "in" / "deal-2.jsonl",
        '{"Deal_Event_ID":"x1","deal_id":"d1","EVENT":"created","occurred_at":"2026-03-01T00:00:00Z",'
        '"Contact_Email":"Dave@X.com","Note":"keep me"}\n',
    )
    write(tmp_path / "in" / "form_fill.jsonl", '{"submission_id":"f1","Email":"dave@x.com","form_id":"f"}\n')
    land(settings, tmp_path / "in", pii_key)
    [(contact, extra)] = query(settings.warehouse, "select contact_email, extra from raw.deal")
    assert contact == pseudonym("dave@x.com", pii_key, email=True)
    assert json.loads(extra) == {"note": "keep me"}
    [(raw,)] = query(settings.warehouse, "select raw from meta.quarantine")  # no visitor_id: quarantined
    assert "dave@x.com" not in raw.lower()


def test_whitespace_of_any_kind_around_an_email_is_one_person(settings, pii_key, tmp_path) -> None:
    write(
        tmp_path / "in" / "form_fill.jsonl",
        '{"submission_id":"f1","visitor_id":"v1","email":"bob@x.com\\t","form_id":"f","occurred_at":"2026-03-01T00:00:00Z"}\n'
        '{"submission_id":"f2","visitor_id":"v2","email":"\\u00a0Bob@x.com\\n","form_id":"f","occurred_at":"2026-03-01T00:00:00Z"}\n',
    )
    land(settings, tmp_path / "in", pii_key)
    emails = {e for (e,) in query(settings.warehouse, "select email from raw.form_fill")}
    assert emails == {pseudonym("bob@x.com", pii_key, email=True)}
    assert pseudonym("\tbob@x.com\u00a0", pii_key, email=True) == pseudonym("bob@x.com", pii_key, email=True)


def _land_and_reject_followers(settings, pii_key, tmp_path) -> str:
    """Land a page_followers file with a negative count and reject its batch; the CSV header."""
    header = "page_id,observed_at,followers\n"
    write(tmp_path / "a" / "page_followers.csv", header + "p,2026-03-01T00:00:00Z,100\np,2026-03-02T00:00:00Z,-5\n")
    [bad] = land(settings, tmp_path / "a", pii_key)
    assert main(["batches", "reject", bad.batch_id, "--reason", "negative followers"]) == 0
    return header


def test_a_rejected_batch_does_not_swallow_its_corrected_redelivery(settings, pii_key, tmp_path) -> None:
    header = _land_and_reject_followers(settings, pii_key, tmp_path)
    write(tmp_path / "b" / "page_followers-fixed.csv", header + "p,2026-03-01T00:00:00Z,100\np,2026-03-02T00:00:00Z,105\n")
    [fixed] = land(settings, tmp_path / "b", pii_key)
    assert (fixed.rows_landed, fixed.rows_duplicate) == (2, 0)
    # duplicates of accepted batches are still duplicates
    write(tmp_path / "c" / "page_followers-again.csv", header + "p,2026-03-01T00:00:00Z,100\n")
    [again] = land(settings, tmp_path / "c", pii_key)
    assert (again.rows_landed, again.rows_duplicate) == (0, 1)


def test_a_log_with_text_content_hashes_is_migrated_and_still_deduplicates(settings, pii_key, tmp_path) -> None:
    [first] = land(settings, write(tmp_path / "a" / "share.csv", SHARE_HEADER + GOOD_SHARE), pii_key)
    # The layout of warehouses made before content_hash was an integer: MD5 as hex text.
    with warehouse(settings) as con:
        hashes = con.execute("select rowid, content_hash from raw.share").fetchall()
        con.execute("alter table raw.share alter content_hash set data type varchar using null")
        for rowid, number in hashes:
            old = int(number).to_bytes(16, "little").hex()  # md5() of the same text
            con.execute("update raw.share set content_hash = ? where rowid = ?", [old, rowid])
        # the conversion is the one md5_number() makes of md5()'s digest
        text = "s1\x1femployee\x1fe1"
        [(converted, number)] = con.execute(
            f"select {landing.md5_hex_to_number('md5(?)')}, md5_number(?)", [text, text]
        ).fetchall()
        assert converted == number
    other = GOOD_SHARE.replace("s1,", "s2,").replace("tok1", "tok2")
    [again] = land(settings, write(tmp_path / "b" / "share-2.csv", SHARE_HEADER + GOOD_SHARE + other), pii_key)
    assert (first.rows_landed, again.rows_landed, again.rows_duplicate) == (1, 1, 1)
    assert query(
        settings.warehouse,
        "select data_type from information_schema.columns where table_name = 'share' and column_name = 'content_hash'",
    ) == [("UHUGEINT",)]


def _mixed_share_folder(root: Path) -> Path:
    """Small share files in three formats: duplicates within and across files, a new version of
    an event in a later file, a broken record, and one file delivered twice under two names."""
    first = SHARE_HEADER + GOOD_SHARE + GOOD_SHARE + "s2,robot,e1,linkedin,2026-03-01T10:00:00Z,t2,c1,u\n"
    write(root / "share-1.csv", first)
    write(
        root / "share-2.jsonl",
        '{"share_id":"s1","author_type":"employee","author_id":"e1","network":"linkedin",'
        '"posted_at":"2026-03-01T10:00:00Z","tracking_token":"tok1","content_id":"c1","platform_urn":"urn:x:1"}\n'
        '{"share_id":"s1","author_type":"employee","author_id":"e1","network":"linkedin",'
        '"posted_at":"2026-03-01T10:00:00Z","tracking_token":"tok1","content_id":"c2","platform_urn":"urn:x:1"}\n'
        "not json\n",
    )
    pq.write_table(
        pa.table({"share_id": ["s3", "s1"], "author_type": ["page", "employee"], "author_id": ["p", "e1"],
                  "network": ["linkedin"] * 2, "posted_at": ["2026-03-02T00:00:00Z", "2026-03-01T10:00:00Z"],
                  "tracking_token": ["t3", "tok1"], "content_id": [None, "c2"], "platform_urn": ["u", "urn:x:1"]}),
        root / "share-3.parquet",
    )
    write(root / "share-4.csv", first)  # the same file again
    return root


def test_small_files_landing_together_land_as_one_after_another(settings, pii_key, tmp_path, monkeypatch) -> None:
    folder = _mixed_share_folder(tmp_path / "in")
    together = land(settings, folder, pii_key)
    assert [(r.status, r.rows_read, r.rows_landed, r.rows_duplicate, r.rows_quarantined) for r in together] == [
        ("landed", 3, 1, 1, 1),  # s1, s1 again, s2 (bad enum)
        ("landed", 3, 1, 1, 1),  # s1 (logged), s1 version 2, a broken line
        ("landed", 2, 1, 1, 0),  # s3, s1 version 2 (in the file before)
        ("skipped", 0, 0, 0, 0),
    ]
    assert together[3].batch_id == together[0].batch_id
    # The same as landing them one at a time (no file is small enough to share a transaction).
    monkeypatch.setattr(landing, "SMALL_FILE_BYTES", 0)
    one_by_one = Settings(home=tmp_path / "home-2")
    assert [r.as_dict() for r in land(one_by_one, folder, pii_key)] == [r.as_dict() for r in together]
    log = "select * exclude (ingested_at) from raw.share order by batch_id, source_line"
    assert query(settings.warehouse, log) == query(one_by_one.warehouse, log)
    ledger = "select * exclude (started_at, ingested_at, committed_at) from meta.batches order by ingested_at"
    assert query(settings.warehouse, ledger) == query(one_by_one.warehouse, ledger)
    q = "select * exclude (quarantined_at) from meta.quarantine order by batch_id, source_line"
    assert query(settings.warehouse, q) == query(one_by_one.warehouse, q)
    # Files keep their order in the log, and each row its batch's ingested_at: the later
    # version of s1 is the latest.
    [(latest,)] = query(
        settings.warehouse,
        "select content_id from raw.share where share_id = 's1'"
        " order by ingested_at desc, source_line desc limit 1",
    )
    assert latest == "c2"
    assert query(
        settings.warehouse,
        "select count(*) from raw.share r join meta.batches b using (batch_id) where r.ingested_at <> b.ingested_at",
    ) == [(0,)]


def test_a_broken_file_among_small_ones_fails_alone(settings, pii_key, tmp_path) -> None:
    write(tmp_path / "in" / "share-1.csv", SHARE_HEADER + GOOD_SHARE)
    (tmp_path / "in" / "share-2.parquet").write_text("not parquet at all")
    write(tmp_path / "in" / "share-3.csv", SHARE_HEADER + GOOD_SHARE.replace("s1,", "s3,"))
    results = land(settings, tmp_path / "in", pii_key)
    assert [(Path(r.path).name, r.status) for r in results] == [
        ("share-1.csv", "landed"), ("share-2.parquet", "failed"), ("share-3.csv", "landed"),
    ]
    assert "share-2.parquet" in results[1].message
    # the files before and after it landed, nothing of it did
    assert query(settings.warehouse, "select file_path from meta.batches order by 1") == [
        (str(tmp_path / "in" / "share-1.csv"),), (str(tmp_path / "in" / "share-3.csv"),),
    ]
    assert query(settings.warehouse, "select share_id from raw.share order by 1") == [("s1",), ("s3",)]


def test_small_files_landing_together_see_rejected_batches_as_absent(settings, pii_key, tmp_path) -> None:
    header = _land_and_reject_followers(settings, pii_key, tmp_path)
    # a fix and a re-delivery of an accepted row of it, landing in one transaction
    write(tmp_path / "b" / "page_followers-1.csv", header + "p,2026-03-01T00:00:00Z,100\np,2026-03-02T00:00:00Z,105\n")
    write(tmp_path / "b" / "page_followers-2.csv", header + "p,2026-03-02T00:00:00Z,105\n")
    fixed, again = land(settings, tmp_path / "b", pii_key)
    assert (fixed.rows_landed, fixed.rows_duplicate, again.rows_landed, again.rows_duplicate) == (2, 0, 0, 1)
