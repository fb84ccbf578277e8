"""The command line helps: progress, quiet logs, quarantined rows, gate failures by file,
status after an operator's decision, an empty home, near-miss event types, closed pipes,
output paths checked first, and the commands `make demo` prints."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builds import steps
from eventlog.settings import Settings
from eventlog.status import log_status
from eventlog.warehouse import warehouse
from reachloop.cli import main
from reachloop.progress import Progress
from tests.helpers import REPO, write_csv

CLI = [sys.executable, "-m", "reachloop.cli"]


def _form_fills(folder: Path, more_bad: int = 0) -> Path:
    """Four form fills: two good, one with a bad timestamp (line 3), one without its id (line 5);
    and more_bad rows with bad timestamps after them."""
    write_csv(folder, "form_fill", [
        dict(submission_id="s1", visitor_id="v1", email="ann@example.com", form_id="f", occurred_at="2026-01-02T10:00:00Z"),
        dict(submission_id="s2", visitor_id="v2", email="bob@example.com", form_id="f", occurred_at="yesterday"),
        dict(submission_id="s3", visitor_id="v3", email="cy@example.com", form_id="f", occurred_at="2026-01-03T10:00:00Z"),
        dict(submission_id="", visitor_id="v4", email="dee@example.com", form_id="f", occurred_at="2026-01-04T10:00:00Z"),
        *(dict(submission_id=f"x{i}", visitor_id="v5", email="eve@example.com", form_id="f", occurred_at="soon")
          for i in range(more_bad)),
    ])
    return folder


def test_quarantine_lists_rows_with_file_line_reason_and_masked_text(settings: Settings, tmp_path: Path, capsys) -> None:
    landing = _form_fills(tmp_path / "landing")
    (landing / "clicks.csv").write_text("click_id\nc1\n")
    # A near miss of an event type is refused with a suggestion; the rest lands.
    assert main(["land", str(landing)]) == 1
    out, err = capsys.readouterr()
    assert "unknown event type 'clicks' (did you mean 'click'?)" in out + err
    assert main(["quarantine"]) == 0
    out = capsys.readouterr().out
    assert "form_fill.csv:3" in out and "form_fill.csv:5" in out
    assert "bob@example.com" not in out and "dee@example.com" not in out  # PII masked
    assert out.strip().endswith("2 quarantined records")
    assert main(["quarantine", "--file", "form_fill.csv", "--reason", "invalid_timestamp", "--json"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["line"] == 3 and record["reason"] == "invalid_timestamp"
    assert record["file"].endswith("landing/form_fill.csv") and record["event_type"] == "form_fill"
    assert "bob@example.com" not in record["raw"] and "yesterday" in record["raw"]
    assert main(["quarantine", "--batch", record["batch_id"], "--limit", "1"]) == 0
    assert "2 quarantined records, showing the first 1" in capsys.readouterr().out
    assert main(["quarantine", "--reason", "nope"]) == 0
    assert "no quarantined records match" in capsys.readouterr().out


def test_a_gate_1_failure_names_the_file_and_status_follows_the_rejection(
    settings: Settings, tmp_path: Path, capsys
) -> None:
    bad = _form_fills(tmp_path / "landing", more_bad=2) / "form_fill.csv"  # 4 of 6 quarantined: critical
    assert main(["land", str(bad)]) == 0
    capsys.readouterr()
    assert main(["build"]) == 1  # gate 1 stops it before dbt
    err = capsys.readouterr().err
    assert "gate 1 failed" in err and f"(file {bad})" in err
    assert not settings.published_duckdb.exists()
    with warehouse(settings, read_only=True) as con:
        gate = log_status(con)["gates"]["gate_1"]
        (batch,) = [b for (b,) in con.execute("select batch_id from meta.batches").fetchall()]
    assert gate["outcome"] == "failed" and {f["file"] for f in gate["failures"]} == {str(bad)}
    assert main(["status"]) == 0
    assert f"(file {bad})" in capsys.readouterr().out
    # The operator rejects the batch; the next build's gate 1 has nothing left to check.
    assert main(["batches", "reject", batch, "--reason", "negative impressions"]) == 0
    outcome = steps.start_build(settings)
    steps.run_gate_1(settings, outcome.build_id)
    with warehouse(settings, read_only=True) as con:
        gate = log_status(con)["gates"]["gate_1"]
    assert gate["outcome"] == "passed" and gate["failures"] == [] and gate["rejected_batches"] == 1


def test_build_with_nothing_landed_says_so_and_publishes_nothing(settings: Settings, capsys) -> None:
    assert main(["build"]) == 1
    assert "nothing landed" in capsys.readouterr().err
    assert not settings.home.exists()  # not even an empty warehouse
    settings.home.mkdir()
    with warehouse(settings):  # a warehouse without a single batch
        pass
    assert main(["build", "--force"]) == 1
    assert "nothing landed" in capsys.readouterr().err
    assert not settings.published.exists()


def test_the_command_line_starts_without_the_libraries_only_some_commands_use() -> None:
    """Every command builds the whole parser: pandas (the planner's report), pyarrow and
    openpyxl (workbook exports) are imported only by the commands that use them, so a build
    with nothing new answers in about a second, not two."""
    script = (
        "import sys\n"
        "from reachloop.cli import parser\n"
        "parser().parse_args(['build'])\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'openpyxl', 'dbt', 'great_expectations')"
        " if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]", run.stdout


def test_a_home_without_a_warehouse_points_at_the_homes_below_it(settings: Settings, tmp_path: Path, capsys,
                                                                  monkeypatch) -> None:
    demo = Settings(settings.home / "demo")
    demo.home.mkdir(parents=True)
    with warehouse(demo):
        pass
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 1
    assert "--home home/demo" in capsys.readouterr().err
    assert main(["--home", str(demo.home), "status"]) == 0


def test_output_paths_are_checked_before_anything_is_written(settings: Settings, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "dir"
    assert main(["report", "--out", str(missing / "x.html")]) == 1
    assert f"folder {missing} does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()
    (tmp_path / "file").write_text("")
    assert main(["generate", "--out", str(tmp_path / "file" / "sub")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(settings: Settings, tmp_path: Path) -> None:
    assert main(["land", str(_form_fills(tmp_path / "landing"))]) == 0
    env = {**os.environ, "REACHLOOP_HOME": str(settings.home)}
    done = subprocess.run(f"{' '.join(CLI)} status --json | head -n 1", shell=True, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "{\n" and done.stderr == "", done.stderr


def test_progress_is_a_bar_on_a_terminal_and_lines_in_a_log(capsys) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    bar = Progress("build", 4, tty)
    for step in steps.STEPS:
        bar.step(step)
    bar.print("a line of output")
    bar.close()
    drawn = tty.getvalue()
    assert "\rbuild [" in drawn.replace("\033[K", "") and "3/4 publish" in drawn
    assert capsys.readouterr().out == "a line of output\n"
    log = io.StringIO()
    lines = Progress("build", 4, log)
    for step in steps.STEPS:
        lines.step(step)
    assert log.getvalue().splitlines() == [
        "build: [1/4] gate 1", "build: [2/4] dbt build", "build: [3/4] gate 2", "build: [4/4] publish"]


def test_library_logs_are_quiet_unless_verbose(tmp_path: Path) -> None:
    code = (
        "import logging, sys\n"
        "from reachloop.cli import configure_logging\n"
        "configure_logging(sys.argv[1] == 'verbose')\n"
        "logging.basicConfig(level=logging.INFO)\n"  # as a library might
        "logging.getLogger('great_expectations.data_context').setLevel(logging.INFO)\n"  # as GX does
        "logging.getLogger('great_expectations.data_context').info('gx noise')\n"
        "logging.getLogger('dbt').info('dbt noise')\n"
        "logging.getLogger('great_expectations').error('a real error')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REACHLOOP_VERBOSE"}
    quiet = subprocess.run([sys.executable, "-c", code, "quiet"], capture_output=True, text=True, env=env)
    loud = subprocess.run([sys.executable, "-c", code, "verbose"], capture_output=True, text=True, env=env)
    assert "noise" not in quiet.stderr and "a real error" in quiet.stderr
    assert "gx noise" in loud.stderr and "dbt noise" in loud.stderr


def test_the_commands_make_demo_prints_work_on_a_published_home(published: Settings, tmp_path: Path) -> None:
    """scripts/demo.sh ends with the commands to run next, each with --home; they work."""
    script = (REPO / "scripts" / "demo.sh").read_text()
    block = script.split("Next, on this demo", 1)[1].split("MSG", 1)[0]
    commands = [line.strip() for line in block.splitlines() if line.strip().startswith("$rl ")]
    assert {c.split()[1] for c in commands} >= {"status", "quarantine", "trace", "report", "docs"}
    with duckdb_read(published) as con:
        deal = con.execute("select deal_id from fct_deals order by touches desc limit 1").fetchone()[0]
    copy_out = tmp_path / "report.html"
    for command in commands:
        if command.split()[1] == "docs":
            continue  # dbt docs generate writes into the home: the shared build is read-only here
        line = (command.replace("$rl", f"{REPO}/.venv/bin/reachloop --home {published.home}")
                .replace("${deal:-DEAL_ID}", deal)
                .replace("$REACHLOOP_HOME/report.html", str(copy_out)))
        assert "$" not in line, line
        done = subprocess.run(line.split(), capture_output=True, text=True, timeout=300,
                              env={k: v for k, v in os.environ.items() if k != "REACHLOOP_HOME"})
        assert done.returncode == 0, (line, done.stderr[-2000:])
    assert copy_out.exists()


def duckdb_read(settings: Settings):
    import duckdb

    return duckdb.connect(str(settings.published_duckdb), read_only=True)


@pytest.fixture(autouse=True)
def _no_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REACHLOOP_VERBOSE", raising=False)


def test_generate_deliveries_writes_the_layout_the_landing_dags_read(settings: Settings, tmp_path: Path,
                                                                    capsys) -> None:
    from datetime import date

    from ingestion.deliveries import SOURCE_FAMILIES, land_interval

    out = tmp_path / "sample"
    assert main(["generate", "--scale", "0.01", "--out", str(out), "--deliveries",
                 "--delivery-date", "2026-03-01"]) == 0
    assert "REACHLOOP_LANDING=" in capsys.readouterr().out
    landed = {}
    for family in SOURCE_FAMILIES:  # what each landing DAG's run for 2026-03-01 does
        results = land_interval(settings, family, date(2026, 3, 1), date(2026, 3, 2), landing=out / "deliveries")
        landed[family] = sum(r.status == "landed" for r in results)
        assert not land_interval(settings, family, date(2026, 3, 2), date(2026, 3, 3), landing=out / "deliveries")
    assert all(landed[f] for f in ("advocacy", "web", "marketing", "crm", "people")), landed
    assert sum(landed.values()) == sum(1 for p in (out / "landing").rglob("*") if p.is_file())
