"""The build's steps, defined once for ``reachloop build``/``run`` and the build DAG.

Write-audit-publish::

    start → gate 1 (pending batches) → dbt build → gate 2 (marts) → publish (atomic swap)

Each step is a function of (settings, build_id): the CLI calls them in a row, the build DAG
runs one per task. ``meta.builds`` carries the build's state between them, so a step can run
in another process, or again after a retry. A critical gate failure stops the build before
publish: readers keep the last good publication, byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from builds.dbt_build import MARTS_SCHEMA, normalize_as_of
from eventlog.errors import ReachloopError
from eventlog.settings import Settings, build_engine
from eventlog.sql import quote_ident
from eventlog.warehouse import lock_timeout, open_warehouse, warehouse, writer_lock

GATE_1, DBT, GATE_2, PUBLISH = "gate 1", "dbt build", "gate 2", "publish"
STEPS = (GATE_1, DBT, GATE_2, PUBLISH)


@dataclass
class BuildOutcome:
    as_of: str | None
    full_refresh: bool
    engine: str = "duckdb"
    build_id: str = ""
    status: str = "running"  # running | succeeded | failed | skipped
    models: int = 0
    tests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # CPU seconds of this process per step, every thread (dbt's, DuckDB's) included: on a
    # shared machine wall time says more about the neighbours than about the step.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    gates: dict[str, str] = field(default_factory=dict)  # gate → one-line summary
    published_to: Path | None = None
    version: str | None = None
    note: str = ""

    def summary(self) -> str:
        if self.status == "skipped":
            return f"build skipped: {self.note}" + (f"; published output in {self.published_to}"
                                                    if self.published_to else "")
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        lines = [f"build {self.build_id}: {self.models} models, {self.tests} tests passed ({steps})"]
        lines += [f"  {text}" for text in self.gates.values()]
        if self.note:
            lines.append(f"  {self.note}")
        if self.published_to:
            lines += [
                f"published version {self.version} to {self.published_to}:",
                f"  DuckDB   {self.published_to / 'reachloop.duckdb'}",
                f"  Parquet  {self.published_to / 'parquet'}/<mart>/",
            ]
        return "\n".join(lines)


def publish_destination(settings: Settings, as_of: str | None) -> Path:
    """An as-of build reproduces a past report beside the current one, never over it."""
    if as_of is None:
        return settings.published
    stamp = "".join(ch if ch.isalnum() else "-" for ch in as_of).strip("-")
    return settings.home / "as_of" / stamp


# What a build's models are made of: the dbt project, and the libraries its Python models
# import (a changed solver or planner changes marts as surely as a changed SQL model).
REPO = Path(__file__).resolve().parent.parent
MODEL_SOURCES = (
    "dbt_project/dbt_project.yml",
    "dbt_project/models",
    "dbt_project/macros",
    "dbt_project/seeds",
    "dbt_project/snapshots",
    "attribution",
    "planner",
)

# The libraries that run those models are part of them too: a new DuckDB or dbt may change a
# result or a column type, and an incremental build that skips the schema and contract checks
# (see dbt_overrides.sql) is only safe on the engine that made the tables it patches.
ENGINE_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "numpy", "pandas", "pyarrow", "scipy")


def _engine_versions() -> str:
    return ",".join(f"{name}={importlib.metadata.version(name)}" for name in ENGINE_PACKAGES)


def _dbt_project_digest(root: Path = REPO) -> str:
    """Changes to models, macros, the code models import or the engine's versions must rebuild
    even when no data changed."""
    digest = hashlib.sha256(_engine_versions().encode())
    for sub in MODEL_SOURCES:
        base = root / sub
        files = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def _fingerprint(con, as_of: str | None, project: str, engine: str = "duckdb") -> str:
    """What a build's result depends on: the ledger, operator decisions, erasures, as_of, the
    models (and the engine that builds them)."""
    state = con.execute(
        """
        select (select count(*) || '/' || coalesce(max(ingested_at)::varchar, '') from meta.batches),
               (select count(*) || '/' || coalesce(max(recorded_at)::varchar, '') from meta.batch_events),
               (select count(*) || '/' || coalesce(max(requested_at)::varchar, '') from meta.erasure_requests)
        """
    ).fetchone()
    key = f"{state}|{as_of}|{project}" + (f"|{engine}" if engine != "duckdb" else "")
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def start_build(
    settings: Settings,
    as_of: str | None = None,
    full_refresh: bool = False,
    *,
    skip_if_unchanged: bool = False,
    engine: str | None = None,
) -> BuildOutcome:
    """Register a build. With skip_if_unchanged (the DAG), a build whose inputs equal those of
    the last successful one is skipped: re-running the DAG for an interval is a no-op.
    ``engine`` (default: $REACHLOOP_ENGINE, else duckdb) is where its dbt step runs."""
    engine = build_engine(engine)
    # Reproducing the past rebuilds everything from the log: incremental state is of no use.
    # On Spark every build is full (incremental models build as tables: macros/spark.sql).
    full_refresh = full_refresh or as_of is not None or engine == "spark"
    outcome = BuildOutcome(as_of=as_of, full_refresh=full_refresh, engine=engine)
    destination = publish_destination(settings, as_of)
    with warehouse(settings) as con:
        project = _dbt_project_digest()
        fingerprint = _fingerprint(con, as_of, project, engine)
        last = con.execute(
            """
            select build_id, fingerprint, started_at, project_digest, coalesce(engine, 'duckdb')
            from meta.builds
            where status = 'succeeded' and as_of is not distinct from ?
            order by started_at desc limit 1
            """,
            [as_of],
        ).fetchone()
        published = (destination / "reachloop.duckdb").exists()
        if skip_if_unchanged and last and last[1] == fingerprint and published:
            outcome.status, outcome.published_to = "skipped", destination
            outcome.note = f"nothing changed since build {last[0]} (same batches, decisions and models)"
            return outcome
        # A batch rejected or restored since the last good build: incremental models may hold
        # its rows (or lack them), so this build starts from scratch.
        if not full_refresh and last:
            changed = con.execute(
                "select count(*) from meta.batch_events where recorded_at > ?", [last[2]]
            ).fetchone()[0]
            erased = con.execute(
                "select count(*) from meta.erasure_requests where requested_at > ?", [last[2]]
            ).fetchone()[0]
            if changed:
                outcome.full_refresh = True
                outcome.note = "full refresh: batches were rejected or restored since the last build"
            # Rows were erased from the log: incremental models may still hold them.
            elif erased:
                outcome.full_refresh = True
                outcome.note = "full refresh: a person was erased since the last build"
            # Models or their engine changed since the last good build (an upgrade, an edit): an
            # incremental model whose columns or logic changed cannot be patched row by row from
            # its old state.
            elif last[3] != project:
                outcome.full_refresh = True
                outcome.note = "full refresh: the dbt project or its engine changed since the last build"
            # The warehouse's marts came from the other engine: its incremental tables hold
            # their own last build, not this engine's.
            elif last[4] != engine:
                outcome.full_refresh = True
                outcome.note = f"full refresh: the last build ran on {last[4]}"
            # An as-of build rebuilt the models as of a past moment (and its decisions): the
            # incremental state is that past prefix of the log, not the last current build's.
            elif _last_dbt_run_was_as_of(con):
                outcome.full_refresh = True
                outcome.note = "full refresh: the last build rebuilt the models as of a past moment"
        outcome.build_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        # Builds run one at a time (one DuckDB writer; the DAG has max_active_runs=1): a build
        # still 'running' was killed mid-way. Closing it keeps its stale log_cutoff out of
        # staging, which reads the running build's cutoff.
        con.execute(
            "update meta.builds set status = 'failed', finished_at = now(),"
            " error = coalesce(error, 'abandoned: the build process ended without finishing')"
            " where status = 'running'"
        )
        # The log position this build gates and builds: a batch landing while the build runs
        # (a landing task between the build DAG's gate_1 and dbt tasks) waits for the next
        # build instead of reaching the marts without passing gate 1.
        # As of a moment: the last position committed by then (committed_at, not ingested_at,
        # the landing transaction's start: a batch that committed after the moment is out).
        # log_cutoff stays the newest ingested_at within the cutoff, for readers of the old column.
        con.execute(
            "insert into meta.builds (build_id, status, as_of, full_refresh, fingerprint, started_at,"
            " log_cutoff, project_digest, log_cutoff_position, engine)"
            " select ?, 'running', ?, ?, ?, now(), max(ingested_at), ?, max(log_position), ?"
            " from meta.batches"
            " where ?::timestamptz is null or committed_at <= ?::timestamptz",
            [outcome.build_id, as_of, outcome.full_refresh, fingerprint, project, engine,
             as_of and normalize_as_of(as_of), as_of and normalize_as_of(as_of)],
        )
    return outcome


def _last_dbt_run_was_as_of(con: duckdb.DuckDBPyConnection) -> bool:
    """Did the latest build that reached dbt (succeeded, or failed in or after it) run as of a
    past moment? Its models then hold that moment's state, which no incremental run extends."""
    row = con.execute(
        "select as_of from meta.builds where status = 'succeeded' or step in (?, ?, ?)"
        " order by started_at desc limit 1",
        [DBT, GATE_2, PUBLISH],
    ).fetchone()
    return bool(row and row[0] is not None)


@dataclass(frozen=True)
class _Build:
    """What a step needs to know of its build (meta.builds)."""

    as_of: str | None
    full_refresh: bool
    log_cutoff: str | None  # the newest batch this build may see (see start_build), ISO 8601
    engine: str = "duckdb"
    log_cutoff_position: int | None = None  # its log position


@contextmanager
def _step(
    settings: Settings, build_id: str, step: str, con: duckdb.DuckDBPyConnection | None = None
) -> Iterator[_Build]:
    """Record which step runs and read the build, on ``con`` when the step holds one open
    (opening the warehouse costs ~80 ms of CPU, ~14 times a build); a failure marks the build
    failed with its one-line reason."""
    try:
        with nullcontext(con) if con is not None else warehouse(settings) as c:
            row = c.execute(
                "update meta.builds set step = ? where build_id = ?"
                " returning as_of, full_refresh, log_cutoff, coalesce(engine, 'duckdb'), log_cutoff_position",
                [step, build_id],
            ).fetchone()
    except BaseException as exc:  # e.g. the warehouse stayed locked past the lock timeout
        record_failure(settings, build_id, step, exc)
        raise
    if not row:
        raise ReachloopError(f"no build {build_id!r} in meta.builds")
    try:
        yield _Build(row[0], row[1], row[2].isoformat() if row[2] is not None else None, row[3], row[4])
    except BaseException as exc:
        if con is not None:
            # The step's connection may be what failed (DuckDB invalidates a database after a
            # fatal error): let go of it so that the reopen below gets a fresh database.
            con.close()
        record_failure(settings, build_id, step, exc)
        raise


_RECORD_FAILURE_WAIT = 60.0


@contextmanager
def _step_warehouse(settings: Settings, build_id: str, step: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for a step that holds it open throughout (pass it to _step): failing to
    open it (locked past the lock timeout) fails the build like any other failure."""
    with ExitStack() as stack:
        try:
            con = stack.enter_context(warehouse(settings))
        except BaseException as exc:
            record_failure(settings, build_id, step, exc)
            raise
        yield con


def record_failure(settings: Settings, build_id: str, step: str, exc: BaseException) -> None:
    """Mark a still-running build failed with its one-line reason. Opening the warehouse waits
    for its lock like any writer (a build whose dbt step lost the lock to a land used to stay
    'running' because this update lost the same race); if even that fails, the reason goes to
    stderr and the next build closes this one as abandoned."""
    reason = (str(exc).splitlines() or [type(exc).__name__])[0][:1000] or type(exc).__name__
    try:
        # At least a minute even under a short REACHLOOP_LOCK_TIMEOUT: the step may have failed
        # precisely because the lock was busy, and a build left 'running' misleads status.
        with warehouse(settings, lock_timeout=max(lock_timeout(), _RECORD_FAILURE_WAIT)) as c:
            c.execute(
                "update meta.builds set status = 'failed', error = ?, finished_at = now() "
                "where build_id = ? and status = 'running'",
                [f"{step}: {reason}", build_id],
            )
    except Exception as record_exc:  # noqa: BLE001 — never hide the original failure behind this one
        print(f"could not record build {build_id} as failed: {record_exc}", file=sys.stderr)


def run_gate_1(settings: Settings, build_id: str) -> str:
    from builds.gates import run_gate_1 as gate

    with _step_warehouse(settings, build_id, GATE_1) as con, _step(settings, build_id, GATE_1, con) as b:
        # Gate exactly what dbt will build: batches up to the build's log position (as of a
        # moment, the last position committed by then; see start_build).
        return gate(con, settings, build_id, b.log_cutoff_position).summary()


def run_dbt(settings: Settings, build_id: str) -> tuple[int, int]:
    from builds.dbt_build import DbtBuildResult, manifest_path, run_dbt_build
    from builds.gates.manifest import FOLDED_SCHEMAS, checked_by_gate_2_selector
    from builds.node_selection import changed_event_types, selection

    # The writer lock (already held by a whole build; taken here by the build DAG's task) keeps
    # a land from taking the file between the wait below and dbt's own connection.
    with writer_lock(settings, "build"), _step(settings, build_id, DBT) as b:
        # Only the nodes downstream of an event type that landed rows since the last good
        # build, in an incremental build (builds/node_selection.py); None: every node.
        select = None
        # A full refresh is decided already. An incremental build after a successful one with no
        # dbt run since (changed is not None) finds every table as that build left it, and
        # start_build's checks of meta.builds cover the macros' per-table ones: dbt need not
        # ask the log again for each model (should_full_refresh(), macros/incremental.sql).
        decided = b.full_refresh
        # (The Spark engine builds every node: its tables live in the Spark warehouse.)
        if not b.full_refresh and b.as_of is None and b.engine == "duckdb":
            with warehouse(settings) as con:
                changed = changed_event_types(con, b.log_cutoff_position)
            select = selection(manifest_path(settings), changed)
            decided = changed is not None
        # dbt opens the warehouse itself: no connection of ours may be open meanwhile.
        # Unit tests check SQL logic on fixed inputs, not the data: they run in the test
        # suite (tests/test_dbt_marts.py builds everything), not in every production build;
        # nor do the marts' tests that gate 2 checks again right after (one query per mart).
        # The log position is not passed: staging reads this running build's log_cutoff.
        # dbt-duckdb fails at once on a locked file: wait here for a land to finish first.
        # On Spark the staging and intermediate tables stay in Spark: dbt tests them there.
        folded = (MARTS_SCHEMA,) if b.engine == "spark" else FOLDED_SCHEMAS
        exclude = f"resource_type:unit_test {checked_by_gate_2_selector(folded)}"
        if select == "":  # nothing landed rows (duplicates only): every model stays as it is
            result = DbtBuildResult(as_of=b.as_of, full_refresh=False)
        elif b.engine == "spark":
            from builds.spark_engine import run_spark_dbt

            wait_for_warehouse(settings)
            result = run_spark_dbt(settings, as_of=b.as_of, exclude=exclude)
        else:
            wait_for_warehouse(settings)
            result = run_dbt_build(
                settings, as_of=b.as_of, full_refresh=b.full_refresh, select=select, exclude=exclude,
                refresh_decided=decided,
            )
        # The marts this build made (null: all of them), for gate 2: the others are the
        # tables the last good build checked and published.
        built = None if select is None else sorted(
            uid.split(".")[-1] for uid, status in result.nodes.items()
            if uid.startswith("model.") and status == "success"
        )
        with warehouse(settings) as con:
            _drop_orphan_relations(con, settings)
            con.execute(
                "update meta.builds set models = ?, tests = ?, models_built = ? where build_id = ?",
                [result.models, result.tests, built, build_id],
            )
    return result.models, result.tests


def wait_for_warehouse(settings: Settings) -> None:
    """Wait (bounded, see REACHLOOP_LOCK_TIMEOUT) until no other process holds the warehouse."""
    open_warehouse(settings.warehouse, read_only=True).close()


def _drop_orphan_relations(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """dbt never drops the table of a model that was renamed or removed. In schema marts such
    a table would be checked by no suite yet published as if current; elsewhere it wastes disk
    (a removed intermediate can hold tens of millions of rows). The manifest of the build that
    just ran lists every model of the project, selected or not."""
    from builds.dbt_build import manifest_path, read_artifact

    manifest = manifest_path(settings)
    if not manifest.exists():
        return
    nodes = [
        n for n in read_artifact(manifest)["nodes"].values()
        if n["resource_type"] in ("model", "seed", "snapshot")
    ]
    current = {(n["schema"], n.get("alias") or n["name"]) for n in nodes}
    managed = sorted({schema for schema, _ in current})
    relations = con.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() and list_contains(?, table_schema)",
        [managed],
    ).fetchall()
    for schema, name, kind in relations:
        if (schema, name) not in current:
            what = "view" if kind == "VIEW" else "table"
            con.execute(f"drop {what} {quote_ident(schema)}.{quote_ident(name)}")


def run_gate_2(settings: Settings, build_id: str) -> str:
    from builds.gates import run_gate_2 as gate
    from builds.gates.manifest import FOLDED_SCHEMAS

    with _step_warehouse(settings, build_id, GATE_2) as con, _step(settings, build_id, GATE_2, con) as b:
        # A build that ran a selection of nodes (builds/node_selection.py) checks the marts it
        # made; the others are the tables the last good build checked and published.
        # An incremental mart's rows at or before the last good build's log position were
        # checked by the gate 2 that let them through: this one checks the rows written since.
        from builds.node_selection import baseline

        built = con.execute("select models_built from meta.builds where build_id = ?", [build_id]).fetchone()
        rebuilt = None if built is None or built[0] is None else set(built[0])
        # The staging and intermediate models' tests too (dbt left them to gate 2), except on
        # Spark, whose dbt step tests them where they live (run_dbt).
        schemas = (MARTS_SCHEMA,) if b.engine == "spark" else FOLDED_SCHEMAS
        last = baseline(con) if rebuilt is not None else None
        return gate(con, settings, build_id, rebuilt, schemas, last and last[1]).summary()


def _rebuilt_since(con: duckdb.DuckDBPyConnection, build_id: str) -> tuple[set[str] | None, str | None]:
    """The models this build ran (None: all of them) and the build whose tables it left as they
    were (the last successful current build, node selection's baseline)."""
    from builds.node_selection import baseline

    built = con.execute("select models_built from meta.builds where build_id = ?", [build_id]).fetchone()
    last = baseline(con)
    if built is None or built[0] is None or last is None:
        return None, None
    return set(built[0]), last[0]


def run_publish(settings: Settings, build_id: str) -> tuple[Path, str]:
    from builds.dbt_build import manifest_path
    from builds.gates.manifest import mart_rules
    from builds.publish import current_version, publish, published_marts

    # One connection for the step: publish's own opens the same database instance (DuckDB shares
    # it within a process), so the warehouse is opened once, not four times.
    with _step_warehouse(settings, build_id, PUBLISH) as con, _step(settings, build_id, PUBLISH, con) as b:
        destination = publish_destination(settings, b.as_of)
        rebuilt, based_on = _rebuilt_since(con, build_id)
        # Each mart's Parquet sorted on the key gate 2 has just held its rows to.
        keys = {name: rules.sort_key for name, rules in mart_rules(manifest_path(settings)).items()}
        publish(settings, destination, build_id=build_id, as_of=b.as_of, rebuilt=rebuilt, based_on=based_on,
                sort_keys={name: key for name, key in keys.items() if key})
        version = current_version(destination)
        sizes = published_marts(destination)
        if sizes:  # one statement: executemany commits each row
            con.execute(
                "insert into meta.published_marts select ?, unnest(?), unnest(?), now()",
                [build_id, list(sizes), list(sizes.values())],
            )
        con.execute(
            "update meta.builds set status = 'succeeded', step = null, published_to = ?, "
            "published_version = ?, finished_at = now() where build_id = ?",
            [str(destination), version, build_id],
        )
    return destination, version


def build(
    settings: Settings,
    as_of: str | None = None,
    full_refresh: bool = False,
    *,
    skip_if_unchanged: bool = False,
    on_step: Callable[[str], None] | None = None,
    engine: str | None = None,
) -> BuildOutcome:
    """The whole build in this process: the sequence the build DAG runs task by task, holding
    the home's writer lock throughout (a land waits for the whole build, not only for one
    step). ``on_step`` hears each step's name (STEPS) as it starts, for progress."""
    with writer_lock(settings, "build"):
        return _build(settings, as_of, full_refresh, skip_if_unchanged=skip_if_unchanged, on_step=on_step,
                      engine=engine)


def _build(
    settings: Settings,
    as_of: str | None,
    full_refresh: bool,
    *,
    skip_if_unchanged: bool,
    on_step: Callable[[str], None] | None,
    engine: str | None = None,
) -> BuildOutcome:
    outcome = start_build(settings, as_of, full_refresh, skip_if_unchanged=skip_if_unchanged, engine=engine)
    if outcome.status == "skipped":
        return outcome

    def timed(name: str, fn):
        if on_step:
            on_step(name)
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(settings, outcome.build_id)
        finally:
            outcome.seconds[name] = time.perf_counter() - started
            outcome.cpu_seconds[name] = time.process_time() - cpu

    outcome.gates["gate 1"] = timed(GATE_1, run_gate_1)
    outcome.models, outcome.tests = timed(DBT, run_dbt)
    outcome.gates["gate 2"] = timed(GATE_2, run_gate_2)
    outcome.published_to, outcome.version = timed(PUBLISH, run_publish)
    outcome.status = "succeeded"
    return outcome
