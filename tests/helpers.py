"""Scenarios and checks that several test modules share (test modules never import each other)."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path


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


def tree_digest(root: Path) -> dict[str, str]:
    """Every file reachable under root (following the parquet symlink), with its sha256."""
    out = {}
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
