"""Readers' side of the publication: BI-style SQL access while the pipeline publishes, and the
Parquet exports read with pyarrow and polars, on the session's published build (conftest.py
``published``, shared with test_report.py and test_docs_sql.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from sqlalchemy import create_engine, text

from eventlog.settings import Settings
from tests.helpers import TEST_PII_KEY

pytestmark = pytest.mark.slow

def engine_for(path: Path):
    """How Superset and similar tools connect: SQLAlchemy + duckdb_engine, read-only."""
    return create_engine(f"duckdb:///{path}", connect_args={"read_only": True})


def mart_names(path: Path) -> list[str]:
    engine = engine_for(path)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_name not like '\\_%' escape '\\' order by 1"
            ))]
    finally:
        engine.dispose()


def test_every_public_mart_is_published(published: Settings) -> None:
    names = set(mart_names(published.published_duckdb))
    for mart in ("mart_reach_vs_network", "mart_engagement_rate", "mart_engagement_bubble",
                 "mart_bubble_overlap", "mart_audience_pairs", "mart_lead_to_deal_attribution",
                 "fct_deal_journey"):
        assert mart in names


def test_bi_reads_every_mart_while_a_build_publishes(published: Settings, tmp_path: Path) -> None:
    """A second ``reachloop build`` runs in a subprocess; meanwhile a BI-style reader opens the
    published file read-only through SQLAlchemy again and again and reads every mart in full:
    no read may fail, and each mart's count matches the rows fetched. The build runs on a copy
    of the shared home, so other tests reading it are not disturbed."""
    shared = published
    published = Settings(tmp_path / "home")
    shutil.copytree(shared.home, published.home, symlinks=True,
                    ignore=shutil.ignore_patterns("dbt", "gx", "report.*", "*.wal"))
    marts = mart_names(published.published_duckdb)
    env = {**os.environ, "REACHLOOP_HOME": str(published.home), "REACHLOOP_PII_KEY": TEST_PII_KEY}
    before = (published.published / "parquet").resolve()
    build = subprocess.Popen(
        [sys.executable, "-m", "reachloop.cli", "build", "--force"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    rounds, errors = 0, []
    try:
        while build.poll() is None or rounds < 2:
            engine = engine_for(published.published_duckdb)  # a new connection, as a dashboard refresh does
            try:
                with engine.connect() as conn:
                    version = conn.execute(text("select version from _publication")).scalar_one()
                    assert version
                    for mart in marts:
                        n = conn.execute(text(f'select count(*) from "{mart}"')).scalar_one()
                        rows = conn.execute(text(f'select * from "{mart}"')).fetchall()
                        assert len(rows) == n, mart
            except Exception as exc:  # noqa: BLE001 — collect, then fail with all of them
                errors.append(f"round {rounds}: {type(exc).__name__}: {exc}")
            finally:
                engine.dispose()
            rounds += 1
            time.sleep(0.05)
        output = build.communicate(timeout=300)[0]
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, output
    # Not a terminal: one progress line per step, and no library log noise.
    for n, step in enumerate(("gate 1", "dbt build", "gate 2", "publish"), start=1):
        assert f"build: [{n}/4] {step}\n" in output, output
    assert "great_expectations" not in output and "INFO" not in output, output
    assert not errors, errors[:3]
    assert rounds >= 3, f"only {rounds} read rounds ran during the build"
    assert (published.published / "parquet").resolve() != before, "the build did not publish a new version"
    # After the swap, the reader sees the new version and every mart again.
    assert set(mart_names(published.published_duckdb)) == set(marts)


def test_parquet_marts_read_with_pyarrow_and_polars(published: Settings) -> None:
    import polars as pl

    root = published.published_parquet
    engine = engine_for(published.published_duckdb)
    with engine.connect() as conn:
        counts = {m: conn.execute(text(f'select count(*) from "{m}"')).scalar_one()
                  for m in mart_names(published.published_duckdb)}
    engine.dispose()
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert set(folders) >= set(counts), set(counts) - set(folders)
    for mart, n in counts.items():
        table = ds.dataset(root / mart, format="parquet", partitioning="hive").to_table()
        assert table.num_rows == n, mart
        frame = pl.scan_parquet(str(root / mart / "**" / "*.parquet"), hive_partitioning=True).collect()
        assert frame.height == n, mart
        assert set(table.column_names) == set(frame.columns), mart
    # Types survive the trip: reach ratios are floats, timestamps are timezone-aware.
    reach = pl.read_parquet(root / "mart_reach_vs_network" / "**" / "*.parquet")
    assert reach.schema["reach_ratio"] == pl.Float64
    assert reach.schema["posted_at"].time_zone is not None


def test_a_build_with_nothing_new_says_so_and_publishes_nothing(
    published: Settings, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """reachloop build after a successful build, with no new batch, decision or model change:
    one line, exit 0, the publication untouched; --force builds anyway."""
    from reachloop.cli import main

    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True,
                    ignore=shutil.ignore_patterns("dbt", "gx", "report.*", "*.wal"))
    before = os.readlink(home / "published" / "current")
    started = time.perf_counter()
    assert main(["--home", str(home), "build"]) == 0
    assert time.perf_counter() - started < 3
    assert capsys.readouterr().out.startswith("build skipped: nothing changed since build ")
    assert os.readlink(home / "published" / "current") == before
