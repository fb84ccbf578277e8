"""Quality gates: every gate fails on bad data and passes on good data (real GX suites)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from ingestion.landing import land_path
from reachloop import batches
from reachloop.gates import GateFailure, GateReport, docs_dir, run_gate_1, run_gate_2
from reachloop.settings import Settings
from reachloop.warehouse import warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def landed_template(small_workload: Path, tmp_path_factory) -> tuple[Path, GateReport]:
    """The generated workload landed and gated once (the slow part); each test works on its
    own copy of the warehouse and gates only what it adds."""
    from tests.conftest import TEST_PII_KEY

    home = tmp_path_factory.mktemp("gates-template")
    settings = Settings(home)
    with warehouse(settings) as con:
        land_path(con, small_workload / "landing", TEST_PII_KEY.encode())
        report = run_gate_1(con, settings, "build-1")
    return home / "warehouse.duckdb", report


@pytest.fixture
def landed(settings: Settings, landed_template: tuple[Path, GateReport]) -> Settings:
    settings.home.mkdir(parents=True)
    shutil.copy(landed_template[0], settings.warehouse)
    return settings


def poisoned_metrics(small_workload: Path, out: Path, rows: int = 40) -> Path:
    """A share_metrics delivery for known shares, with negative impressions."""
    source = sorted((small_workload / "landing").glob("share_metrics-*.csv"))[0]
    records = list(csv.DictReader(source.open()))[:rows]
    path = out / "share_metrics-poisoned.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        for r in records:
            w.writerow({**r,
                        "impressions": "-7", "unique_impressions": ""})
    return path


def land(settings: Settings, path: Path) -> str:
    from tests.conftest import TEST_PII_KEY

    with warehouse(settings) as con:
        return land_path(con, path, TEST_PII_KEY.encode())[0].batch_id


def test_gate_1_passes_on_good_data_and_records_verdicts(landed: Settings, landed_template):
    report = landed_template[1]
    with warehouse(landed) as con:
        assert report.outcome in ("passed", "warned")
        assert not report.failures
        outcomes = dict(con.execute("select outcome, count(*) from meta.batch_gates group by 1").fetchall())
        assert sum(outcomes.values()) == con.execute("select count(*) from meta.batches").fetchone()[0]
        assert "failed" not in outcomes
        stored = con.execute("select count(*), count(distinct suite) from meta.gate_results").fetchone()
        assert stored[0] > 50 and stored[1] >= 12  # schema, batches, one rows suite per event type
        # Every batch is gated now: the next build has nothing to check.
        again = run_gate_1(con, landed, "build-2")
        assert again.batches == {} and again.outcome == "passed"
    assert report.docs == docs_dir(Settings(landed_template[0].parent))
    assert (report.docs / "index.html").exists()


def test_gate_1_fails_on_a_poisoned_batch_and_names_check_batch_rows(
    landed: Settings, small_workload: Path, tmp_path: Path
):
    bad = land(landed, poisoned_metrics(small_workload, tmp_path))
    with warehouse(landed) as con, pytest.raises(GateFailure) as failure:
        run_gate_1(con, landed, "build-2")
    message = str(failure.value)
    assert "expect_column_values_to_be_between(impressions)" in message
    assert bad in message and '"impressions": -7' in message and "source_line" in message
    assert failure.value.report.batches == {bad: "failed"}
    with warehouse(landed) as con:
        failed = con.execute(
            "select batch_id, severity, unexpected_count, examples from meta.gate_results "
            "where build_id = 'build-2' and not success and severity = 'critical'"
        ).fetchall()
        assert [(b, s, n) for b, s, n, _ in failed] == [(bad, "critical", 40)]
        assert json.loads(failed[0][3])[0]["impressions"] == -7
        # Retracted, the batch is no longer checked (nor built); restored, it is checked again.
        batches.reject(con, bad, "negative impressions from the vendor's export bug")
        assert run_gate_1(con, landed, "build-3").batches == {}
        batches.restore(con, bad)
        with pytest.raises(GateFailure):
            run_gate_1(con, landed, "build-4")


def test_gate_1_checks_references_within_a_tolerance(landed: Settings, tmp_path: Path):
    path = tmp_path / "click-unknown.csv"
    rows = ["click_id,tracking_token,visitor_id,occurred_at"]
    rows += [f"ck_x{i},tok_never_issued_{i},v{i},2025-12-01T10:00:00Z" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    bad = land(landed, path)
    with warehouse(landed) as con, pytest.raises(GateFailure, match=r"orphan_ratio.*" + bad):
        run_gate_1(con, landed, "build-2")


def _marts(con, *, credit_b: float = 0.5, jaccard: float = 0.4, duplicate: bool = False) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        """create or replace table marts.mart_engagement_rate as
           select 'sh_' || i as share_id, 100 as impressions, 3 as clicks, 2 as reactions, 1 as comments,
                  0 as reshares, 0.06 as engagement_rate, 0.03 as ctr from range(20) t(i)"""
    )
    if duplicate:
        con.execute("insert into marts.mart_engagement_rate select * from marts.mart_engagement_rate limit 1")
    con.execute(
        f"""create or replace table marts.mart_audience_pairs as
            select 'e1' as employee_a, 'e2' as employee_b, 2 as shared_contents, {jaccard} as jaccard"""
    )
    con.execute(
        f"""create or replace table marts.mart_lead_to_deal_attribution as
            select * from (values
              ('d1', 'linear', 1, 'c1', 's1', 'e1', timestamptz '2025-03-01', 0.5, 50.0, 'EUR', 'won'),
              ('d1', 'linear', 2, 'c2', 's2', 'e2', timestamptz '2025-03-02', {credit_b}, 50.0, 'EUR', 'won'),
              ('d2', 'first_touch', 1, 'c3', 's1', 'e1', timestamptz '2025-03-03', 1.0, 10.0, 'EUR', 'open')
            ) t(deal_id, model, touch_number, click_id, share_id, author_id, touch_at, credit,
                attributed_amount, currency, deal_status)"""
    )


def test_gate_2_passes_on_good_marts(settings: Settings):
    with warehouse(settings) as con:
        _marts(con)
        report = run_gate_2(con, settings, "build-1")
    assert report.outcome == "passed", [r.describe() for r in report.failures + report.warnings]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"duplicate": True}, r"expect_column_values_to_be_unique\(share_id\).*mart_engagement_rate"),
        ({"jaccard": 1.5}, r"expect_column_values_to_be_between\(jaccard\)"),
        ({"credit_b": 0.3}, r"credit_sum.*mart_lead_to_deal_attribution.*d1"),
    ],
)
def test_gate_2_fails_on_bad_marts(settings: Settings, kwargs: dict, expected: str):
    with warehouse(settings) as con:
        _marts(con, **kwargs)
        with pytest.raises(GateFailure, match=expected):
            run_gate_2(con, settings, "build-1")
