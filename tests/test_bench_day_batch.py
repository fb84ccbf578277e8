"""python -m bench.day_batch: one day's delivery of a generated year, as a command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from eventlog.contract import EVENT_TYPES, TIMESTAMP

REPO = Path(__file__).resolve().parent.parent


def test_day_batch_runs_as_a_command(small_workload: Path, tmp_path: Path) -> None:
    out = tmp_path / "day"
    proc = subprocess.run([sys.executable, "-m", "bench.day_batch", str(small_workload / "landing"), str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = json.loads(proc.stdout)
    assert sum(counts.values()) > 0
    for name, rows in counts.items():
        path = out / f"{name}-2026-01-01.csv"
        if not rows:
            assert not path.exists()
            continue
        with path.open() as f:
            records = list(csv.DictReader(f))
        assert len(records) == rows, name
        # every event moved to the next day; ids that identify an event are new
        assert all("2026-01-01" in " ".join(r.values()) for r in records), name
        if name == "click":
            assert all(r["click_id"].endswith("-next") for r in records)
    missing = subprocess.run([sys.executable, "-m", "bench.day_batch", str(tmp_path / "nowhere"), str(out)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no landing folder" in missing.stderr


def test_one_row_per_type_batch_is_the_first_rows_of_its_day(small_workload: Path, tmp_path: Path) -> None:
    """--rows-per-type N: the day's first N rows of each event type it has, and no other."""
    landing = small_workload / "landing"

    def batch(name: str, *flags: str) -> dict[str, int]:
        proc = subprocess.run([sys.executable, "-m", "bench.day_batch", str(landing), str(tmp_path / name), *flags],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)

    whole, one = batch("whole"), batch("one", "--rows-per-type", "1")
    assert one == {name: min(rows, 1) for name, rows in whole.items()}
    busiest = max(whole, key=whole.get)
    assert whole[busiest] > 1
    when = [f.name for f in EVENT_TYPES[busiest].fields if f.type == TIMESTAMP][-1]
    rows = list(csv.DictReader((tmp_path / "whole" / f"{busiest}-2026-01-01.csv").open()))
    kept = list(csv.DictReader((tmp_path / "one" / f"{busiest}-2026-01-01.csv").open()))
    assert kept == [min(rows, key=lambda r: r[when])]
