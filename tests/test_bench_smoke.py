"""The benchmark harness keeps working: a smoke run at SF0.01 (generate, land, the DuckDB
floor, a dbt run of the checked marts, the pandas peer and its check against our marts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scales", "0.01", "--smoke", "--work", str(tmp_path / "work"),
         "--out", str(out), "--markdown", str(tmp_path / "BENCHMARKS.md")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((out / "latest.json").read_text())
    assert result["machine"]["cores"] >= 1 and result["machine"]["duckdb"]
    scale = result["scales"]["0.01"]
    stages = scale["stages"]
    for name in ("generate", "land", "floor.land", "build.smoke", "peer"):
        m = stages[name]
        assert m["returncode"] == 0 and m["wall_s"] > 0 and m["cpu_s"] > 0 and m["max_rss_mb"] > 10, name
    assert stages["land"]["rows"] == scale["info"]["rows_in_files"]
    assert 0 < stages["floor.land"]["rows"] <= stages["land"]["rows"]
    # the peer computes the same numbers as our marts
    check = scale["info"]["peer_check"]
    assert set(check) == {"mart_reach_vs_network", "mart_engagement_rate", "mart_engagement_bubble",
                          "mart_bubble_overlap", "attribution"}
    assert all(r["ok"] and r["matched"] > 0 for r in check.values()), json.dumps(check, indent=1)[:3000]
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "bench:begin" in text and "| land |" in text and "python -m bench.run" in text
