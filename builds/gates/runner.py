"""Run the gates' suites with Great Expectations, record the verdicts, stop on a critical failure.

GX runs on pandas (an ephemeral context, one dataframe asset for every frame): its SQLAlchemy route
on DuckDB is broken in GX 1.24 (every expectation errors with "list index out of range"), and
the frames are small anyway. Every verdict lands in ``meta.gate_results``; gate 1's verdict per
batch in ``meta.batch_gates``; GX renders Data Docs HTML under ``$REACHLOOP_HOME/gx/data_docs``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from builds.dbt_build import manifest_path
from builds.gates import clean
from builds.gates import counts as cn
from builds.gates import frames as fr
from builds.gates.manifest import FOLDED_SCHEMAS, mart_rules, tests_checked_nowhere
from builds.gates.suites import CRITICAL, WARNING
from eventlog.errors import ReachloopError
from eventlog.settings import Settings

# Quiet and offline: GX would otherwise try to send usage analytics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

EXAMPLES = 5
# COMPLETE lists every unexpected row's ids (needed to blame the right batches); past this
# many failing rows per check the blame is computed from the ones listed.
MAX_UNEXPECTED_LISTED = 10_000


class GateFailure(ReachloopError):
    """A critical expectation failed: the build stops before publish (not worth a retry)."""

    def __init__(self, message: str, report: GateReport):
        super().__init__(message)
        self.report = report


@dataclass
class CheckResult:
    gate: str
    suite: str
    target: str
    batch_id: str | None
    expectation: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed: Any
    examples: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        col = f"({self.column})" if self.column else ""
        where = f"{self.target} batch {self.batch_id}" if self.batch_id else self.target
        count = ""
        if self.unexpected_count is not None and self.element_count is not None:
            count = f": {self.unexpected_count:,} of {self.element_count:,} rows unexpected"
        elif self.observed is not None:
            count = f": observed {self.observed}"
        example = f", e.g. {json.dumps(self.examples[0], default=str)}" if self.examples else ""
        return f"{self.expectation}{col} [{self.severity}] on {where}{count}{example}"


@dataclass
class GateReport:
    gate: str
    build_id: str
    results: list[CheckResult]
    batches: dict[str, str] = field(default_factory=dict)  # gate 1: batch → outcome
    seconds: float = 0.0
    docs: Path | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == CRITICAL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == WARNING]

    @property
    def outcome(self) -> str:
        return "failed" if self.failures else "warned" if self.warnings else "passed"

    def summary(self) -> str:
        checks = len({(r.suite, r.expectation, r.column) for r in self.results})
        what = f"{len(self.batches)} batches, " if self.gate == "gate_1" else ""
        return (
            f"{self.gate.replace('_', ' ')} {self.outcome}: {what}{checks} checks, "
            f"{len(self.failures)} critical failures, {len(self.warnings)} warnings "
            f"({self.seconds:.1f}s)"
        )


def docs_dir(settings: Settings) -> Path:
    return settings.home / "gx" / "data_docs"


def _context(site: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    for name in list(ctx.get_site_names()):
        ctx.delete_data_docs_site(name)  # the default site writes to a throwaway temp dir
    ctx.add_data_docs_site(
        site_name="reachloop",
        site_config={
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return ctx


def _validate(frames: list[fr.Frame], site: Path) -> list[tuple[fr.Frame, Any]]:
    import great_expectations as gx

    ctx = _context(site)
    # One asset for every frame: the frame is passed at run time, and each asset or batch
    # definition added re-serializes the context's whole config (~30 ms each).
    batch = ctx.data_sources.add_pandas("reachloop").add_dataframe_asset("frames") \
        .add_batch_definition_whole_dataframe("frame")
    results = []
    for frame in frames:
        suite = ctx.suites.add(
            gx.ExpectationSuite(name=frame.suite, expectations=[r.build() for r in frame.rules])
        )
        definition = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=frame.suite, data=batch, suite=suite)
        )
        result = definition.run(
            batch_parameters={"dataframe": frame.df},
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": list(frame.id_columns),
                "partial_unexpected_count": EXAMPLES,
                "return_unexpected_index_query": False,
            },
        )
        results.append((frame, result))
    try:
        ctx.build_data_docs(site_names=["reachloop"])
    except Exception:  # noqa: BLE001 — docs are a convenience; the verdicts are in meta
        pass
    return results


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _severity(cfg) -> str:
    return str(getattr(cfg.severity, "value", cfg.severity) or CRITICAL)


def _column_label(kwargs: dict) -> str | None:
    """The rule's columns, or the expression of an expression rule."""
    return kwargs.get("column") or kwargs.get("column_A") or (
        ",".join(kwargs["column_list"]) if "column_list" in kwargs else kwargs.get("description")
    )


def _result(r) -> dict:
    """GX's result dict; an expectation that raised reports its error as the observed value."""
    if r.exception_info and r.exception_info.get("raised_exception"):
        msg = (r.exception_info.get("exception_message") or "").splitlines()[:1]
        return {"observed_value": f"error: {msg[0] if msg else 'unknown'}"}
    return r.result or {}


def _verdicts(
    con: duckdb.DuckDBPyConnection, gate: str, frames: list[fr.Frame], site: Path, *, use_gx: bool = False
) -> list[CheckResult]:
    """Every rule's verdict on every frame. When every rule is read without GX (``clean``) and
    none critical breaks, the verdicts (warnings included) are told from those readings;
    otherwise (or with ``use_gx``) GX judges the whole gate and renders its Data Docs."""
    readings = None if use_gx else _readings(frames)
    if readings is not None:
        return [r for f, rs in zip(frames, readings, strict=True) for r in _told_results(con, gate, f, rs)]
    return [r for f, evr in _validate(frames, site) for r in _frame_results(con, gate, f, evr)]


def _readings(frames: list[fr.Frame]) -> list[list[clean.Reading]] | None:
    """Each frame's rules as ``clean`` reads them; None when one is not read there, or a
    critical one breaks (GX then judges, and renders the Data Docs of the failure)."""
    out = []
    for frame in frames:
        readings = [clean.read(rule, frame.df) for rule in frame.rules]
        if any(r is None or (not r.success and rule.severity == CRITICAL)
               for rule, r in zip(frame.rules, readings, strict=True)):
            return None
        out.append(readings)
    return out


def _told_results(
    con: duckdb.DuckDBPyConnection, gate: str, frame: fr.Frame, readings: list[clean.Reading]
) -> list[CheckResult]:
    """The results GX reports for a frame, from the clean readings of its rules (the same
    fields, split per batch the same way: see _check_results)."""
    if frame.parts:
        failing: dict[tuple[str, str], list[str]] = {}
        for reading in readings:
            for suite, key, check in reading.unexpected[list(fr.MERGED_ID_COLUMNS)].itertuples(index=False):
                failing.setdefault((str(suite), str(check)), []).append(str(key))
        return _count_results(con, gate, frame, failing, {})
    out = []
    for rule, reading in zip(frame.rules, readings, strict=True):
        if rule.expectation == "ExpectTableColumnsToMatchSet":  # held (a broken one goes to GX)
            out.append(CheckResult(gate=gate, suite=frame.suite, target=frame.target, batch_id=None,
                                   expectation=rule.type, column=_column_label(rule.kwargs),
                                   severity=rule.severity, success=True, element_count=None,
                                   unexpected_count=None, observed=list(frame.df.columns)))
            continue
        column = rule.columns[0]
        # GX's unexpected index list: the rule's column, then the frame's id columns.
        listed = [_json_safe(row) for row in reading.unexpected[
            list(dict.fromkeys([column, *frame.id_columns]))].to_dict(orient="records")]
        values = [_json_safe(v) for v in reading.unexpected[column].tolist()]
        base = dict(gate=gate, suite=frame.suite, target=frame.target, expectation=rule.type,
                    column=_column_label(rule.kwargs), severity=rule.severity,
                    element_count=reading.element_count, observed=values[:EXAMPLES])
        if reading.success or gate != "gate_1" or "batch_id" not in frame.id_columns:
            out.append(CheckResult(batch_id=None, success=reading.success, unexpected_count=len(listed),
                                   examples=listed[:EXAMPLES], **base))
            continue
        by_batch: dict[str, list[dict]] = {}
        for row in listed[:MAX_UNEXPECTED_LISTED]:
            by_batch.setdefault(str(row["batch_id"]), []).append(row)
        for batch_id, rows in by_batch.items():
            counted = dict(base, element_count=None) if frame.suite == "gate_1.batches" else base
            out.append(CheckResult(batch_id=batch_id, success=False, unexpected_count=len(rows),
                                   examples=rows[:EXAMPLES], **counted))
    return out


def _frame_results(con: duckdb.DuckDBPyConnection, gate: str, frame: fr.Frame, evr) -> list[CheckResult]:
    if frame.parts:
        return _count_results(con, gate, frame, *_listed_failures(evr))
    return _check_results(gate, frame, evr, per_batch=gate == "gate_1")


def _check_results(gate: str, frame: fr.Frame, evr, per_batch: bool) -> list[CheckResult]:
    """One CheckResult per expectation; a failure with batch ids splits into one per batch."""
    out = []
    for r in evr.results:
        cfg = r.expectation_config
        res = _result(r)
        base = dict(
            gate=gate, suite=frame.suite, target=frame.target, expectation=cfg.type,
            column=_column_label(cfg.kwargs), severity=_severity(cfg), element_count=res.get("element_count"),
            observed=_json_safe(_missing_columns(r, res)
                                or res.get("observed_value", res.get("partial_unexpected_list"))),
        )
        index_list = res.get("unexpected_index_list") or []
        if r.success or not per_batch or not index_list or "batch_id" not in frame.id_columns:
            examples = [_json_safe(x) for x in (index_list or res.get("partial_unexpected_list") or [])]
            out.append(CheckResult(batch_id=None, success=bool(r.success),
                                   unexpected_count=res.get("unexpected_count"),
                                   examples=examples[:EXAMPLES], **base))
            continue
        by_batch: dict[str, list[dict]] = {}
        for row in index_list[:MAX_UNEXPECTED_LISTED]:
            by_batch.setdefault(str(row["batch_id"]), []).append(_json_safe(row))
        for batch_id, rows in by_batch.items():
            counted = dict(base, element_count=None) if frame.suite == "gate_1.batches" else base
            out.append(CheckResult(batch_id=batch_id, success=False, unexpected_count=len(rows),
                                   examples=rows[:EXAMPLES], **counted))
    return out


def _missing_columns(r, res: dict) -> dict | None:
    """A failed column-set check names the columns missing, not every column observed."""
    missing = ((res.get("details") or {}).get("mismatched") or {}).get("missing")
    return {"missing": missing} if missing and not r.success else None


def _listed_failures(evr) -> tuple[dict[tuple[str, str], list[str]], dict[str, Any]]:
    """From GX's verdicts on a merged counts frame: (suite, check) → the batches or marts whose
    count GX listed as unexpected; severity → what GX observed when its expectation failed
    without listing rows."""
    failing: dict[tuple[str, str], list[str]] = {}
    broken: dict[str, Any] = {}
    for r in evr.results:
        res = _result(r)
        listed = res.get("unexpected_index_list") or []
        if not r.success and not listed:
            broken[r.expectation_config.kwargs["column"]] = _json_safe(res.get("observed_value"))
        for row in listed:
            failing.setdefault((str(row["suite"]), str(row["check"])), []).append(str(row["key"]))
    return failing, broken


def _count_results(
    con: duckdb.DuckDBPyConnection, gate: str, frame: fr.Frame,
    failing: dict[tuple[str, str], list[str]], broken: dict[str, Any],
) -> list[CheckResult]:
    """The verdicts on a merged frame of violation counts, told as the row-level rules they
    count (the rule, its column, n of the rows unexpected): one result per rule and part that
    held, one per batch (gate 1) or mart (gate 2) that broke it, with some of the rows that
    broke it as examples. GX decides: a count fails when GX lists its row as unexpected
    (``failing``, ``broken``: see _listed_failures)."""
    out = []
    for part in frame.parts:
        counts = part.counts
        keys = part.df[counts.key].astype(str)
        rows = dict(zip(keys, part.df["rows"], strict=True))
        for count_column, rule in counts.rules.items():
            base = dict(gate=gate, suite=part.suite, target=part.target, expectation=rule.type,
                        column=_column_label(rule.kwargs), severity=rule.severity)
            failed = failing.get((part.suite, count_column))
            if not failed:  # held, or GX itself failed: blame the whole target
                held = rule.severity not in broken
                out.append(CheckResult(batch_id=None, success=held, element_count=int(sum(rows.values())),
                                       unexpected_count=0 if held else None,
                                       observed=broken.get(rule.severity), **base))
                continue
            counted = dict(zip(keys, part.df[count_column], strict=True))
            for key in failed:
                examples = cn.violating_rows(con, counts, key, rule, EXAMPLES)
                out.append(CheckResult(batch_id=key if counts.per_batch else None, success=False,
                                       element_count=int(rows[key]), unexpected_count=int(counted[key]),
                                       observed=_offending_values(rule, examples), examples=examples, **base))
    return out


def _offending_values(rule, examples: list[dict]) -> list | None:
    """What GX used to show as its partial unexpected list: the failing values themselves."""
    if len(rule.columns) != 1 or not examples or rule.column not in examples[0]:
        return None
    return [e[rule.column] for e in examples]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[list], chunk: int = 1000) -> None:
    """Rows and a timestamp, by multi-row statements: executemany runs and commits one
    statement per row (~2 ms of CPU and an fsync each, hundreds of rows per gate)."""
    if not rows:
        return
    one = "(" + ", ".join(["?"] * len(rows[0])) + ", now())"
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        values = ", ".join([one] * len(part))
        con.execute(f"insert into {table} values {values}", [v for r in part for v in r])


def _store(con: duckdb.DuckDBPyConnection, report: GateReport) -> None:
    _insert(con, "meta.gate_results", [
        [report.build_id, r.gate, r.suite, r.target, r.batch_id, r.expectation, r.column,
         r.severity, r.success, r.element_count, r.unexpected_count,
         None if r.observed is None else json.dumps(r.observed, default=str)[:2000],
         json.dumps(r.examples, default=str)[:8000] if r.examples else None]
        for r in report.results
    ])
    _insert(con, "meta.batch_gates", [[b, report.build_id, outcome] for b, outcome in report.batches.items()])


def _finish(con: duckdb.DuckDBPyConnection, report: GateReport, started: float) -> GateReport:
    report.seconds = time.perf_counter() - started
    _store(con, report)
    if report.failures:
        first = report.failures[0]
        more = len(report.failures) - 1
        tail = f"; {more} more critical failure(s)" if more else ""
        # An operator fixes files, not batch ids: name the file the batch landed from.
        landed = first.batch_id and con.execute(
            "select file_path from meta.batches where batch_id = ?", [first.batch_id]
        ).fetchone()
        source = f" (file {landed[0]})" if landed else ""
        raise GateFailure(
            f"{report.gate.replace('_', ' ')} failed: {first.describe()}{source}{tail} "
            f"(details: reachloop status; Data Docs: {report.docs / 'index.html'})",
            report,
        )
    return report


def run_gate_1(
    con: duckdb.DuckDBPyConnection, settings: Settings, build_id: str, log_position: int | None = None
) -> GateReport:
    """Check every landed batch that has not passed gate 1 yet (rejected batches excepted), up
    to the build's log position (None: every batch)."""
    started = time.perf_counter()
    pending = fr.ungated_batches(con, log_position)
    report = GateReport("gate_1", build_id, [], docs=docs_dir(settings))
    if not pending:
        return _finish(con, report, started)
    frames = fr.gate_1_frames(con, pending)
    report.results += _verdicts(con, "gate_1", frames, report.docs)
    # Table-level failures (schema) blame every batch of the event type.
    blamed: dict[str, str] = {}
    for r in report.results:
        if r.success:
            continue
        for b in [r.batch_id] if r.batch_id else _batches_of(r, pending):
            if r.severity == CRITICAL or blamed.get(b) != "failed":
                blamed[b] = "failed" if r.severity == CRITICAL else "warned"
    report.batches = {b: blamed.get(b, "passed") for ids in pending.values() for b in ids}
    return _finish(con, report, started)


def _batches_of(result: CheckResult, pending: dict[str, list[str]]) -> list[str]:
    """The batches a failure without a batch id concerns: those of its event type, or all."""
    if result.target in pending:
        return pending[result.target]
    types = {e.get("event_type") for e in result.examples} & set(pending)
    return [b for et in (types or pending) for b in pending[et]]


def previous_mart_sizes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Mart sizes at the last publish of the current output (not as-of builds)."""
    rows = con.execute(
        """
        select mart, rows from meta.published_marts
        where build_id = (
            select p.build_id from meta.published_marts p join meta.builds b using (build_id)
            where b.as_of is null order by p.published_at desc limit 1)
        """
    ).fetchall()
    return dict(rows)


def run_gate_2(
    con: duckdb.DuckDBPyConnection, settings: Settings, build_id: str, rebuilt: set[str] | None = None,
    schemas: tuple[str, ...] = FOLDED_SCHEMAS,
    checked_through: int | None = None,
) -> GateReport:
    """Check the models the build just made (``rebuilt``, None: every model) in ``schemas``
    (the marts, and the staging and intermediate models whose data tests dbt left to this
    gate), before anyone can read them: against their yml's contracts and data tests, as the
    manifest of that build states them (``manifest``), and every mart's size against the last
    publish. An incremental model's row rules count the rows written past ``checked_through``
    (see frames.gate_2_frames)."""
    started = time.perf_counter()
    marts = mart_rules(manifest_path(settings), schemas)
    unchecked = tests_checked_nowhere(manifest_path(settings), marts)
    if unchecked:
        raise ReachloopError(
            f"gate 2 cannot check {len(unchecked)} test(s) that the dbt build left to it: "
            f"{'; '.join(unchecked[:3])}; keep them out of checked_by_gate_2_selector()"
        )
    report = GateReport("gate_2", build_id, [], docs=docs_dir(settings))
    frames = fr.gate_2_frames(con, previous_mart_sizes(con), marts, rebuilt, checked_through)
    report.results += _verdicts(con, "gate_2", frames, report.docs)
    return _finish(con, report, started)
