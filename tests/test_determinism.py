"""The same log publishes the same bytes: a second home holding a copy of the published
build's log builds from scratch, and every Parquet file it publishes equals the first's byte
for byte (row order and floating-point sums included, see builds/publish.py and the
exact_sum macro)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from builds.steps import build
from eventlog.settings import Settings
from tests.helpers import environ


def _parquet_digests(parquet: Path) -> dict[str, str]:
    base = parquet.resolve()
    return {
        str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(base.rglob("*.parquet"))
    }


def test_same_log_publishes_identical_parquet(published: Settings, tmp_path: Path) -> None:
    home = tmp_path / "home"
    # The log and its bookkeeping, not the publication: nothing can be carried over.
    shutil.copytree(published.home, home, symlinks=True,
                    ignore=shutil.ignore_patterns("published", "as_of", "status.json"))
    again = Settings(home)
    with environ(REACHLOOP_HOME=str(home)):
        outcome = build(again, full_refresh=True)
    assert outcome.status == "succeeded"
    first, second = _parquet_digests(published.published_parquet), _parquet_digests(again.published_parquet)
    assert len(first) >= 20 and first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
