"""Landing DAGs, one per source family: ``reachloop_land_<family>``.

Each daily run lands the family's deliveries for its data interval and publishes the
family's Asset, which schedules the build DAG (``reachloop_build``).

Where deliveries come from::

    $REACHLOOP_LANDING/<family>/<YYYY-MM-DD>/<files>

A source system (or the job pulling from it) drops each delivery into a folder named for its
delivery date; the run for the interval [start, end) lands every folder dated in it. Files are
CSV, JSON Lines or Parquet named for their event type (``share_metrics-7.csv``) or kept in a
folder named for it, or vendor exports (LinkedIn pulls, HubSpot, Salesforce, …) in the format
configured for the family in the Variable ``reachloop_source_formats`` (a JSON object such as
``{"crm": "salesforce:tz=Europe/Berlin"}``; see docs/sources.md) or auto-detected. A
contract file of another family's event type fails the run before anything lands (a
misrouted delivery is for an operator to look at).

Idempotent: the batch ledger knows every landed file's checksum, so a re-run or a backfill
(``airflow backfill create --dag-id reachloop_land_web --from-date … --to-date …``) lands
nothing twice; a run that lands nothing new is *skipped*, which emits no Asset event and so
triggers no build. A file that could not be landed (unreadable, refused) fails the run in its
``all_files_landed`` task, after the others landed and their Asset event was emitted; fix the
file and clear the run's ``land`` task.

Settings, read when a task runs (never at parse time): Variables ``reachloop_home`` and
``reachloop_landing`` (or ``AIRFLOW_VAR_*``), else the environment's ``REACHLOOP_HOME`` and
``REACHLOOP_LANDING``; the pseudonymization key only from ``REACHLOOP_PII_KEY`` (a secret: put
it in the environment from your secrets manager, not in a Variable).

All tasks touching the warehouse share the pool ``reachloop_warehouse`` (1 slot): DuckDB allows
one writer process per file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Asset, CronDataIntervalTimetable, Variable, dag, task

from ingestion.deliveries import SOURCE_FAMILIES, landed_asset
from reachloop_defaults import DEFAULT_ARGS


def landing_dag(family: str, event_types: tuple[str, ...]):
    @dag(
        dag_id=f"reachloop_land_{family}",
        description=f"Land {family} deliveries ({', '.join(event_types)}) into the event log",
        # Explicitly a data-interval timetable: a run covers [start, end) of one day whatever
        # [scheduler] create_cron_data_intervals says (Airflow 3 defaults to trigger timetables,
        # whose runs have an empty interval).
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=datetime(2025, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["reachloop", "landing", family],
        doc_md=__doc__,
    )
    def land_family():
        @task(task_id="land", outlets=[Asset(**landed_asset(family))])
        def land(data_interval_start=None, data_interval_end=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from eventlog.errors import ReachloopError
            from eventlog.settings import Settings
            from ingestion.adapters import formats_from_config
            from ingestion.deliveries import land_interval, not_landed_summary

            settings = Settings.from_env(Variable.get("reachloop_home", default=None))
            results = land_interval(
                settings, family, data_interval_start.date(), data_interval_end.date(),
                landing=Variable.get("reachloop_landing", default=None),
                # vendor export formats per family (Variable reachloop_source_formats)
                formats=formats_from_config(get_variable=lambda k: Variable.get(k, default=None)),
                on_file=lambda r: print(f"{r.status:<8} {r.path}: {r.rows_landed} rows landed, "
                                        f"{r.rows_quarantined} quarantined, {r.rows_erased} erased"),
            )
            landed = [r for r in results if r.status == "landed"]
            problems = not_landed_summary(results)
            if not landed:
                if problems:  # retried: a file still being copied heals by waiting
                    raise ReachloopError(problems)
                # No Asset event: a build is only worth running for new data.
                raise AirflowSkipException(
                    f"nothing new for {family} in [{data_interval_start:%Y-%m-%d}, "
                    f"{data_interval_end:%Y-%m-%d}) ({len(results)} files already landed)"
                )
            return {
                "files": len(landed),
                "rows_landed": sum(r.rows_landed for r in landed),
                "rows_quarantined": sum(r.rows_quarantined for r in landed),
                "rows_erased": sum(r.rows_erased for r in landed),
                "batches": [r.batch_id for r in landed],
                "not_landed": problems,
            }

        # A file that failed must fail the run, visibly, but only after the others landed and
        # their Asset event scheduled the build: the land task succeeds, this one fails.
        @task(task_id="all_files_landed", retries=0, pool="default_pool")
        def all_files_landed(landing: dict) -> None:
            from airflow.sdk.exceptions import AirflowFailException

            if landing.get("not_landed"):
                raise AirflowFailException(landing["not_landed"])

        all_files_landed(land())

    return land_family()


for _family, _types in SOURCE_FAMILIES.items():
    globals()[f"reachloop_land_{_family}"] = landing_dag(_family, _types)
