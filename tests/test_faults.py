"""Faults beyond kills: a full disk while landing and publishing, a damaged warehouse or
publication. The trials are bench/reliability.py's (which prints the docs' figures); here a
few of each, on real tmpfs mounts (root needed: skipped with the reason otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import reliability as rel
from builds import publish as pub
from eventlog.settings import Settings
from eventlog.warehouse import warehouse

DAMAGE = "is damaged"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> rel.Workload:
    """SF0.05 in two deliveries: a home with the first landed, and one with both."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACHLOOP_PII_KEY", "test-key-for-pytest-only")
        mp.delenv("REACHLOOP_HOME", raising=False)
        return rel.prepare_workload(tmp_path_factory.mktemp("faults"), rel.run_in_process, scale=0.02)


def _mountable(tmp_path: Path) -> None:
    try:
        with rel.small_disk(tmp_path / "probe", "1m"):
            pass
    except rel.CannotMount as exc:
        pytest.skip(f"{exc}: the disk-full trials need to mount a small tmpfs (run as root, as CI does)")


def _clear(trial: rel.Trial, *words: str) -> None:
    assert trial.clear_error, trial.message
    for w in words:
        assert w in trial.message.lower(), trial.message


# 0 bytes: the first file's commit fails; 512 KiB: some files land, then a later one's WAL write
# (or the checkpoint as the run closes) runs out.
@pytest.mark.parametrize("leave", [0, 512 << 10])
def test_a_full_disk_while_landing_keeps_the_log_and_says_so(work, tmp_path, monkeypatch, leave) -> None:
    _mountable(tmp_path)
    monkeypatch.setenv("REACHLOOP_PII_KEY", "test-key-for-pytest-only")
    trial = rel.disk_full_landing(work, tmp_path, leave, rel.run_in_process)
    _clear(trial, "disk full", "no space left", str(tmp_path / f"land-{leave}" / "home"), "run it again")
    # Nothing that was there is gone, nothing half-landed or doubled, and the same delivery
    # landed again once there is room gives exactly the reference log and ledger.
    assert (trial.rows_lost, trial.rows_doubled) == (0, 0), trial.notes
    assert trial.recovered, trial.notes


def _marts_home(root: Path) -> Settings:
    settings = Settings(root / "home")
    with warehouse(settings) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.fct_engagements as
               select 'e_' || i as engagement_id, md5(i::varchar) as detail,
                      timestamptz '2025-01-01' + to_days(cast(i % 90 as integer)) as occurred_at
               from range(60000) t(i)"""
        )
        con.execute("create table marts.mart_small as select i as n from range(50) t(i)")
    return settings


@pytest.mark.parametrize(
    "case, leave, spare_inodes",
    [
        ("nothing free", 0, None),  # the new DuckDB file
        ("some free", 1 << 20, None),  # part-way through the version
    ],
)
def test_a_full_disk_while_publishing_leaves_the_publication_byte_for_byte(
    tmp_path, case, leave, spare_inodes
) -> None:
    _mountable(tmp_path)
    settings = _marts_home(tmp_path)
    trial = rel.disk_full_publish(settings, tmp_path, case, leave, spare_inodes, size="32m")
    _clear(trial, "disk full", str(settings.published))
    assert not trial.published_changed, trial.notes  # current and the versions as they were
    assert (trial.rows_lost, trial.rows_doubled) == (0, 0) and trial.recovered


def test_a_failed_swap_names_the_link_and_leaves_no_version_behind(tmp_path) -> None:
    _mountable(tmp_path)
    settings = _marts_home(tmp_path)
    # Every file of the new version written, the new `current` link refused (no inode left).
    trial = rel.disk_full_publish(settings, tmp_path, "swap", 32 << 20, 0, size="32m")
    assert ".current.swap" in trial.message and trial.notes == ["failed in the swap"], trial.notes
    assert not list((settings.published / pub.VERSIONS).glob(".tmp-*"))


@pytest.mark.parametrize("how", ["cut:0", "cut:12288", "cut:-1", "cut:-262144", "flip:4106"])
def test_a_damaged_warehouse_is_said_by_every_command(work, tmp_path, monkeypatch, how) -> None:
    monkeypatch.setenv("REACHLOOP_PII_KEY", "test-key-for-pytest-only")
    trials = rel.damaged_warehouse(work.base, tmp_path, how, work.second, rel.run_in_process)
    for trial in trials:
        # One line: the file, that it is damaged, how to recover; no traceback, no empty result.
        _clear(trial, DAMAGE, "warehouse.duckdb", "restore it from a backup", "retained deliveries")
        assert trial.message.count("\n") <= 1, trial.message  # at most the build's first progress line


def test_a_flipped_block_of_the_log_is_said_when_read(work, tmp_path, monkeypatch) -> None:
    """A flipped byte inside a data block is found by its checksum when a command reads that
    block: landing more of its event type does (status, which reads only the ledger, does not)."""
    monkeypatch.setenv("REACHLOOP_PII_KEY", "test-key-for-pytest-only")
    offset = rel.raw_block_offset(work.base / "warehouse.duckdb", "raw.share")
    [trial] = rel.damaged_warehouse(
        work.base, tmp_path, f"flip:{offset}", work.second, rel.run_in_process, commands=(("land", "{delivery}"),)
    )
    _clear(trial, DAMAGE, "checksum")


@pytest.mark.parametrize("how", ["cut:-1", "cut:100"])
def test_a_damaged_publication_is_said_by_its_readers(tmp_path, monkeypatch, how) -> None:
    settings = _marts_home(tmp_path)
    pub.publish(settings, settings.published)
    shutil.rmtree(settings.home / "warehouse.duckdb", ignore_errors=True)
    target = settings.published_duckdb.resolve()
    target.chmod(0o644)
    rel.damage(target, how)
    for argv in (["report", "--out", str(tmp_path / "r.html")], ["trace", "d1"]):
        code, _, err = rel.run_in_process(["--home", str(settings.home), *argv])
        trial = rel.Trial("damaged publication", how, code, err.strip())
        _clear(trial, DAMAGE, "reachloop.duckdb", "reachloop build --force")
