"""The build DAG, ``reachloop_build``: gate 1 → dbt build → gate 2 → publish.

Scheduled on the landing DAGs' Assets (any of them: a family that delivered nothing today does
not hold the others back). One run builds from everything landed so far, so runs queued
behind a long one have nothing left to do and are skipped: ``start`` compares the inputs
(ledger, operator decisions, dbt models) with those of the last successful build and skips
the whole run when nothing changed. Re-running a run is therefore a no-op.

Why a single dbt task and not astronomer-cosmos task groups: cosmos would render each model
and test as its own task, which pays dbt's start-up (parsing the project, ~10 s) per task and
multiplies scheduler load, while DuckDB's single writer would force those tasks to run one at
a time anyway — no parallelism to win. One task calling ``run_dbt_build`` (the same function
``reachloop build`` calls) runs the DAG of models in one dbt invocation; dbt's own
logs and ``run_results.json`` give the per-model detail. If the warehouse moves to an engine
with concurrent writers, cosmos' ``DbtTaskGroup`` is the natural next step.

Each task is one step of ``builds.steps``, keyed by the build id that ``start`` returns;
``meta.builds`` records progress and failures. A critical gate failure fails the run without
retries (bad data does not heal by waiting) and names the check, the batch and example rows;
readers keep the last good publication. Fix the data, or retract the batch with
``reachloop batches reject BATCH_ID --reason …``, and the next run publishes.

The engine of the dbt task (docs/operators.md, "Moving to Spark"): the run's param ``engine``
(trigger with config ``{"engine": "spark"}``), else the Variable ``reachloop_engine``, else
``$REACHLOOP_ENGINE``, else DuckDB. ``start`` records it with the build, so every task of the
run uses the same one.

Writers are serialized: every task uses the ``reachloop_warehouse`` pool (1 slot) shared with
the landing DAGs, and the DAG runs one task and one run at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Asset, Param, Variable, dag, task

from ingestion.deliveries import SOURCE_FAMILIES, landed_asset
from reachloop_defaults import DEFAULT_ARGS

PUBLISHED = Asset(name="reachloop_published", uri="reachloop://published/marts")


def _any_landed():
    assets = [Asset(**landed_asset(f)) for f in SOURCE_FAMILIES]
    condition = assets[0]
    for asset in assets[1:]:
        condition = condition | asset
    return condition


def _settings():
    from eventlog.settings import Settings

    return Settings.from_env(Variable.get("reachloop_home", default=None))


def _step(step, build_id: str):
    """Run one pipeline step; a gate failure is final, anything else may be retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from builds.gates import GateFailure

    try:
        return step(_settings(), build_id)
    except GateFailure as exc:
        raise AirflowFailException(str(exc)) from exc


@dag(
    dag_id="reachloop_build",
    description="Quality gates, dbt build and atomic publish of the reachloop marts",
    schedule=_any_landed(),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args=DEFAULT_ARGS,
    tags=["reachloop", "build"],
    doc_md=__doc__,
    params={
        "engine": Param(
            None, type=["null", "string"], enum=[None, "duckdb", "spark"],
            description="where dbt builds the models (default: Variable reachloop_engine, else duckdb)",
        ),
    },
)
def reachloop_build():
    @task
    def start(params: dict | None = None) -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from builds.steps import start_build

        engine = (params or {}).get("engine") or Variable.get("reachloop_engine", default=None)
        outcome = start_build(_settings(), skip_if_unchanged=True, engine=engine)
        if outcome.status == "skipped":
            raise AirflowSkipException(outcome.note)
        print(f"build {outcome.build_id} on {outcome.engine} (full refresh: {outcome.full_refresh})"
              f" {outcome.note}")
        return outcome.build_id

    @task
    def gate_1(build_id: str) -> str:
        from builds.steps import run_gate_1

        print(_step(run_gate_1, build_id))
        return build_id

    @task
    def dbt_build(build_id: str) -> str:
        from builds.steps import run_dbt

        models, tests = _step(run_dbt, build_id)
        print(f"dbt built {models} models, {tests} tests passed")
        return build_id

    @task
    def gate_2(build_id: str) -> str:
        from builds.steps import run_gate_2

        print(_step(run_gate_2, build_id))
        return build_id

    @task(outlets=[PUBLISHED])
    def publish(build_id: str) -> dict:
        from builds.steps import run_publish

        destination, version = _step(run_publish, build_id)
        print(f"published version {version} to {destination}")
        return {"build_id": build_id, "published_to": str(destination), "version": version}

    publish(gate_2(dbt_build(gate_1(start()))))


reachloop_build()
