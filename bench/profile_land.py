"""Where landing spends its time: each phase of ``land_file`` timed, per format, and the
DuckDB profile (EXPLAIN ANALYZE) of the check of the largest file of each format.

    python -m bench.profile_land LANDING [--explain DIR]
    python -m bench.profile_land LANDING --statements   # CPU per kind of SQL statement, too
    python -m bench.profile_land LANDING --as-landed    # small files together, as reachloop land

File by file (the default), every file takes the single-file path of ``land_file``; with
``--as-landed`` small consecutive files of one type share a transaction and phases are not
split by format.

CPU seconds per phase (ingestion/landing.py): sha256 of the file, the ledger lookup, read (the reader's
temp objects; CSV materializes the file here, JSON Lines and Parquet stay lazy views), check
(contract checks, typing, pseudonyms, event key, content hash: ``_checked``), append (dedup
probes against the log, insert, quarantine), ledger and commit. Wrappers only; no landing
code is changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

import ingestion.landing as landing
from eventlog.contract import EVENT_TYPES
from eventlog.warehouse import open_warehouse

PHASES: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
STATEMENTS: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
CURRENT = {"fmt": ""}


class _TimedConnection:
    """A connection whose execute() adds its CPU seconds to STATEMENTS, by statement kind."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, *args, **kwargs):
        words = re.sub(r"\s+", " ", sql).strip().split(" ")
        kind = " ".join(words[:4]) if words[0] in ("insert", "create", "drop") else " ".join(words[:2])
        t0 = time.process_time()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            entry = STATEMENTS[f"{CURRENT['fmt']}: {kind[:70]}"]
            entry[0] += 1
            entry[1] += time.process_time() - t0


def _timed(name: str, fn):
    """CPU seconds of this process (DuckDB's threads included): robust on a shared machine."""

    def wrapper(*args, **kwargs):
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[CURRENT["fmt"]][name] += time.process_time() - t0

    return wrapper


def profile(root: Path, explain: Path | None, statements: bool = False, as_landed: bool = False) -> dict:
    home = Path(tempfile.mkdtemp(prefix="profile-land-"))
    con = open_warehouse(home / "warehouse.duckdb")
    timed = _TimedConnection(con) if statements else con
    landing.prepare(con, b"profile-key")
    landing.file_sha256 = _timed("sha256", landing.file_sha256)
    landing.already_landed = _timed("ledger lookup", landing.already_landed)
    landing.read_into_temp = _timed("read", landing.read_into_temp)
    landing.check_into_temp = _timed("check", landing.check_into_temp)
    landing._append = _timed("append", landing._append)
    landing._append_together = _timed("append", landing._append_together)
    rows: dict[str, int] = defaultdict(int)
    largest: dict[str, tuple[int, Path]] = {}
    started = time.perf_counter()
    if as_landed:  # as reachloop land does it: small files together, so no split by format
        CURRENT["fmt"] = "all"
        t0 = time.process_time()
        files = [(path, landing.event_type_for(path, root)) for path in landing.landing_files(root)]
        for r in landing.land_files(timed, files):
            rows["all"] += r.rows_read
        PHASES["all"]["total"] += time.process_time() - t0
    for path in [] if as_landed else landing.landing_files(root):
        et = landing.event_type_for(path, root)
        fmt = path.suffix.lstrip(".")
        CURRENT["fmt"] = fmt
        t0 = time.process_time()
        r = landing.land_file(timed, path, EVENT_TYPES[et])
        PHASES[fmt]["total"] += time.process_time() - t0
        rows[fmt] += r.rows_read
        size = path.stat().st_size
        if size > largest.get(fmt, (0, None))[0]:
            largest[fmt] = (size, path)
    total = time.perf_counter() - started
    out = {
        "seconds": total,
        "rows": dict(rows),
        "phases": {
            fmt: {k: round(v, 3) for k, v in ph.items()}
            | {"ledger+commit+other": round(ph["total"] - sum(v for k, v in ph.items() if k != "total"), 3)}
            for fmt, ph in PHASES.items()
        },
        "rows_per_s": {fmt: rows[fmt] / PHASES[fmt]["total"] for fmt in rows if PHASES[fmt]["total"]},
    }
    if statements:
        out["statements"] = {
            k: f"{n}x {cpu:.3f}s" for k, (n, cpu) in sorted(STATEMENTS.items(), key=lambda kv: -kv[1][1])
        }
    if explain:
        explain.mkdir(parents=True, exist_ok=True)
        for fmt, (_, path) in largest.items():
            _explain(con, path, explain / f"check-{fmt}.txt")
    con.close()
    shutil.rmtree(home, ignore_errors=True)  # a scratch warehouse (SF10: ~700 MB)
    return out


def _explain(con: duckdb.DuckDBPyConnection, path: Path, target: Path) -> None:
    """EXPLAIN ANALYZE of the reader + check of one file (the statement check_into_temp runs)."""
    from ingestion import readers, validation

    et = EVENT_TYPES[landing.event_type_for(path, path.parent)]
    if et.name not in EVENT_TYPES or path.parent.name in EVENT_TYPES:
        et = EVENT_TYPES[path.parent.name] if path.parent.name in EVENT_TYPES else et
    captured: list[str] = []

    class Capture:
        def __init__(self, inner):
            self.inner = inner

        def execute(self, sql, *a, **k):
            if "create temp table _checked" in sql:
                captured.append(sql)
            return self.inner.execute(sql, *a, **k)

    raw_struct = readers.read_into_temp(con, path, readers.file_format(path), et)
    validation.check_into_temp(Capture(con), et, raw_struct=raw_struct)
    sql = captured[0].replace("create temp table _checked as", "")
    plan = con.execute(f"explain analyze {sql}").fetchall()
    target.write_text(f"-- {path} ({et.name})\n" + "\n".join(str(r[1]) for r in plan))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_land")
    p.add_argument("landing", type=Path)
    p.add_argument("--explain", type=Path, help="write EXPLAIN ANALYZE of the largest file per format here")
    p.add_argument("--statements", action="store_true", help="also CPU seconds per kind of SQL statement")
    p.add_argument(
        "--as-landed", action="store_true",
        help="land as reachloop land does (small files of one type together), not file by file",
    )
    args = p.parse_args(argv)
    os.environ.setdefault("REACHLOOP_PII_KEY", "profile")
    print(json.dumps(profile(args.landing, args.explain, args.statements, args.as_landed), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
