"""Run one stage as a child process and measure it: wall time, CPU time (user + system of the
child and everything it waited for), peak resident memory (``ru_maxrss`` from ``wait4``)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Measurement:
    stage: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    rows: int = 0
    command: str = ""
    returncode: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.wall_s if self.rows and self.wall_s > 0 else None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rows_per_s"] = self.rows_per_s
        return d


class StageFailed(RuntimeError):
    pass


def run_stage(
    stage: str,
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    rows: int = 0,
    log: Path | None = None,
    check: bool = True,
) -> tuple[Measurement, str]:
    """Run argv as a child; return its measurement and its stdout (stderr goes to log)."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONPATH", str(REPO))
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # communicate() reaps nothing on POSIX until it sees EOF; wait4 reaps and gives the usage.
    out, err = _drain(proc)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as fh:
            fh.write(f"$ {' '.join(argv)}\n{out}\n{err}\n")
    m = Measurement(
        stage=stage,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        rows=rows,
        command=" ".join(argv),
        returncode=proc.returncode,
    )
    if check and proc.returncode != 0:
        tail = (err or out).strip().splitlines()[-5:]
        raise StageFailed(f"{stage} failed ({proc.returncode}): " + " | ".join(tail))
    return m, out


def _drain(proc: subprocess.Popen) -> tuple[str, str]:
    """Read stdout and stderr to EOF without reaping the child (threads, as communicate does)."""
    import threading

    chunks: dict[str, str] = {}

    def read(name: str, stream) -> None:
        chunks[name] = stream.read()
        stream.close()

    pipes = (("out", proc.stdout), ("err", proc.stderr))
    threads = [threading.Thread(target=read, args=pipe) for pipe in pipes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return chunks.get("out", ""), chunks.get("err", "")


def dir_size_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_size / 2**20
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total / 2**20


def machine() -> dict:
    import duckdb

    try:
        import dbt.version as dbt_version

        dbt = dbt_version.__version__
    except Exception:  # noqa: BLE001
        dbt = None
    mem = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import pandas

    return {
        "cores": os.cpu_count(),
        "ram_gib": round(mem / 2**30, 1),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": dbt,
        "pandas": pandas.__version__,
    }
