"""The local Spark session of ``--engine spark``: one per process, started before dbt asks for
it (dbt-spark's ``method: session`` calls ``getOrCreate``, so dbt, the lake's registration and
the Python steps share it). Its catalog (a Derby metastore) and tables live under
``$REACHLOOP_HOME/spark/``, so that the steps of a build can run in separate processes (the
build DAG's tasks) and still see one another's tables.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from eventlog.errors import ReachloopError
from eventlog.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Driver memory of the local session (local mode runs the executors in the driver's JVM).
MEMORY_ENV = "REACHLOOP_SPARK_MEMORY"


def spark_conf(settings: Settings) -> dict[str, str]:
    """The session's settings; dbt_project/profiles.yml's `spark` target repeats them for a
    plain `dbt --target spark` from a shell."""
    home = settings.home.absolute() / "spark"
    return {
        "spark.sql.warehouse.dir": str(home / "warehouse"),
        "spark.sql.catalogImplementation": "in-memory",
        # Instants are compared and truncated in UTC, as the DuckDB profile does.
        "spark.sql.session.timeZone": "UTC",
        # Timestamps as int64 microseconds marked UTC (not INT96): what DuckDB and Arrow read
        # as an instant.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # The lake's batch_id folders are names, not numbers; a column added to the contract
        # later is missing from older batches' files.
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.sql.parquet.mergeSchema": "true",
        # Python steps collect and write small frames through Arrow.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # dbt-spark turns ANSI mode off for every session; set here too so nothing differs
        # between our statements and dbt's.
        "spark.sql.ansi.enabled": "false",
        # Small local tables: a shuffle into 200 partitions costs more than it saves.
        "spark.sql.shuffle.partitions": os.environ.get("REACHLOOP_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.driver.memory": os.environ.get(MEMORY_ENV, "2g"),
        "spark.ui.enabled": "false",
    }


def spark_session(settings: Settings) -> SparkSession:
    """The process's Spark session for this home (created on first use)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ReachloopError(
            "the spark engine needs pyspark and dbt-spark: `make spark-env` installs them "
            "(requirements-spark.lock) into .venv-spark"
        ) from None
    active = SparkSession.getActiveSession()
    expected = spark_conf(settings)["spark.sql.warehouse.dir"]
    if active is not None:
        if active.conf.get("spark.sql.warehouse.dir") != expected:
            raise ReachloopError(
                "this process already runs a Spark session for another home "
                f"({active.conf.get('spark.sql.warehouse.dir')}); one home per process on Spark"
            )
        return active
    (settings.home / "spark").mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master(os.environ.get("REACHLOOP_SPARK_MASTER", "local[*]"))
    builder = builder.appName("reachloop")
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
