"""Landing a generated SF0.1 workload end to end: every count reconciles with what the
generator says it wrote, and no clear-text PII survives anywhere in the warehouse."""

from __future__ import annotations

import json

import duckdb
import pytest

from eventlog.contract import EVENT_TYPES
from eventlog.settings import Settings
from generator import generate
from reachloop.cli import main

# What the generator's clear-text PII looks like: emails, and LinkedIn-style member ids.
CLEAR_PII = r"@|\bli:[0-9a-f]{8,}"


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    mp = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("sf01")
    generate(0.1, 11, out)
    mp.setenv("REACHLOOP_HOME", str(out / "home"))
    mp.setenv("REACHLOOP_PII_KEY", "workload-test-key")
    assert main(["land", str(out / "landing")]) == 0
    assert main(["land", str(out / "landing")]) == 0  # landing it all again changes nothing
    settings = Settings.from_env()
    mp.undo()
    return settings, json.loads((out / "ground_truth" / "summary.json").read_text())


def test_counts_reconcile_with_the_generator(landed, capsys) -> None:
    settings, truth = landed
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for name in EVENT_TYPES:
            distinct = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
            assert distinct == truth["events"][name], name
        per_type = {
            et: (landed, dup, quar, read)
            for et, landed, dup, quar, read in con.execute(
                "select event_type, sum(rows_landed), sum(rows_duplicate), sum(rows_quarantined),"
                " sum(rows_read) from meta.batches group by all"
            ).fetchall()
        }
        unbalanced = con.execute(
            "select count(*) from meta.batches where rows_read <> rows_landed + rows_duplicate + rows_quarantined"
        ).fetchone()[0]
    assert unbalanced == 0
    for name, (landed_rows, dup, quar, read) in per_type.items():
        assert landed_rows == truth["events"][name]
        assert dup == sum(truth["duplicates"][name].values()), name
        assert quar == sum(truth["malformed"][name].values()), name
        assert read == truth["rows_in_files"][name], name


def test_status_json_counts_the_whole_log(landed, capsys, monkeypatch) -> None:
    settings, truth = landed
    monkeypatch.setenv("REACHLOOP_HOME", str(settings.home))
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert {k: v["landed"] for k, v in status["event_types"].items()} == truth["events"]
    assert sum(status["quarantine_reasons"].values()) == truth["malformed_total"]
    assert set(status["quarantine_reasons"]) <= {
        "malformed_record", "missing_field", "invalid_number", "invalid_timestamp", "invalid_enum",
        "invalid_currency", "out_of_range",
    }


def test_no_clear_text_pii_anywhere_in_the_warehouse(landed) -> None:
    settings, _ = landed
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where data_type = 'VARCHAR'"
        ).fetchall()
        assert len(text_columns) > 50
        leaks = {
            f"{s}.{t}.{c}": n
            for s, t, c in text_columns
            if (n := con.execute(
                f'select count(*) from "{s}"."{t}" where regexp_matches("{c}", ?)', [CLEAR_PII]
            ).fetchone()[0])
        }
        pseudonymized = con.execute(
            "select count(*) from raw.form_fill where regexp_matches(email, '^[0-9a-f]{32}$')"
        ).fetchone()[0]
    assert leaks == {}
    assert pseudonymized > 0
