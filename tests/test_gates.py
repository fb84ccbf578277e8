"""Quality gates: every gate fails on bad data and passes on good data (real GX suites)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from builds.gates import GateFailure, GateReport, docs_dir, run_gate_1, run_gate_2
from builds.gates.manifest import FOLDED_SCHEMAS
from eventlog import batches
from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.landing import land_path
from tests.helpers import poisoned_metrics

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
        assert stored[0] == len(report.results)
        assert con.execute(
            "select count(*) from meta.gate_results where success and batch_id is null and unexpected_count = 0"
        ).fetchone()[0] == sum(r.success and r.batch_id is None and r.unexpected_count == 0 for r in report.results)
        # Every batch is gated now: the next build has nothing to check.
        again = run_gate_1(con, landed, "build-2")
        assert again.batches == {} and again.outcome == "passed"
    assert report.docs == docs_dir(Settings(landed_template[0].parent))
    # Every check held: told without GX, so no Data Docs (a failing gate renders them, below).
    assert report.outcome == "passed" and not (report.docs / "index.html").exists()


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
    assert (failure.value.report.docs / "index.html").exists()  # GX judged it, and rendered its Data Docs
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


def redelivery(small_workload: Path, out: Path, pattern: str, tag: str, edit=None, key: str | None = None) -> Path:
    """A workload CSV delivered again as new data: ``key`` suffixed with ``tag`` (new events) or,
    without a key, every record edited (new versions of known events), so that nothing is
    dropped as an exact duplicate; ``edit(records)`` returns the records to deliver."""
    source = sorted((small_workload / "landing").glob(pattern))[0]
    records = list(csv.DictReader(source.open()))
    if key:
        records = [{**r, key: f"{r[key]}-{tag}"} for r in records]
    records = edit(records) if edit else records
    event_type = pattern.split("/")[0].split("-")[0]
    path = out / f"{event_type}-{tag}.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)
    return path


def _money_negative(records):
    return [{**r, "amount": f"-{r['amount']}"} if r["amount"] else r for r in records]


def _currency_spelled_out(records):
    return [{**r, "currency": "EURO"} if r["currency"] else r for r in records]


def _same_key_twice(records):
    return [*records, {**records[0], "stage": "a conflicting version"}]


def _reached_more_than_seen(records):
    # Every record a new version (one more reaction); the first three reach more members than
    # they had impressions.
    return [{**r, "reactions": str(int(r["reactions"]) + 1),
             "unique_impressions": str(int(r["impressions"]) + 5) if i < 3 else r["unique_impressions"]}
            for i, r in enumerate(records)]


def _corrupt(con, event_type: str, batch_id: str, assignment: str, rows: int) -> None:
    """Break rows of a landed batch behind landing's back: landing's contract check keeps nulls
    and unknown values out, and gate 1 is the second line should that check ever slip."""
    con.execute(
        f"""update raw.{event_type} set {assignment} where batch_id = $1 and source_line in (
            select source_line from raw.{event_type} where batch_id = $1 order by source_line limit {rows})""",
        [batch_id],
    )


def test_gate_1_row_rules_blame_the_batch_that_breaks_them_and_only_it(
    landed: Settings, small_workload: Path, tmp_path: Path
):
    deals = "deal/*.csv"
    base = list(csv.DictReader(sorted((small_workload / "landing").glob(deals))[0].open()))
    with_amount = sum(1 for r in base if r["amount"])
    with_currency = sum(1 for r in base if r["currency"])
    batch = {
        tag: land(landed, redelivery(small_workload, tmp_path, pattern, tag, edit, key))
        for tag, pattern, edit, key in [
            ("clean", deals, None, "deal_event_id"),
            ("null", deals, None, "deal_event_id"),
            ("unknown", deals, None, "deal_event_id"),
            ("negative", deals, _money_negative, "deal_event_id"),
            ("twice", deals, _same_key_twice, "deal_event_id"),
            ("currency", deals, _currency_spelled_out, "deal_event_id"),
            ("reach", "share_metrics-2025-04.csv", _reached_more_than_seen, None),
        ]
    }
    with warehouse(landed) as con:
        _corrupt(con, "deal", batch["null"], "deal_id = null", rows=2)
        _corrupt(con, "deal", batch["unknown"], "event = 'reopened'", rows=1)
        with pytest.raises(GateFailure) as failure:
            run_gate_1(con, landed, "build-2")
    report = failure.value.report
    expected = {
        "null": ("expect_column_values_to_not_be_null", "deal_id", "critical", 2),
        "unknown": ("expect_column_values_to_be_in_set", "event", "critical", 1),
        "negative": ("expect_column_values_to_be_between", "amount", "critical", with_amount),
        "twice": ("expect_compound_columns_to_be_unique", "batch_id,event_key", "critical", 2),
        "currency": ("expect_column_values_to_match_regex", "currency", "warning", with_currency),
        "reach": ("expect_column_pair_values_a_to_be_greater_than_b", "impressions", "warning", 3),
    }
    broken = [r for r in report.results if not r.success]
    tag_of = {b: tag for tag, b in batch.items()}
    assert {tag_of[r.batch_id]: (r.expectation, r.column, r.severity, r.unexpected_count)
            for r in broken} == expected
    assert len(broken) == len(expected)  # one failure per bad batch, none elsewhere
    assert report.batches == {
        batch["clean"]: "passed", batch["reach"]: "warned", batch["currency"]: "warned",
        **{batch[t]: "failed" for t in ("null", "unknown", "negative", "twice")},
    }
    with warehouse(landed) as con:
        rows_landed = dict(con.execute("select batch_id, rows_landed from meta.batches").fetchall())
    assert rows_landed[batch["twice"]] == len(base) + 1  # the conflicting version lands too
    for r in broken:
        assert r.element_count == rows_landed[r.batch_id]
        assert r.examples and all(e["batch_id"] == r.batch_id for e in r.examples)
    by_tag = {tag_of[r.batch_id]: r for r in broken}
    assert by_tag["negative"].observed == [e["amount"] for e in by_tag["negative"].examples]
    assert all(e["amount"] < 0 for e in by_tag["negative"].examples)
    assert [e["deal_event_id"] for e in by_tag["twice"].examples] == [base[0]["deal_event_id"] + "-twice"] * 2
    assert all(e["unique_impressions"] > e["impressions"] for e in by_tag["reach"].examples)
    # The message names the first critical failure: rule, column, batch, counts, a raw record.
    first = report.failures[0]
    assert str(failure.value).startswith(
        f"gate 1 failed: {first.expectation}({first.column}) [critical] on deal batch {first.batch_id}: "
        f"{first.unexpected_count} of {rows_landed[first.batch_id]} rows unexpected, e.g. {{")
    assert '"source_line": ' in str(failure.value) and "3 more critical failure(s)" in str(failure.value)
    with warehouse(landed) as con:
        stored = con.execute(
            "select batch_id, expectation, column_name, unexpected_count, element_count from meta.gate_results "
            "where build_id = 'build-2' and not success order by batch_id"
        ).fetchall()
    assert sorted((tag_of[b], e, c, n) for b, e, c, n, _ in stored) == sorted(
        (t, e, c, n) for t, (e, c, _, n) in expected.items())


def test_gate_1_counts_in_sql_what_gx_finds_in_the_rows(settings: Settings):
    """The row rules' SQL counts agree with GX evaluating the same rules on the rows themselves,
    for every kind of rule, missing values included."""
    from builds.gates import frames
    from eventlog.contract import EVENT_TYPES

    with warehouse(settings) as con:
        con.execute(
            """insert into raw.deal (batch_id, source_line, event_key, deal_event_id, deal_id, event,
                   occurred_at, amount, currency)
               select batch_id, line, key, 'de' || line, did, ev, timestamptz '2025-03-01', amt, cur
               from (values
                 ('b1', 1, 'k1', 'd1', 'created', 10.0, 'EUR'),
                 ('b1', 2, 'k1', null, 'created', -1.0, 'EURO'),
                 ('b1', 3, null, 'd3', 'reopened', null, null),
                 ('b2', 1, 'k1', 'd1', 'closed_won', -5.0, 'eu'),
                 ('b2', 2, 'k2', 'd2', null, 0.0, 'USD'),
                 ('b2', 3, null, 'd4', 'created', 1.0, 'GBP'),
                 ('b2', 4, null, 'd5', 'created', 1.0, 'GBP')
               ) t(batch_id, line, key, did, ev, amt, cur)"""
        )
        con.execute(
            """insert into raw.share_metrics (batch_id, source_line, event_key, share_id, observed_at,
                   impressions, reactions, comments, reshares, clicks, unique_impressions)
               select 'b3', line, 'k' || line, 's', timestamptz '2025-03-01', imp, 0, 0, 0, -1, uniq
               from (values (1, 10, 11), (2, 10, 10), (3, null, 11), (4, 10, null), (5, 3, 9))
                    t(line, imp, uniq)"""
        )
        for et in (EVENT_TYPES["deal"], EVENT_TYPES["share_metrics"]):
            batches = [b for (b,) in con.execute(f"select distinct batch_id from raw.{et.name}").fetchall()]
            [counted] = frames.gate_1_frames(con, {et.name: batches})[-1].parts
            rows = con.execute(f"select * exclude (content_hash, extra) from raw.{et.name}").df()
            _assert_sql_counts_what_gx_finds(settings, counted, rows)


def _assert_sql_counts_what_gx_finds(settings: Settings, counted, rows) -> None:
    """Each count column of a counts frame, summed, against GX's unexpected count for the
    same rule evaluated on the rows themselves."""
    from builds.gates import frames
    from builds.gates.runner import _validate

    rules = list(counted.counts.rules.values())
    [(_, evr)] = _validate([frames.Frame("rows", counted.target, rows, rules, ())], settings.home / "docs")

    def by_gx(rule):
        [found] = [r for r in evr.results if r.expectation_config.type == rule.type
                   and {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"} == rule.kwargs]
        return found.result.get("unexpected_count")

    by_sql = {c: int(counted.df[c].sum()) for c in counted.counts.rules}
    assert by_sql == {c: by_gx(r) for c, r in counted.counts.rules.items()}, counted.target
    assert any(by_sql.values())


def test_gate_2_counts_in_sql_what_gx_finds_in_the_rows(gate_2_settings: Settings):
    """The same for the marts' rules (their yml's, from the manifest), where NaN (a float 0/0) is
    missing to pandas, hence to GX. Expression rules (dbt's expression_is_true) are SQL that GX
    cannot run on pandas: their counts are checked against the query dbt's test runs."""
    from dataclasses import replace

    from builds.gates import frames, suites
    from builds.gates.manifest import mart_rules

    settings = gate_2_settings
    marts = mart_rules(_manifest(settings))
    with warehouse(settings) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.mart_engagement_rate as select * from (values
                 ('s1', 10, 1, 1, 0, 0, 0.1, 0.1), ('s1', 10, 1, 1, 0, 0, 0.1, 0.1),
                 ('s2', -1, 1, 1, 0, 0, 'nan'::double, 1.5), (null, 0, 0, 0, 0, 0, 0.0, 'nan'::double),
                 (null, 5, null, 0, 0, 0, -0.5, null), ('s3', 5, 1, 0, 0, 0, 0.2, 0.2)
               ) t(share_id, impressions, clicks, reactions, comments, reshares, engagement_rate, ctr)"""
        )
        con.execute(
            """create table marts.mart_audience_pairs as select * from (values
                 ('e1', 'e2', 1, 0.5), ('e1', 'e2', 2, 'nan'::double), ('e1', null, 1, 1.0),
                 ('e1', null, 1, 2.0), (null, null, 1, 0.1), (null, null, 1, 0.1), ('e2', 'e3', -1, -0.1)
               ) t(employee_a, employee_b, shared_contents, jaccard)"""
        )
        for name in ("mart_engagement_rate", "mart_audience_pairs"):
            [_, counted] = frames._mart_frames(con, name, marts[name])
            by_gx = {c: r for c, r in counted.counts.rules.items() if r.expectation != "UnexpectedRowsExpectation"}
            rows = con.execute(f"select * from marts.{name}").df()
            _assert_sql_counts_what_gx_finds(settings, replace(counted, counts=replace(counted.counts, rules=by_gx)), rows)
            for column, rule in counted.counts.rules.items():
                if column not in by_gx:
                    dbt = con.execute(f"select count(*) from marts.{name} where not ({suites.expression_of(rule)})")
                    assert int(counted.df[column].sum()) == dbt.fetchone()[0], column
            if name == "mart_audience_pairs":
                # What its yml declares, less the expression on columns this table lacks (the
                # contract's check fails for them).
                assert set(counted.counts.rules) == {
                    "expect_column_values_to_not_be_null(employee_a)", "expect_column_values_to_not_be_null(employee_b)",
                    "expect_column_values_to_be_between(shared_contents)", "expect_column_values_to_be_between(jaccard)",
                    "expect_compound_columns_to_be_unique(employee_a,employee_b)",
                    "unexpected_rows_expectation(employee_a < employee_b)",
                }


def test_gate_1_checks_references_within_a_tolerance(landed: Settings, tmp_path: Path):
    path = tmp_path / "click-unknown.csv"
    rows = ["click_id,tracking_token,visitor_id,occurred_at"]
    rows += [f"ck_x{i},tok_never_issued_{i},v{i},2025-12-01T10:00:00Z" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    bad = land(landed, path)
    with warehouse(landed) as con, pytest.raises(GateFailure, match=r"orphan_ratio.*" + bad):
        run_gate_1(con, landed, "build-2")


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory) -> Path:
    """dbt's manifest of the real project (``dbt parse``: no warehouse needed), made once: what
    gate 2 reads its rules from."""
    return _parse(Settings(tmp_path_factory.mktemp("gate-2-manifest")))


def _parse(settings: Settings, project: Path | None = None) -> Path:
    """``dbt parse`` of the project (or a copy of it) into the home's dbt target; its manifest."""
    from builds.dbt_build import PROJECT_DIR, invoke_dbt, manifest_path, project_args

    args = [str(project) if project and a == str(PROJECT_DIR) else a for a in project_args(settings)]
    assert invoke_dbt(settings, ["parse", *args]).success
    return manifest_path(settings)


def test_a_new_home_starts_from_the_saved_parse_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """dbt's parse state survives a new home (builds/dbt_build.py): the profile is the same for
    every home, and a home without parse state gets the last one saved for the project."""
    from builds.dbt_build import PARTIAL_PARSE, parse_cache_dir, target_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt says how it parsed at debug level
    first, second = Settings(tmp_path / "first"), Settings(tmp_path / "second")
    _parse(first)
    assert list(parse_cache_dir().rglob(PARTIAL_PARSE))
    assert not (target_path(second) / PARTIAL_PARSE).exists()
    _parse(second)
    log = (second.home / "dbt" / "logs" / "dbt.log").read_text()
    assert "Starting full parse" not in log and "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log


def _manifest(settings: Settings) -> Path:
    from builds.dbt_build import manifest_path

    return manifest_path(settings)


@pytest.fixture
def gate_2_settings(settings: Settings, parsed_manifest: Path) -> Settings:
    """A home whose last dbt build left the real project's manifest (gate 2 needs one)."""
    _manifest(settings).parent.mkdir(parents=True)
    shutil.copy(parsed_manifest, _manifest(settings))
    return settings


def _mart(con, manifest: Path, name: str, select: str) -> None:
    """A mart table with every column of its contract, typed as the manifest says; ``select``
    gives some of them (by name), the others are null."""
    from eventlog.sql import quote_ident

    node = json.loads(manifest.read_text())["nodes"][f"model.reachloop.{name}"]
    columns = ", ".join(f"{quote_ident(c)} {col['data_type']}" for c, col in node["columns"].items())
    con.execute("create schema if not exists marts")
    con.execute(f"create or replace table marts.{name} ({columns})")
    con.execute(f"insert into marts.{name} by name {select}")


def _marts(con, manifest: Path, *, credit_b: float = 0.5, jaccard: float = 0.4, duplicate: bool = False,
           model: str = "first_touch", drop: str | None = None) -> None:
    _mart(
        con, manifest, "mart_engagement_rate",
        """select 'sh_' || i as share_id, 100 as impressions, 3 as clicks, 2 as reactions, 1 as comments,
                  0 as reshares, 0.06 as engagement_rate, 0.03 as ctr from range(20) t(i)""",
    )
    if duplicate:
        con.execute("insert into marts.mart_engagement_rate select * from marts.mart_engagement_rate limit 1")
    if drop:
        con.execute(f"alter table marts.mart_engagement_rate drop column {drop}")
    _mart(con, manifest, "mart_audience_pairs",
          f"select 'e1' as employee_a, 'e2' as employee_b, 2 as shared_contents, {jaccard} as jaccard")
    _mart(
        con, manifest, "mart_lead_to_deal_attribution",
        f"""select * from (values
              ('d1', 'linear', 1, 'c1', 's1', 'e1', timestamptz '2025-03-01', 0.5, 50.0, 'EUR', 'won'),
              ('d1', 'linear', 2, 'c2', 's2', 'e2', timestamptz '2025-03-02', {credit_b}, 50.0, 'EUR', 'won'),
              ('d2', '{model}', 1, 'c3', 's1', 'e1', timestamptz '2025-03-03', 1.0, 10.0, 'EUR', 'open')
            ) t(deal_id, model, touch_number, click_id, share_id, author_id, touch_at, credit,
                attributed_amount, currency, deal_status)""",
    )


def test_gate_2_passes_on_good_marts(gate_2_settings: Settings, parsed_manifest: Path):
    settings = gate_2_settings
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        report = run_gate_2(con, settings, "build-1")
    assert report.outcome == "passed", [r.describe() for r in report.failures + report.warnings]
    # Every mart's rules come from its yml: the three marts here, each with its contract's
    # columns, its declared tests and (attribution) the credit sums per deal and model.
    checked = {(r.target, r.expectation, r.column) for r in report.results}
    assert {t for t, _, _ in checked} == {"mart_engagement_rate", "mart_audience_pairs",
                                          "mart_lead_to_deal_attribution", "marts"}
    assert {
        ("mart_engagement_rate", "expect_table_columns_to_match_set", None),
        ("mart_engagement_rate", "expect_column_values_to_be_unique", "share_id"),
        ("mart_engagement_rate", "unexpected_rows_expectation", "ctr is null or ctr <= engagement_rate"),
        ("mart_audience_pairs", "expect_compound_columns_to_be_unique", "employee_a,employee_b"),
        ("mart_lead_to_deal_attribution", "expect_column_values_to_be_in_set", "model"),
        ("mart_lead_to_deal_attribution", "expect_column_values_to_be_between", "credit_sum"),
        ("marts", "expect_column_values_to_be_between", "size_ratio"),
    } <= checked


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"duplicate": True}, r"expect_column_values_to_be_unique\(share_id\) \[critical\] on mart_engagement_rate: "
                              r'2 of 21 rows unexpected, e\.g\. \{"share_id": "sh_\d+"\}'),
        ({"jaccard": 1.5}, r"expect_column_values_to_be_between\(jaccard\) \[critical\] on mart_audience_pairs: "
                           r'1 of 1 rows unexpected, e\.g\. \{"employee_a": "e1", "employee_b": "e2", "jaccard": 1\.5\}'),
        ({"model": "u_shaped"}, r"expect_column_values_to_be_in_set\(model\) \[critical\] on mart_lead_to_deal_attribution: "
                                r'1 of 3 rows unexpected, e\.g\. \{"deal_id": "d2", "model": "u_shaped", "touch_number": 1\}'),
        ({"drop": "ctr"}, r"expect_table_columns_to_match_set \[critical\] on mart_engagement_rate: observed \{'missing': \['ctr'\]\} \(details"),
        ({"credit_b": 0.3}, r"expect_column_values_to_be_between\(credit_sum\) \[critical\] on mart_lead_to_deal_attribution: "
                            r'1 of 2 rows unexpected, e\.g\. \{"credit_sum": 0\.8, "deal_id": "d1", "model": "linear"\}'),
    ],
)
def test_gate_2_fails_on_bad_marts(gate_2_settings: Settings, parsed_manifest: Path, kwargs: dict, expected: str):
    settings = gate_2_settings
    with warehouse(settings) as con:
        _marts(con, parsed_manifest, **kwargs)
        with pytest.raises(GateFailure, match=expected) as failure:
            run_gate_2(con, settings, "build-1")
    assert len(failure.value.report.failures) == 1, [r.describe() for r in failure.value.report.failures]


def _verdicts_both_ways(con, gate: str, frames_: list, site: Path) -> tuple[list, list]:
    from builds.gates.runner import _verdicts

    def told(results):
        return sorted((r.suite, r.target, r.batch_id, r.expectation, r.column, r.severity, r.success,
                       r.element_count, r.unexpected_count) for r in results)

    return told(_verdicts(con, gate, frames_, site)), told(_verdicts(con, gate, frames_, site, use_gx=True))


def test_a_clean_gate_tells_the_verdicts_gx_gives_without_gx(gate_2_settings: Settings, parsed_manifest: Path):
    """Gates skip GX only when every rule provably holds (builds/gates/clean.py); then they
    record what GX records for the same frames. A rule that breaks sends the gate to GX."""
    from builds.gates import clean, frames
    from builds.gates.manifest import mart_rules
    from builds.gates.runner import previous_mart_sizes

    settings = gate_2_settings
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        good = frames.gate_2_frames(con, previous_mart_sizes(con), mart_rules(parsed_manifest))
        assert all(clean.holds(rule, f.df) for f in good for rule in f.rules)
        fast, by_gx = _verdicts_both_ways(con, "gate_2", good, settings.home / "docs")
        assert fast == by_gx and len(fast) > 20 and all(r[6] for r in fast)
        # Planted violations of each kind the clean path reads: none passes for held.
        con.execute("drop schema marts cascade")
        _marts(con, parsed_manifest, credit_b=0.3, jaccard=1.5, drop="ctr")
        bad = frames.gate_2_frames(con, previous_mart_sizes(con), mart_rules(parsed_manifest))
        broken = {(f.suite, r.expectation) for f in bad for r in f.rules if not clean.holds(r, f.df)}
        assert broken == {("gate_2.rows", "ExpectColumnValuesToBeBetween"),
                          ("gate_2.mart_engagement_rate.columns", "ExpectTableColumnsToMatchSet"),
                          ("gate_2.mart_lead_to_deal_attribution.credit_sum_by_deal_id_model",
                           "ExpectColumnValuesToBeBetween")}, broken


def test_gate_1_clean_reading_agrees_with_gx_rule_by_rule(landed: Settings):
    """On real landed batches (the workload's planted problems included), every rule the clean
    path says holds, GX passes, and the rules GX fails the clean path never says hold."""
    from builds.gates import clean, frames
    from builds.gates.runner import _validate

    with warehouse(landed) as con:
        pending = {et: [b for (b,) in con.execute(
            "select batch_id from meta.batches where event_type = ?", [et]).fetchall()]
            for (et,) in con.execute("select distinct event_type from meta.batches").fetchall()}
        gate_frames = frames.gate_1_frames(con, pending)
    checked, held = 0, []
    for frame, evr in _validate(gate_frames, landed.home / "docs"):
        for rule in frame.rules:
            plain = {k: v for k, v in rule.kwargs.items() if k != "row_condition"}
            found = [r.success for r in evr.results if r.expectation_config.type == rule.type
                     and plain.items() <= r.expectation_config.kwargs.items()
                     and str(rule.kwargs.get("row_condition", "")) in str(r.expectation_config.kwargs)]
            assert len(found) == 1, (rule, [r.expectation_config.kwargs for r in evr.results])
            by_gx = found[0]
            by_clean = clean.holds(rule, frame.df)
            assert by_gx or not by_clean, (frame.suite, rule)
            checked += 1
            held.append(by_clean)
    assert checked > 5 and any(held) and not all(held)  # the workload plants a few warnings


def test_a_build_leaves_to_gate_2_exactly_the_tests_gate_2_checks(gate_2_settings: Settings,
                                                                  parsed_manifest: Path):
    """The selector a production build excludes from dbt (builds.steps.run_dbt) selects, as dbt
    reads it, every test of a mart, staging or intermediate model that gate 2 reproduces and
    nothing else: no check is lost (each kind's rule fails on planted rows in
    test_gate_2_fails_on_bad_marts, the counts tests and the staging/intermediate test below).
    On Spark only the marts' tests are left to gate 2."""
    from builds.dbt_build import invoke_dbt, project_args
    from builds.gates.manifest import checked_by_gate_2_selector, mart_rules

    nodes = json.loads(parsed_manifest.read_text())["nodes"]
    for schemas in [FOLDED_SCHEMAS, ("marts",)]:
        listed = invoke_dbt(gate_2_settings, ["ls", *project_args(gate_2_settings), "--resource-type", "test",
                                              "--select", checked_by_gate_2_selector(schemas), "--output", "name"])
        excluded = set(listed.result)
        models = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["schema"] in schemas}
        tests = {n["name"] for n in nodes.values() if n["resource_type"] == "test" and n.get("attached_node") in models}
        rules = mart_rules(parsed_manifest, schemas)
        left_to_dbt = {name for r in rules.values() for name, _ in r.left_to_dbt}
        assert excluded == tests - left_to_dbt and len(excluded) > (150 if len(schemas) > 1 else 100)
        assert left_to_dbt and not left_to_dbt & excluded  # relationships tests stay in dbt
    folded = {r.schema for r in mart_rules(parsed_manifest, FOLDED_SCHEMAS).values() if r.rows}
    assert folded == {"staging", "intermediate", "marts"}


def test_gate_2_checks_the_staging_and_intermediate_models_the_build_made(gate_2_settings: Settings,
                                                                          parsed_manifest: Path):
    """The staging and intermediate models' data tests, folded into gate 2: a violation planted
    in one of each stops the build before publish, naming the model, the column and the count;
    a dbt test's where config is honoured; a model the build did not make is not checked."""
    settings = gate_2_settings
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        con.execute("create schema staging; create schema intermediate")
        con.execute("create table staging.stg_event_log__clicks as "
                    "select 'c' || (i % 9) as click_id, 'tok' as tracking_token from range(10) t(i)")
        con.execute("create table intermediate.int_colleague_members as select * from (values "
                    "('m1', 'e1', 1), (null, 'e2', 1), ('m3', 'e3', 2)) t(member_id, employee_id, employees)")
        # Two rows without a touch number repeat (deal_id, touch_number): the where leaves them out.
        con.execute("create table intermediate.int_deal_clicks_joined as select * from (values "
                    "('d1', 'k1', null), ('d1', 'k2', null), ('d1', 'k3', 1)) t(deal_id, click_id, touch_number)")
        rebuilt = {"stg_event_log__clicks", "int_colleague_members", "int_deal_clicks_joined"}
        with pytest.raises(GateFailure) as failure:
            run_gate_2(con, settings, "build-1", rebuilt)
        report = failure.value.report
        assert {(r.target, r.expectation, r.column, r.severity, r.unexpected_count, r.element_count)
                for r in report.results if not r.success} == {
            ("stg_event_log__clicks", "expect_column_values_to_be_unique", "click_id", "critical", 2, 10),
            ("int_colleague_members", "expect_column_values_to_not_be_null", "member_id", "critical", 1, 3),
            ("int_colleague_members", "expect_column_values_to_be_between", "employees", "warning", 1, 3),
        }
        first = report.failures[0].describe()
        assert str(failure.value).startswith(f"gate 2 failed: {first}") and "1 more critical failure" in str(failure.value)
        assert first.startswith(("expect_column_values_to_be_unique(click_id) [critical] on stg_event_log__clicks: "
                                 "2 of 10 rows unexpected", "expect_column_values_to_not_be_null(member_id) "
                                 "[critical] on int_colleague_members: 1 of 3 rows unexpected"))
        assert {r.target for r in report.results} >= rebuilt
        stored = con.execute("select count(*) from meta.gate_results where build_id = 'build-1' and "
                             "target = 'int_colleague_members' and not success").fetchone()[0]
        assert stored == 2
        # The where is honoured both ways: two numbered touches of one deal break it.
        con.execute("insert into intermediate.int_deal_clicks_joined values ('d1', 'k4', 1)")
        with pytest.raises(GateFailure, match=r"compound_columns_to_be_unique\(deal_id,touch_number\).*2 of 4"):
            run_gate_2(con, settings, "build-2", {"int_deal_clicks_joined"})
        # Made by no build step here: not checked (the last good build checked them).
        assert run_gate_2(con, settings, "build-3", {"mart_engagement_rate"}).outcome == "passed"


def test_gate_2_checks_the_rows_a_staging_model_wrote_since_the_last_good_build(gate_2_settings: Settings,
                                                                               parsed_manifest: Path):
    """An incremental staging model's rows carry their batch's log position: after a selected
    build, gate 2 counts its row rules on the rows past the last good build's position (the
    older ones were checked when written), and its uniqueness over the keys those rows hold."""
    settings = gate_2_settings
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        con.execute("create schema staging")
        # c1 repeats in rows at or before position 5: planted, not this build's concern.
        con.execute("create table staging.stg_event_log__clicks as select * from (values "
                    "('c1', 'tok', 4), ('c1', 'tok', 5), ('c2', 'tok', 5), ('c3', 'tok', 6)) "
                    "t(click_id, tracking_token, log_position)")
        built = {"stg_event_log__clicks"}
        assert run_gate_2(con, settings, "build-1", built, FOLDED_SCHEMAS, 5).outcome == "passed"
        # A new row repeating an old key: both rows of the key count.
        con.execute("insert into staging.stg_event_log__clicks values ('c2', 'tok', 6)")
        with pytest.raises(GateFailure, match=r"be_unique\(click_id\) \[critical\] on stg_event_log__clicks: 2 of 2 "):
            run_gate_2(con, settings, "build-2", built, FOLDED_SCHEMAS, 5)
        # Without a last good build every row is checked: the old repeat too.
        with pytest.raises(GateFailure, match=r"be_unique\(click_id\) \[critical\] on stg_event_log__clicks: 4 of 5 "):
            run_gate_2(con, settings, "build-3", built, FOLDED_SCHEMAS, None)


def test_gate_2_fails_on_a_mart_test_checked_nowhere(gate_2_settings: Settings, parsed_manifest: Path):
    """A mart test gate 2 leaves to dbt, but the dbt build did not run: the gate stops the build."""
    from eventlog.errors import ReachloopError

    settings = gate_2_settings
    invocation = json.loads(parsed_manifest.read_text())["metadata"]["invocation_id"]
    ran = [{"unique_id": "test.reachloop.not_null_mart_x_id.0a1b2c", "status": "pass"}]
    run_results = _manifest(settings).parent / "run_results.json"
    run_results.write_text(json.dumps({"metadata": {"invocation_id": invocation}, "args": {"which": "build"},
                                       "results": ran}))
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        with pytest.raises(ReachloopError, match=r"gate 2 cannot check 2 test\(s\).*relationships_fct_engagements_share_id"):
            run_gate_2(con, settings, "build-1")
        # The same build having run them in dbt: nothing is unchecked.
        relationships = [n["unique_id"] for n in json.loads(parsed_manifest.read_text())["nodes"].values()
                         if n["name"].startswith("relationships_")]
        run_results.write_text(json.dumps({"metadata": {"invocation_id": invocation}, "args": {"which": "build"},
                                           "results": ran + [{"unique_id": u} for u in relationships]}))
        assert run_gate_2(con, settings, "build-1").outcome == "passed"


def test_gate_2_without_a_manifest_says_to_build_first(settings: Settings):
    from eventlog.errors import ReachloopError

    with warehouse(settings) as con:
        with pytest.raises(ReachloopError, match=r"no dbt manifest at .*: run the dbt build first") as error:
            run_gate_2(con, settings, "build-1")
    assert "\n" not in str(error.value) and not isinstance(error.value, GateFailure)


def test_gate_2_checks_a_rule_added_to_a_marts_yml_without_python_edits(
    gate_2_settings: Settings, parsed_manifest: Path, tmp_path: Path
):
    """Tests added to mart_engagement_rate's yml, in a copy of the project: an error-severity
    expression fails gate 2 critically, a warn-severity range warns, and a test dbt runs on a
    `where` subset only is checked on that subset (the row it selects breaks it, others would not)."""
    import yaml

    from builds.dbt_build import PROJECT_DIR
    from builds.gates.manifest import mart_rules

    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    yml = project / "models" / "marts" / "advocacy" / "_advocacy__models.yml"
    doc = yaml.safe_load(yml.read_text())
    [mart] = [m for m in doc["models"] if m["name"] == "mart_engagement_rate"]
    mart["data_tests"].append({"expression_is_true": {"arguments": {"expression": "impressions <= 50"}}})
    columns = {c["name"]: c for c in mart["columns"]}
    columns["clicks"].setdefault("data_tests", []).append(
        {"in_range": {"arguments": {"max_value": 2}, "config": {"severity": "warn"}}})
    columns["reactions"].setdefault("data_tests", []).append(
        {"in_range": {"arguments": {"max_value": 0}, "config": {"where": "share_id = 'sh_0'"}}})
    yml.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))

    settings = gate_2_settings
    _parse(settings, project)
    rules = mart_rules(_manifest(settings))["mart_engagement_rate"]
    assert not [why for test, why in rules.left_to_dbt if "reactions" in test]
    with warehouse(settings) as con:
        _marts(con, parsed_manifest)
        with pytest.raises(GateFailure) as failure:
            run_gate_2(con, settings, "build-1")
    report = failure.value.report
    assert sorted(r.describe() for r in report.failures) == [
        "expect_column_values_to_be_between(reactions) [critical] on mart_engagement_rate: "
        '1 of 20 rows unexpected, e.g. {"share_id": "sh_0", "reactions": 2}',
        "unexpected_rows_expectation(impressions <= 50) [critical] on mart_engagement_rate: "
        '20 of 20 rows unexpected, e.g. {"share_id": "sh_0", "impressions": 100}']
    assert [(r.expectation, r.column, r.unexpected_count) for r in report.warnings] == [
        ("expect_column_values_to_be_between", "clicks", 20)]


def test_gate_2_takes_the_attribution_models_from_the_dbt_var_as_dbt_does(
    parsed_manifest: Path, settings: Settings
):
    """accepted_values of `model` names no model: it is var attribution_models, which dbt renders
    as a list in the test's SQL, and gate 2 renders the same way, with the vars the build had."""
    import yaml

    from builds.dbt_build import PROJECT_DIR, invoke_dbt, manifest_path, project_args, target_path
    from builds.gates.manifest import mart_rules

    def models_checked(manifest: Path) -> list:
        rules = mart_rules(manifest)["mart_lead_to_deal_attribution"].rows
        [rule] = [r for r in rules if r.expectation == "ExpectColumnValuesToBeInSet" and r.column == "model"]
        return rule.kwargs["value_set"]

    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["attribution_models"]
    assert models_checked(parsed_manifest) == declared and {"first_touch", "markov"} <= set(declared)
    # A build invoked with other models: dbt's test and gate 2 both check those.
    other = ["first_touch", "u_shaped"]
    select = "test_name:accepted_values,mart_lead_to_deal_attribution"
    assert invoke_dbt(settings, ["compile", *project_args(settings), "--vars", json.dumps({"attribution_models": other}),
                                 "--select", select]).success
    assert models_checked(manifest_path(settings)) == other
    compiled = [p.read_text() for p in (target_path(settings) / "compiled").rglob("accepted_values_mart_lead_to_d*.sql")]
    assert sum("'first_touch','u_shaped'" in sql for sql in compiled) == 1


def test_warnings_are_told_without_gx_as_gx_tells_them(landed: Settings, small_workload: Path, tmp_path: Path):
    """A gate whose checks only warn records its verdicts from the clean readings: in a fresh
    process it never imports GX (nor renders Data Docs), and what it records is what GX says
    of the same frames, field for field (counts, observed values, example rows, per batch)."""
    import subprocess
    import sys

    from builds.gates import frames
    from builds.gates.runner import _readings, _verdicts

    warned = {land(landed, redelivery(small_workload, tmp_path, pattern, tag, edit, key))
              for tag, pattern, edit, key in [
                  ("currency", "deal/*.csv", _currency_spelled_out, "deal_event_id"),
                  ("reach", "share_metrics-2025-04.csv", _reached_more_than_seen, None)]}
    with warehouse(landed) as con:
        gate_frames = frames.gate_1_frames(con, frames.ungated_batches(con))
        assert _readings(gate_frames) is not None  # only warnings: no critical rule breaks

        def told(**kw):
            return sorted(json.dumps(r.__dict__, default=str, sort_keys=True)
                          for r in _verdicts(con, "gate_1", gate_frames, tmp_path / "docs", **kw))

        fast, by_gx = told(), told(use_gx=True)
    assert fast == by_gx and sum('"success": false' in r for r in fast) == 2
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from builds.gates import run_gate_1\n"
        "from eventlog.settings import Settings\n"
        "from eventlog.warehouse import warehouse\n"
        f"settings = Settings(Path({str(landed.home)!r}))\n"
        "with warehouse(settings) as con:\n"
        "    report = run_gate_1(con, settings, 'build-2')\n"
        "print(report.outcome, sorted(b for b, o in report.batches.items() if o == 'warned'),\n"
        "      'great_expectations' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    out = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    assert out.split("\n")[0] == f"warned {sorted(warned)} False", out
    assert not (docs_dir(landed) / "index.html").exists()  # Data Docs are rendered for failures
    with warehouse(landed) as con:
        assert con.execute("select count(*) from meta.gate_results where build_id = 'build-2' "
                           "and not success and severity = 'warning'").fetchone()[0] == 2


def test_a_marts_sort_key_is_a_key_gate_2_holds_every_row_to(parsed_manifest: Path):
    """Publish sorts a mart's Parquet on the narrowest key no two rows can share once gate 2
    has passed: a critical unique combination (nulls count as equal), or a critical unique
    column that is also critically not null; never a key that only warns, has a where, or
    lets nulls repeat."""
    from builds.gates.manifest import MartRules, mart_rules
    from builds.gates.suites import CRITICAL, WARNING, Rule

    def key(*rules: Rule) -> tuple[str, ...] | None:
        return MartRules("m", (), ("a",), rules).sort_key

    unique, not_null = (Rule(e, {"column": "a"}) for e in ("ExpectColumnValuesToBeUnique", "ExpectColumnValuesToNotBeNull"))
    pair = Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["b", "c"], "ignore_row_if": "never"})
    assert key(unique, not_null, pair) == ("a",)  # the narrowest
    assert key(unique, pair) == ("b", "c")  # a unique column may hold several nulls
    assert key(unique, Rule(not_null.expectation, not_null.kwargs, WARNING)) is None
    assert key(Rule(pair.expectation, pair.kwargs, WARNING)) is None
    assert key(Rule(pair.expectation, {**pair.kwargs, "ignore_row_if": "all_values_are_missing"})) is None
    assert key(Rule(pair.expectation, {**pair.kwargs, "where": "b > 0"}, CRITICAL)) is None
    marts = mart_rules(parsed_manifest)
    assert marts["mart_audience_pairs"].sort_key == ("employee_a", "employee_b")
    assert marts["fct_engagements"].sort_key == ("engagement_id",)
    assert [name for name, rules in marts.items() if rules.sort_key is None] == []
