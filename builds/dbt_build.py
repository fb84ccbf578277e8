"""Run the dbt project (dbt_project/) in process: the one place reachloop invokes dbt.

``invoke_dbt`` runs any dbt command against a home's warehouse; ``run_dbt_build`` (staging →
intermediate → marts, with tests) and ``builds.dbt_docs`` are built on it. dbt's target and
log folders live under ``$REACHLOOP_HOME/dbt/`` so that a build never writes into the
repository. ``as_of`` rebuilds every model from only the events ingested up to that moment
(dbt var ``as_of``); such a build always refreshes incremental models fully.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from eventlog.errors import ReachloopError
from eventlog.settings import HOME_ENV, Settings

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# The schema whose tables are the marts readers get (dbt's custom schemas are used verbatim).
MARTS_SCHEMA = "marts"
# The bookkeeping column of incremental models: the log position of the run that wrote a row.
WATERMARK = "log_position_through"


def target_path(settings: Settings) -> Path:
    return settings.home / "dbt" / "target"


def manifest_path(settings: Settings) -> Path:
    return target_path(settings) / "manifest.json"


def read_artifact(path: Path) -> dict:
    """A dbt artifact (manifest.json, run_results.json) parsed once per version of the file: a
    build's steps read the manifest (2–3 MB at our size) five times. Shared: do not modify it."""
    stat = path.stat()
    return _parsed_artifact(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parsed_artifact(path: Path, mtime_ns: int, size: int) -> dict:
    return json.loads(path.read_text())


_MODEL_TYPES = {"model", "seed", "snapshot"}
_TEST_TYPES = {"test", "unit_test"}
_FAILED = {"error", "fail", "runtime error"}


@dataclass
class DbtBuildResult:
    """What one ``dbt build`` did. ``models`` and ``tests`` count successes."""

    as_of: str | None
    full_refresh: bool
    models: int = 0
    models_failed: int = 0
    tests: int = 0
    tests_failed: int = 0
    warnings: int = 0
    skipped: int = 0
    seconds: float = 0.0
    # unique_id → dbt status (success, pass, warn, error, fail, skipped), in execution order
    nodes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.models_failed == 0 and self.tests_failed == 0

    def summary(self) -> str:
        return (
            f"dbt built {self.models} models ({self.models_failed} failed), "
            f"{self.tests} tests passed ({self.tests_failed} failed, {self.warnings} warned), "
            f"{self.skipped} skipped in {self.seconds:.1f}s"
        )


def normalize_as_of(as_of: str) -> str:
    """An ISO 8601 moment, naive meaning UTC, as the literal the dbt var carries."""
    try:
        moment = datetime.fromisoformat(as_of.strip())
    except ValueError:
        raise ReachloopError(
            f"--as-of {as_of!r} is not an ISO 8601 timestamp (e.g. 2025-06-30T23:59:59Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def dbt_args(
    settings: Settings,
    as_of: str | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    *,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    target: str | None = None,
    indirect_selection: str | None = None,
) -> list[str]:
    """The ``dbt build`` command line run_dbt_build invokes (also usable from a shell);
    ``target`` is the profile's output (``spark``; default: the DuckDB one);
    ``indirect_selection`` is dbt's ``--indirect-selection`` (default: eager)."""
    dbt_vars = dict(dbt_vars or {})
    if as_of is not None:
        dbt_vars["as_of"] = as_of
    args = ["build", *project_args(settings)]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if full_refresh or as_of is not None:
        args.append("--full-refresh")
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if target:
        args += ["--target", target]
    if indirect_selection:
        args += ["--indirect-selection", indirect_selection]
    return args


def run_dbt_build(
    settings: Settings,
    as_of: str | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    *,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    target: str | None = None,
    indirect_selection: str | None = None,
    refresh_decided: bool = False,
) -> DbtBuildResult:
    """Run ``dbt build`` over the warehouse at ``settings.warehouse``; raise ReachloopError
    with a one-line reason naming the failing node when any model or test fails.

    ``select``/``exclude`` are dbt node selections; ``dbt_vars`` sets project vars
    (``min_group_size``, ``incremental_lookback_hours`` …) for this build. ``refresh_decided``:
    the caller has decided for every incremental table whether this is a full refresh
    (``full_refresh``), so the macros skip their own checks of the event log
    (``should_full_refresh()`` in macros/incremental.sql; see ``REFRESH_DECIDED_ENV``)."""
    if not settings.warehouse.exists():
        raise ReachloopError(
            f"no warehouse at {settings.warehouse}: land some data first (reachloop land DIR)"
        )
    as_of = normalize_as_of(as_of) if as_of is not None else None
    result = DbtBuildResult(as_of=as_of, full_refresh=full_refresh or as_of is not None)

    started = time.perf_counter()
    outcome = invoke_dbt(
        settings, dbt_args(settings, as_of, full_refresh, select, exclude=exclude, dbt_vars=dbt_vars,
                           target=target, indirect_selection=indirect_selection),
        env={REFRESH_DECIDED_ENV: "1" if refresh_decided else ""},
    )
    result.seconds = time.perf_counter() - started

    first_failure = None
    for node_result in outcome.result or ():
        node = node_result.node
        status = str(node_result.status).lower()
        result.nodes[node.unique_id] = status
        failed = status in _FAILED
        if failed and first_failure is None:
            first_failure = node_result
        if node.resource_type in _MODEL_TYPES:
            result.models += status == "success"
            result.models_failed += failed
        elif node.resource_type in _TEST_TYPES:
            result.tests += status in ("pass", "success")
            result.tests_failed += failed
        result.warnings += status == "warn"
        result.skipped += status == "skipped"

    if first_failure is not None:
        node = first_failure.node
        raise ReachloopError(
            f"dbt build failed at {node.resource_type} {node.name} "
            f"({result.models_failed} models and {result.tests_failed} tests failed): "
            f"{first_line(first_failure.message)}"
        )
    if not outcome.success:
        raise ReachloopError("dbt build failed (see the dbt log under $REACHLOOP_HOME/dbt/logs)")
    return result


def project_args(settings: Settings, target: Path | None = None) -> list[str]:
    """Where dbt finds the project and profile, and where it writes (under the home, never
    the repository): the options every reachloop dbt command carries."""
    # Absolute: dbt runs with the home as its working directory (invoke_dbt).
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str((target or target_path(settings)).absolute()),
        "--log-path", str((settings.home / "dbt" / "logs").absolute()),
        # dbt's run log goes to its log file; on the console only with REACHLOOP_VERBOSE=1
        # (reachloop --verbose).
        *([] if _verbose() else ["--quiet"]),
        # At debug level dbt writes every SQL statement and adapter event to the file (about
        # 9,000 lines for a day's build): formatting them cost 15-25% of the dbt step's CPU.
        # info keeps each node's start, end and errors; --verbose or DBT_LOG_LEVEL_FILE=debug
        # brings the statements back.
        "--log-level-file", os.environ.get("DBT_LOG_LEVEL_FILE") or ("debug" if _verbose() else "info"),
    ]


def _verbose() -> bool:
    return os.environ.get("REACHLOOP_VERBOSE", "") not in ("", "0")


def invoke_dbt(settings: Settings, args: list[str], env: dict[str, str] | None = None) -> dbtRunnerResult:
    """Run one dbt command (``args`` as on dbt's command line) in this process, against the
    warehouse of ``settings``.

    dbt renders profiles.yml from ``$REACHLOOP_HOME``, so the home is set for the call; the
    DuckDB connection dbt-duckdb keeps for the life of the process is closed afterwards, so
    that the gates, publish or a reader in this process can open the warehouse again. A dbt
    that could not run at all (a broken project or profile) raises ReachloopError with its
    first line; failing nodes are the caller's to judge from the result. ``env``: more
    environment variables for the call (read by macros while models run)."""
    from dbt.cli.main import dbtRunner

    settings.home.mkdir(parents=True, exist_ok=True)  # dbt runs in it (a parse needs no warehouse)
    parse_state = _parse_state(args)
    if parse_state:
        _seed_parse_state(*parse_state)
    try:
        # dbt reparses the whole project (~3 s) when the profile differs from the one its saved
        # parse state was made with, and the warehouse's path is part of the profile: run with
        # the home as working directory and a relative path, the same for every home.
        with _environ({HOME_ENV: str(settings.home.absolute()), WAREHOUSE_ENV: settings.warehouse.name,
                       REFRESH_DECIDED_ENV: "", **(env or {})}), \
                _working_directory(settings.home):
            outcome = dbtRunner().invoke(args)
    finally:
        _release_warehouse()
    if parse_state:
        _save_parse_state(*parse_state)
    if outcome.exception is not None:
        raise ReachloopError(f"dbt {args[0]} could not run: {first_line(outcome.exception)}")
    return outcome


# profiles.yml's warehouse path, when set (invoke_dbt sets it, relative to the home); a plain
# `dbt` run from a shell falls back to $REACHLOOP_HOME/warehouse.duckdb.
WAREHOUSE_ENV = "REACHLOOP_DBT_WAREHOUSE"
# "1" when reachloop build decided full refresh or not for every incremental table (see
# run_dbt_build); any other value, or unset (a plain `dbt` run), keeps the macros' own checks.
# Read while models run, never while dbt parses: partial parsing stays valid either way.
REFRESH_DECIDED_ENV = "REACHLOOP_DBT_REFRESH_DECIDED"
PARTIAL_PARSE = "partial_parse.msgpack"


def parse_cache_dir() -> Path:
    """Where dbt's parse state of a project is kept for homes that have none yet (a new home's
    first build would otherwise parse the whole project): the user's cache, one folder per
    project checkout."""

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "reachloop" / "dbt-parse"


def _parse_state(args: list[str]) -> tuple[Path, Path] | None:
    """(the invocation's partial_parse.msgpack, its cached copy), from its project and target."""
    import hashlib

    options = dict(zip(args, args[1:], strict=False))
    if "--project-dir" not in options or "--target-path" not in options:
        return None
    project = hashlib.sha256(str(Path(options["--project-dir"]).resolve()).encode()).hexdigest()[:16]
    return Path(options["--target-path"]) / PARTIAL_PARSE, parse_cache_dir() / project / PARTIAL_PARSE


def _seed_parse_state(state: Path, cached: Path) -> None:
    """A home without parse state starts from the cached one. dbt checks it as it checks its own
    (its version, the profile, vars, every file's checksum) and reparses what differs."""
    if state.exists() or not cached.exists():
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(cached, state)
    except OSError:
        pass  # a cache is a convenience: dbt parses the project whole


def _save_parse_state(state: Path, cached: Path) -> None:
    """Keep the invocation's parse state for the next new home (written whole, then renamed:
    builds in other homes may read it meanwhile)."""
    try:
        if not state.exists() or (cached.exists() and cached.stat().st_mtime >= state.stat().st_mtime):
            return
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}")
        shutil.copyfile(state, partial)
        os.replace(partial, cached)
    except OSError:
        pass


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def first_line(message: object) -> str:
    """The first non-blank line of a dbt message or exception: what a one-line error shows."""
    lines = [line.strip() for line in str(message or "").splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB connection open for the life of the process: close it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for one invocation."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
