"""Fault trials: what a full disk, a damaged file or a killed process does to the log and the
published output, counted (docs/operators.md, "Reliability").

    python -m bench.reliability [--work DIR] [--json FILE]

Needs root (or CAP_SYS_ADMIN) for the small tmpfs the disk-full trials fill. Each trial
compares against a reference landed and published without faults:

    disk full, landing   the home on a small tmpfs, filled to leave a few bytes to a few MiB
                         free, so a second delivery's landing fails at different files and
                         moments (WAL writes, commit, the status snapshot); then space is freed
                         and the same delivery landed again
    disk full, publish   published/ on a small tmpfs, filled so that the Parquet, the DuckDB
                         file, the manifest or (inodes) the swap runs out; then publish again
    damaged warehouse    a copy cut at several offsets or with bytes flipped in a header or a
                         block of the log; every command run against it
    damaged publication  the published DuckDB file cut short, read by report and trace
    killed landing       `reachloop land` killed (SIGKILL) at random moments, then run again

Rows lost / doubled are counted per (event key, content hash) of every raw table, against the
reference; "published changed" compares the bytes of every file under published/current.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from eventlog.settings import HOME_ENV, PII_KEY_ENV, Settings

# A command line run: argv after `reachloop` → (exit status, stdout, stderr).
Runner = Callable[[list[str]], tuple[int, str, str]]


def run_process(argv: list[str]) -> tuple[int, str, str]:
    """`reachloop ARGV` as its own process (what an operator or a scheduler runs)."""
    proc = subprocess.run([sys.executable, "-m", "reachloop.cli", *argv], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """The same command in this process (the test suite's cheaper way)."""
    from reachloop.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@dataclass
class Trial:
    fault: str
    case: str
    exit_status: int
    message: str
    rows_lost: int = 0
    rows_doubled: int = 0
    published_changed: bool = False
    recovered: bool = True  # the next run after the fault was cleared gave the reference
    notes: list[str] = field(default_factory=list)

    @property
    def clear_error(self) -> bool:
        """Exit non-zero with the error on one line (after a build's progress lines, if any),
        no traceback."""
        lines = self.message.strip().splitlines()
        if self.exit_status == 0 or not lines or "Traceback" in self.message:
            return False
        return all(line.startswith("build: [") for line in lines[:-1])


# --- a small disk ------------------------------------------------------------------------


class CannotMount(RuntimeError):
    """No permission to mount a tmpfs here (not root, or in a container without CAP_SYS_ADMIN)."""


@contextmanager
def small_disk(where: Path, size: str, inodes: int | None = None) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. 16m) mounted at ``where`` for the block, unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode:
        raise CannotMount(f"cannot mount a tmpfs at {where}: {mounted.stderr.strip() or 'not permitted'}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave_bytes: int = 0, leave_inodes: int | None = None) -> list[Path]:
    """Fill the file system under ``disk`` until ``leave_bytes`` (and ``leave_inodes``) are left;
    returns the filler files (delete them to free the space)."""
    made = []
    st = os.statvfs(disk)
    space = st.f_bavail * st.f_frsize - leave_bytes
    if space > 0:
        filler = disk / ".filler"
        with filler.open("wb") as fh:
            fh.truncate(0)
            chunk = b"\0" * (1 << 20)
            while space > 0:
                space -= fh.write(chunk[: min(len(chunk), space)])
        made.append(filler)
    if leave_inodes is not None:
        folder = disk / ".inodes"
        folder.mkdir(exist_ok=True)
        made.append(folder)
        for i in range(max(os.statvfs(disk).f_favail - leave_inodes, 0)):
            (folder / str(i)).touch()
    return made


def free(made: list[Path]) -> None:
    for p in made:
        shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)


# --- what the log and the publication hold ------------------------------------------------


def log_difference(got: Path, want: Path) -> tuple[int, int]:
    """(rows lost, rows doubled) of ``got``'s event log against ``want``'s: per raw table, each
    (event_key, content_hash) counted in both. Either may be a home."""
    got, want = (p / "warehouse.duckdb" if p.is_dir() else p for p in (got, want))
    lost = doubled = 0
    with duckdb.connect() as con:
        con.execute(f"attach '{got}' as got (read_only)")
        con.execute(f"attach '{want}' as want (read_only)")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'want' and schema_name = 'raw'"
        ).fetchall()]
        for t in tables:
            row = con.execute(
                f"""
                with g as (select event_key, content_hash, count(*) n from got.raw."{t}" group by all),
                     w as (select event_key, content_hash, count(*) n from want.raw."{t}" group by all)
                select coalesce(sum(greatest(coalesce(w.n, 0) - coalesce(g.n, 0), 0)), 0),
                       coalesce(sum(greatest(coalesce(g.n, 0) - coalesce(w.n, 0), 0)), 0)
                from g full join w using (event_key, content_hash)
                """
            ).fetchone()
            lost, doubled = lost + int(row[0]), doubled + int(row[1])
    return lost, doubled


def broken_batches(warehouse: Path) -> list[str]:
    """Ledger rows whose raw rows are not all there (or more than there): half-landed files."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
        broken = []
        for batch_id, et, landed in con.execute(
            "select batch_id, event_type, rows_landed from meta.batches").fetchall():
            if et in tables:
                sql = f'select count(*) from raw."{et}" where batch_id = ?'
                if con.execute(sql, [batch_id]).fetchone()[0] != landed:
                    broken.append(batch_id)
        return broken


def tree_digest(root: Path) -> dict[str, str]:
    """Every file reachable under root (symlinks followed), with its sha256."""
    out = {}
    if not root.exists():
        return out
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# --- the workload -------------------------------------------------------------------------


@dataclass
class Workload:
    """A generated company's landing files split in two deliveries, and a reference home with
    the first landed (``base``) and one with both (``full``)."""

    first: Path
    second: Path
    base: Path
    full: Path


def prepare_workload(root: Path, run: Runner, scale: float = 0.05, seed: int = 7) -> Workload:
    from generator import generate

    generate(scale, seed, root / "generated")
    files = sorted(p for p in (root / "generated" / "landing").rglob("*") if p.is_file())
    first, second = root / "first", root / "second"
    for i, p in enumerate(files):
        target = (first if i % 2 == 0 else second) / p.relative_to(root / "generated" / "landing")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)
    base, full = root / "base", root / "full"
    for home, delivery in ((base, first), (full, second)):
        if home == full:
            shutil.copytree(base, full)
        code, _, err = run(["--home", str(home), "land", str(delivery)])
        if code:
            raise RuntimeError(f"landing the reference {delivery} failed: {err}")
    return Workload(first, second, base, full)


# --- trials -------------------------------------------------------------------------------


def disk_full_landing(work: Workload, scratch: Path, leave_bytes: int, run: Runner) -> Trial:
    """Land the second delivery into a home (the first landed) on a tmpfs with ``leave_bytes``
    free; check it, free the space, land it again, compare with the reference."""
    mount = scratch / f"land-{leave_bytes}"
    with small_disk(mount, "48m"):
        home = mount / "home"
        home.mkdir()
        shutil.copy(work.base / "warehouse.duckdb", home / "warehouse.duckdb")
        filler = fill(mount, leave_bytes)
        code, out, err = run(["--home", str(home), "land", str(work.second)])
        trial = Trial("disk full, landing", f"{_size(leave_bytes)} free", code, err.strip())
        # Whatever landed before the disk ran out landed whole; nothing that was there is gone.
        trial.rows_lost = log_difference(home / "warehouse.duckdb", work.base)[0]
        trial.rows_doubled = log_difference(home / "warehouse.duckdb", work.full)[1]
        landed_first = sum(line.startswith("landed") for line in out.splitlines())
        trial.notes.append(f"{landed_first} files landed before")
        if broken := broken_batches(home / "warehouse.duckdb"):
            trial.notes.append(f"half-landed batches: {broken}")
            trial.rows_doubled += len(broken)
        free(filler)
        code2, _, err2 = run(["--home", str(home), "land", str(work.second)])
        lost2, doubled2 = log_difference(home / "warehouse.duckdb", work.full)
        trial.rows_lost += lost2
        trial.rows_doubled += doubled2
        trial.recovered = code2 == 0 and (lost2, doubled2) == (0, 0) and _ledger(home) == _ledger(work.full)
        if code2:
            trial.notes.append(f"land after freeing space: {err2.strip()}")
    return trial


def _ledger(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select batch_id, file_sha256, rows_read, rows_landed, rows_duplicate, rows_quarantined"
            " from meta.batches order by batch_id"
        ).fetchall()


def _size(n: int) -> str:
    return f"{n // 1024:,} KiB" if n < 1 << 20 else f"{n / (1 << 20):g} MiB"


def published_rows(destination: Path) -> dict[str, int]:
    from builds.publish import published_marts

    return published_marts(destination)


def disk_full_publish(
    settings: Settings, scratch: Path, case: str, leave_bytes: int = 0, spare_inodes: int | None = None,
    size: str = "64m",
) -> Trial:
    """Publish a home's marts to a published/ on a tmpfs (once, fitting), fill it, publish again:
    the first must stay current byte for byte; then free the space and publish once more.
    ``spare_inodes``: leave only as many inodes as a version's files need, plus this many (0:
    everything is written but the swap's new link)."""
    from builds.publish import VERSIONS, publish
    from eventlog.faults import DiskFull

    dest = settings.published
    with small_disk(dest, size, inodes=None if spare_inodes is None else 4096):
        publish(settings, dest, build_id="before")
        before = tree_digest(dest / "current")
        versions = sorted(p.name for p in (dest / VERSIONS).iterdir())
        need = 1 + sum(1 for _ in (dest / VERSIONS / versions[-1]).rglob("*"))
        filler = fill(dest, leave_bytes, None if spare_inodes is None else need + spare_inodes)
        try:
            publish(settings, dest, build_id="during")
            trial = Trial("disk full, publish", case, 0, "published: the disk was not full enough")
        except DiskFull as exc:
            trial = Trial("disk full, publish", case, 1, str(exc))
            trial.notes.append(f"failed in {_step_of(exc)}")
        trial.published_changed = tree_digest(dest / "current") != before
        left = sorted(p.name for p in (dest / VERSIONS).iterdir())
        if left != versions:
            trial.notes.append(f"left behind: {sorted(set(left) - set(versions))}")
            trial.published_changed = True
        free(filler)
        publish(settings, dest, build_id="after")
        lost, doubled = _published_difference(settings, dest)
        trial.rows_lost, trial.rows_doubled = lost, doubled
        trial.recovered = (lost, doubled) == (0, 0)
    return trial


def _step_of(exc: BaseException) -> str:
    """Which write ran out of space, from the error's cause (for the table's notes)."""
    cause = str(exc.__cause__ or exc)
    for words, step in ((".parquet", "a Parquet write"), (".wal", "the DuckDB file's WAL"),
                        ("reachloop.duckdb", "the DuckDB file"), ("publication.json", "the manifest"),
                        (".swap", "the swap"), ("symlink", "the swap")):
        if words in cause:
            return step
    return cause.splitlines()[0][:80]


def _published_difference(settings: Settings, dest: Path) -> tuple[int, int]:
    """(rows lost, rows doubled) of the current publication's marts against the warehouse's."""
    from builds.dbt_build import MARTS_SCHEMA
    from builds.publish import DUCKDB_NAME

    lost = doubled = 0
    with duckdb.connect() as con:
        con.execute(f"attach '{settings.warehouse}' as w (read_only)")
        con.execute(f"attach '{dest / DUCKDB_NAME}' as p (read_only)")
        marts = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'w' and schema_name = ?",
            [MARTS_SCHEMA]).fetchall()]
        for m in marts:
            row = con.execute(
                f"""
                with a as (select hash(t) h, count(*) n from p.main."{m}" t group by all),
                     b as (select hash(t) h, count(*) n from w.{MARTS_SCHEMA}."{m}" t group by all)
                select coalesce(sum(greatest(coalesce(b.n, 0) - coalesce(a.n, 0), 0)), 0),
                       coalesce(sum(greatest(coalesce(a.n, 0) - coalesce(b.n, 0), 0)), 0)
                from a full join b using (h)
                """
            ).fetchone()
            lost, doubled = lost + int(row[0]), doubled + int(row[1])
    return lost, doubled


DAMAGED_COMMANDS = (("status",), ("quarantine",), ("batches", "list"), ("land", "{delivery}"), ("build",))


def damage(path: Path, how: str) -> None:
    """Cut the file at an offset (``cut:N``, ``cut:-N`` from the end) or flip 64 bytes at one
    (``flip:N``)."""
    kind, where = how.split(":")
    size = path.stat().st_size
    offset = int(where) if int(where) >= 0 else size + int(where)
    if kind == "cut":
        os.truncate(path, offset)
    else:
        with path.open("r+b") as fh:
            fh.seek(offset)
            data = fh.read(64)
            fh.seek(offset)
            fh.write(bytes(b ^ 0xFF for b in data))


def raw_block_offset(warehouse: Path, table: str = "raw.share") -> int:
    """Where a block of the log's data starts in the file (to flip bytes of real events)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        block = con.execute(
            f"select min(block_id) from pragma_storage_info('{table}') where persistent and block_id >= 0"
        ).fetchone()[0]
        size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
    return 3 * 4096 + block * size + 4096


def damaged_warehouse(
    source_home: Path, scratch: Path, how: str, delivery: Path, run: Runner,
    commands: tuple[tuple[str, ...], ...] = DAMAGED_COMMANDS,
) -> list[Trial]:
    """Every command against a damaged copy of a home's warehouse: one trial per command."""
    trials = []
    for command in commands:
        home = scratch / f"damaged-{how.replace(':', '')}-{command[0]}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(source_home / "warehouse.duckdb", home / "warehouse.duckdb")
        damage(home / "warehouse.duckdb", how)
        argv = [a.format(delivery=delivery) for a in command]
        code, _, err = run(["--home", str(home), *argv])
        # A flipped byte inside a data block is only seen by the commands that read that block.
        fault = "damaged warehouse, data block" if how.startswith("flip:") and int(how[5:]) > 12288 \
            else "damaged warehouse"
        trials.append(Trial(fault, f"{how}: {' '.join(command)}", code, err.strip()))
    return trials


def killed_landing(work: Workload, scratch: Path, trials: int, seed: int = 1) -> list[Trial]:
    """`reachloop land` of the second delivery killed with SIGKILL after a random delay, then
    run again to the end; the log compared with the reference."""
    rng = random.Random(seed)
    # How long an unkilled landing takes, to spread the kills over it.
    home = scratch / "kill-timing"
    shutil.copytree(work.base, home)
    started = time.monotonic()
    run_process(["--home", str(home), "land", str(work.second)])
    span = time.monotonic() - started
    out = []
    for i in range(trials):
        home = scratch / f"kill-{i}"
        shutil.copytree(work.base, home)
        delay = rng.uniform(0.1, span)
        proc = subprocess.Popen([sys.executable, "-m", "reachloop.cli", "--home", str(home), "land",
                                 str(work.second)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        trial = Trial("killed landing", f"SIGKILL after {delay:.1f}s", -9 if killed else proc.returncode,
                      "killed" if killed else "finished before the kill")
        broken = broken_batches(home / "warehouse.duckdb")
        code, _, err = run_process(["--home", str(home), "land", str(work.second)])
        lost, doubled = log_difference(home / "warehouse.duckdb", work.full)
        trial.rows_lost, trial.rows_doubled = lost, doubled + len(broken)
        trial.recovered = code == 0 and _ledger(home) == _ledger(work.full)
        if broken:
            trial.notes.append(f"half-landed after the kill: {broken}")
        out.append(trial)
        shutil.rmtree(home, ignore_errors=True)
    return out


# --- the run ------------------------------------------------------------------------------

LANDING_FREE = (0, 16 << 10, 64 << 10, 256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20)
PUBLISH_CASES = (
    ("nothing free", 0, None),
    ("64 KiB free", 64 << 10, None),
    ("2 MiB free", 2 << 20, None),
    ("8 MiB free", 8 << 20, None),
    ("9 MiB free", 9 << 20, None),
    ("10 MiB free", 10 << 20, None),
    ("no inode for the swap", 64 << 20, 0),
    ("one inode short", 64 << 20, -1),
)
CUTS = ("cut:0", "cut:100", "cut:4096", "cut:12288", "cut:-1", "cut:-262144", "flip:4106", "flip:8202")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.split("\n")[0])
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    p.add_argument("--kills", type=int, default=16, help="killed-landing trials (default 16)")
    p.add_argument("--json", type=Path, help="also write every trial as JSON here")
    args = p.parse_args(argv)
    os.environ.setdefault(PII_KEY_ENV, "reliability-trials-key")
    os.environ.pop(HOME_ENV, None)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        root = Path(tmp)
        work = prepare_workload(root / "workload", run_process)
        trials: list[Trial] = []
        for leave in LANDING_FREE:
            trials.append(disk_full_landing(work, root, leave, run_process))
            _say(trials[-1])
        built = Settings(root / "built")
        shutil.copytree(work.full, built.home)
        code, _, err = run_process(["--home", str(built.home), "build"])
        if code:
            raise RuntimeError(f"the reference build failed: {err}")
        shutil.rmtree(built.published)
        for case, leave, inodes in PUBLISH_CASES:
            trials.append(disk_full_publish(built, root, case, leave, inodes))
            _say(trials[-1])
        offset = raw_block_offset(work.base / "warehouse.duckdb")
        for how in (*CUTS, f"flip:{offset}"):
            # The home with only the first delivery: landing the second reads the log's blocks.
            for t in damaged_warehouse(work.base, root, how, work.second, run_process):
                trials.append(t)
                _say(t)
        for t in killed_landing(work, root, args.kills):
            trials.append(t)
            _say(t)
    print()
    print(table(trials))
    if args.json:
        records = [asdict(t) | {"clear_error": t.clear_error} for t in trials]
        args.json.write_text(json.dumps(records, indent=2))
    return 0


def _say(t: Trial) -> None:
    print(f"{t.fault:22} {t.case:40} exit {t.exit_status:3} lost {t.rows_lost} doubled {t.rows_doubled}"
          f" published changed {t.published_changed} recovered {t.recovered}  {t.message[:160]}"
          + (f"  [{'; '.join(t.notes)}]" if t.notes else ""), flush=True)


def table(trials: list[Trial]) -> str:
    """The docs' table: one row per fault."""
    rows = [
        "| fault | trials | clear error | rows lost | rows doubled | published output changed | recovered |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fault in dict.fromkeys(t.fault for t in trials):
        ts = [t for t in trials if t.fault == fault]
        expect_error = fault != "killed landing"
        rows.append(
            f"| {fault} | {len(ts)} | "
            + (f"{sum(t.clear_error for t in ts)} of {len(ts)}" if expect_error else "—")
            + f" | {sum(t.rows_lost for t in ts)} | {sum(t.rows_doubled for t in ts)} | "
            f"{sum(t.published_changed for t in ts)} | {sum(t.recovered for t in ts)} of {len(ts)} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
