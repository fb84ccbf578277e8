"""Landing vendor files through the shared machinery of ``ingestion.landing`` (checks,
pseudonyms, ledger, quarantine, dedup), and ``land_any``: contract and vendor files alike.

    >>> land_source(con, Path("exports/hubspot"), "hubspot:tz=America/New_York")
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb

from eventlog.contract import EVENT_TYPES, did_you_mean
from eventlog.errors import ReachloopError
from ingestion.adapters.base import (
    COMMON_OPTIONS,
    Options,
    SourceShapeError,
    install_cleaning_macros,
    stage_in,
)
from ingestion.adapters.registry import ADAPTERS, adapter_for, detect_format
from ingestion.landing import (
    FILE_ERRORS,
    MACHINE_FAULTS,
    FileResult,
    already_landed,
    check_and_append,
    event_type_for,
    failed,
    file_sha256,
    land_files,
    landing_files,
    landing_transaction,
    prepare,
    shown,
)
from ingestion.readers import file_format


def land_source(
    con: duckdb.DuckDBPyConnection, path: Path, spec: str, *, files: list[Path] | None = None
) -> list[FileResult]:
    """Land one vendor file, or one CRM export folder (every CSV under it, or ``files``), in
    one transaction across every event type it produces. The pseudonym macro must be
    installed (``land_any`` does it)."""
    adapter, options = adapter_for(spec)
    if files is None:
        files = _members(path) if adapter.bundle else [path]
    if not files:
        raise ReachloopError(f"nothing to land: no .csv files in {path}")
    path_says = adapter.path_says(path) if adapter.path_says else ""
    sha = unit_checksum(files_sha256(path, files), options, path_says)
    recorded = adapter.recorded_path(path) if adapter.recorded_path else path
    previous = already_landed(con, sha, adapter.produces)
    if previous:
        return [
            FileResult(str(path), None, "skipped", previous, message="already landed (same checksum)")
        ]
    size = sum(f.stat().st_size for f in files)
    results = []
    try:
        with landing_transaction(con, path) as started_at:
            install_cleaning_macros(con)
            staged = adapter.stage(con, files, options)
            if not staged.selects:
                raise SourceShapeError(f"{path.name}: no records for any of {', '.join(adapter.produces)}")
            for et_name in adapter.produces:
                if et_name in staged.selects:
                    stage_in(con, et_name, staged.selects[et_name])
                    results.append(
                        check_and_append(
                            con, recorded, EVENT_TYPES[et_name], batch_id=f"{et_name}-{sha[:16]}",
                            sha=sha, size=size, fmt=adapter.name, started_at=started_at,
                        )
                    )
    finally:
        _drop_source_tables(con)
    results[0].message = "; ".join(staged.notes)
    return results


def land_any(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    key: bytes,
    *,
    spec: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """``reachloop land [--format SPEC] PATH``.

    With a format: PATH is a file or a folder of files in that format (a CRM folder lands as
    one export). Without: contract files (named after their event type) land as before, and
    other files land in the format their columns or keys show; files of one CRM export
    folder land together. A file in no recognizable shape is reported, not guessed at.
    A vendor file in an unexpected shape, or one that cannot be read, is reported and lands
    nothing; the others go on. Files not read (symlinks, empty, unsupported types) come first,
    each with its reason.
    """
    if not root.exists():
        raise ReachloopError(f"nothing to land: {root} does not exist")
    prepare(con, key)
    results: list[FileResult] = []
    base = root if root.is_dir() else root.parent
    contract: list[tuple[Path, str]] = []  # consecutive contract files land as a run (land_files)

    def report(unit_results: Iterable[FileResult]) -> None:
        for result in unit_results:
            results.append(shown(con, result))
            if on_file:
                on_file(result)

    skipped: list[FileResult] = []
    units = list(_units(root, spec, skipped))
    report(skipped)
    for unit, unit_spec, members in units:
        if unit_spec is None:
            contract.append((unit, event_type_for(unit, base)))
            continue
        report(land_files(con, contract))
        contract = []
        if unit_spec == UNKNOWN:
            et_name = event_type_for(unit, root if root.is_dir() else root.parent)
            message = (
                f"unknown event type {et_name!r}{did_you_mean(et_name)}: name the file or its folder"
                " after one, or give"
                f" its source format (--format; known: {', '.join(sorted(ADAPTERS))})"
            )
            unit_results = [FileResult(str(unit), et_name, "unknown_type", message=message)]
        else:
            try:
                unit_results = land_source(con, unit, unit_spec, files=members)
            except SourceShapeError as exc:
                unit_results = [FileResult(str(unit), None, "rejected", message=str(exc))]
            except MACHINE_FAULTS:
                raise
            except FILE_ERRORS as exc:
                unit_results = [failed(unit, None, exc)]
        report(unit_results)
    report(land_files(con, contract))
    return results


UNKNOWN = "?"


def _units(
    root: Path, spec: str | None, skipped: list[FileResult]
) -> Iterator[tuple[Path, str | None, list[Path] | None]]:
    """What lands as one unit, in which format (None: a contract file; UNKNOWN: neither), and
    for a detected CRM export, which files of its folder belong to it. Files not read go to
    ``skipped`` (landing_files)."""
    if spec is not None:
        adapter, _ = adapter_for(spec)
        if adapter.bundle:
            if root.is_dir():
                list(landing_files(root, skipped))  # the bundle reads its own files: name the others
            yield root, spec, None
        else:
            for path in landing_files(root, skipped):
                yield path, spec, None
        return
    base = root if root.is_dir() else root.parent
    paths = list(landing_files(root, skipped))
    detected = {
        p: detect_format(p) for p in paths
        if event_type_for(p, base) not in EVENT_TYPES or not file_format(p)  # an .xlsx is a vendor's
    }
    bundles: set[Path] = set()
    for path in paths:
        if path not in detected:
            yield path, None, None
            continue
        fmt = detected[path]
        if fmt and ADAPTERS[fmt].bundle:
            # the files of one CRM export folder land together, when the first comes up
            if path.parent not in bundles:
                bundles.add(path.parent)
                members = [p for p in paths if p.parent == path.parent and detected.get(p) == fmt]
                yield path.parent, fmt, members
        else:
            yield path, fmt or UNKNOWN, None


def _members(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in landing_files(path) if p.name.lower().endswith((".csv", ".tsv"))]


def unit_checksum(files_sha: str, options: Options, path_says: str = "") -> str:
    """What identifies a landed unit: its bytes, and everything given that changes what they
    mean — the same Connections.csv in another member's folder, or of another day, or said to
    be so by an option, is another unit, and so is an export landed again with its time zone
    corrected (after its first landing was rejected). Without any, the bytes alone, as for
    contract files."""
    said = [f"{name}={getattr(options, name)}" for name in COMMON_OPTIONS
            if getattr(options, name) != getattr(DEFAULT_OPTIONS, name)]
    said += [f"{name}={value}" for name, value in options.own]
    said += [f"path={path_says}"] if path_says else []
    if not said:
        return files_sha
    return hashlib.sha256("\0".join([files_sha, *said]).encode()).hexdigest()


DEFAULT_OPTIONS = Options()


def files_sha256(path: Path, files: list[Path]) -> str:
    """A file's checksum; for an export folder, the checksum of its files' names and checksums."""
    if files == [path]:
        return file_sha256(path)
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(f"{f.relative_to(path)}\0{file_sha256(f)}\n".encode())
    return digest.hexdigest()


def _drop_source_tables(con: duckdb.DuckDBPyConnection) -> None:
    names = con.execute(
        "select table_name from duckdb_tables() where temporary and table_name like '\\_src\\_%' escape '\\'"
    ).fetchall()
    for (name,) in names:
        con.execute(f'drop table if exists "{name}"')
