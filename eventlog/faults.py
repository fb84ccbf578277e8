"""Faults of the machine rather than of the data: a full disk, a damaged DuckDB file.

Both reach us as whatever the failing layer raises (an ``OSError`` from Python, an
``IOException``, ``TransactionException`` or ``FatalException`` from DuckDB, with the cause
somewhere in its message). Each command should say the same plain line for them instead: what
happened, to which file, and what to do. This module recognizes them and words that line.

What DuckDB does on a full disk (checked on a small tmpfs, docs/operators.md "Reliability"):
a commit whose WAL write fails rolls the transaction back and raises (the log is as before);
a checkpoint that cannot write the database file invalidates the process's database instance
(every later statement fails) but the file and its WAL stay consistent, and the next process
replays the WAL. So nothing needs undoing: the run stops, and says so.

What DuckDB does on a damaged file: a file cut short is refused on opening only when the cut
falls in the blocks it reads first; a flipped byte is found by the block's checksum when that
block is read. ``check_database_file`` (from the header, before opening) and
``check_blocks_present`` (right after) find a cut anywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from eventlog.errors import ReachloopError

_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_WORDS = ("no space left on device", "disk quota exceeded", "not enough space")
# A block failing its checksum; a file cut short or not DuckDB's (these two also come from
# reading other files: they count only when they name the database, see is_damage).
_CORRUPT = "corrupt database file"
_DAMAGE_WORDS = ("not a valid duckdb database file", "could not read enough bytes from file")

WAREHOUSE_RECOVERY = (
    "restore it from a backup, or move it aside and rebuild the log from the retained "
    "deliveries (reachloop land DIR for each, then reachloop build); docs/operators.md, "
    "\"Reliability\""
)
PUBLISHED_RECOVERY = (
    "publish a new version (reachloop build --force), or point readers at an earlier one "
    "under published/versions/"
)


class DiskFull(ReachloopError):
    """A write failed for want of space; what was being written was not committed."""


class DamagedFile(ReachloopError):
    """A DuckDB file that cannot be read whole: cut short, or a block failing its checksum."""


def is_disk_full(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in _DISK_FULL_ERRNOS:
            return True
        if isinstance(e, (OSError, duckdb.Error)) and any(w in str(e).lower() for w in _DISK_FULL_WORDS):
            return True
    return False


def is_damage(exc: BaseException, database: Path | None = None) -> bool:
    """Does the error say a DuckDB database file is damaged (``database``, when given)?"""
    for e in _chain(exc):
        if not isinstance(e, duckdb.Error):
            continue
        text = str(e).lower()
        if _CORRUPT in text:
            return True
        if any(w in text for w in _DAMAGE_WORDS):
            named = _named_file(e)
            if database is None or named is None or named in (database, Path(f"{database}.wal")):
                return True
    return False


def _named_file(e: BaseException) -> Path | None:
    text = str(e)
    return Path(text.split('file "', 1)[1].split('"', 1)[0]) if 'file "' in text else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def disk_full(path: Path, doing: str, cause: BaseException | None = None) -> DiskFull:
    """The one line for a full disk: where (the file the failed write names, else ``path``),
    how much is left, what was kept, what to do."""
    path = (_written_file(cause) if cause else None) or path
    return DiskFull(
        f"disk full: no space left on the device holding {path} ({_free(path)} free) while "
        f"{doing}; nothing of it was kept. Free some space (or move REACHLOOP_HOME, or "
        "REACHLOOP_TEMP_DIRECTORY for spill files, to a bigger disk) and run it again"
    )


def damaged(path: Path, detail: str, recovery: str) -> DamagedFile:
    return DamagedFile(f"{path} is damaged ({detail}) and cannot be read safely: {recovery}")


def _free(path: Path) -> str:
    for p in (path, *path.parents):
        if p.exists():
            if os.statvfs(p).f_favail == 0:
                return "no inodes"
            free = shutil.disk_usage(p).free
            for unit in ("bytes", "KiB", "MiB", "GiB"):
                if free < 1024 or unit == "GiB":
                    return f"{free:,.0f} {unit}" if unit == "bytes" else f"{free:,.1f} {unit}"
                free /= 1024
    return "unknown"


# DuckDB's file layout (storage format 64 onwards, DuckDB 1.0 to 2.0): a 4 KiB main header
# ("DUCK" at byte 8), then two 4 KiB database headers (the one with the higher iteration is
# current), then whole blocks of block_alloc_size bytes; a header's fields after its 8-byte
# checksum: iteration, meta_block, free_list, block_count, block_alloc_size. The file is
# shorter than block_count blocks when DuckDB trimmed free blocks off its end (whole blocks),
# and ends inside a block when a checkpoint ran out of disk while extending it (the WAL is
# then still there, and the header still the last good one). So a file that ends inside a
# block, short of what its header counts, with no WAL beside it, was cut.
_HEADER_BYTES = 3 * 4096
_MAGIC = b"DUCK"


def check_database_file(path: Path, recovery: str) -> None:
    """Raise DamagedFile when the file is not a DuckDB file or was cut short (a truncated copy,
    a full disk under a copy tool). Reads 12 KiB. A cut on a block boundary passes here:
    ``check_blocks_present`` finds it once the file is open."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(_HEADER_BYTES)
    except FileNotFoundError:
        return
    wal = Path(f"{path}.wal").exists()
    if size == 0 and not wal:
        return  # DuckDB makes a new database in an empty file
    if len(head) < _HEADER_BYTES or head[8:12] != _MAGIC:
        raise damaged(path, f"not a DuckDB database file: {size:,} bytes without DuckDB's header", recovery)
    headers = [struct.unpack_from("<6Q", head, offset) for offset in (4096, 8192)]
    _, _, _, _, block_count, block_size = max(headers, key=lambda h: h[1])
    if not 4096 <= block_size <= 1 << 30 or block_count > 1 << 40:
        return  # a layout this check does not know: leave it to DuckDB
    expected = _HEADER_BYTES + block_count * block_size
    if (size - _HEADER_BYTES) % block_size and size < expected and not wal:
        raise damaged(
            path, f"cut short: {size:,} bytes of the {expected:,} its header accounts for", recovery
        )


def check_blocks_present(con: duckdb.DuckDBPyConnection, path: Path, recovery: str, *, had_wal: bool) -> None:
    """After opening: a file holding fewer blocks than the database has in use was cut on a
    block boundary (which check_database_file cannot tell from trimmed free blocks). Skipped
    when a WAL was replayed on opening: its blocks may not be in the file yet."""
    if had_wal:
        return
    total, free, block_size = con.execute(
        "select total_blocks, free_blocks, block_size from pragma_database_size()"
    ).fetchone()
    in_file = max(path.stat().st_size - _HEADER_BYTES, 0) // block_size
    if total - free > in_file:
        raise damaged(
            path, f"cut short: {total - free:,} blocks in use, {in_file:,} in the file", recovery
        )


@contextmanager
def plain_faults(
    path: Path, *, doing: str, recovery: str, damage_in: Path | None = None
) -> Iterator[None]:
    """Inside: a full disk or a damaged file becomes its one line (DiskFull / DamagedFile).
    ``path``: where the block writes; ``damage_in``: the DuckDB file it reads, if another."""
    try:
        yield
    except (DiskFull, DamagedFile):
        raise
    except (OSError, duckdb.Error, ReachloopError) as exc:
        if is_disk_full(exc):
            raise disk_full(path, doing, exc) from exc
        if is_damage(exc, damage_in or path):
            raise damaged(damage_in or path, _first_line(exc), recovery) from exc
        raise


def _written_file(exc: BaseException) -> Path | None:
    """The file a write failed on, where the error names it (DuckDB: 'Could not write file "X"')."""
    for e in _chain(exc):
        if isinstance(e, OSError) and (e.filename2 or e.filename):
            # symlink(target, link) names the link second; a relative target says nothing.
            named = Path(os.fsdecode(e.filename2 or e.filename))
            return named if named.is_absolute() else None
        if named := _named_file(e):
            return named
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.removeprefix("IO Error: ").removeprefix("Error: ")


@contextmanager
def read_only_database(path: Path, recovery: str = PUBLISHED_RECOVERY) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a DuckDB file (a publication, by default), checked for damage
    first; a damaged block met while reading becomes the same one line."""
    check_database_file(path, recovery)
    had_wal = Path(f"{path}.wal").exists()
    with plain_faults(path, doing=f"reading {path}", recovery=recovery):
        con = duckdb.connect(str(path), read_only=True)
        try:
            check_blocks_present(con, path, recovery, had_wal=had_wal)
            yield con
        finally:
            con.close()
