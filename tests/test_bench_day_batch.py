"""python -m bench.day_batch: one day's delivery of a generated year, as a command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

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
