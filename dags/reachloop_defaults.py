"""What every reachloop DAG shares: the warehouse pool and the task defaults.

Not a DAG file (``.airflowignore`` keeps the dag-processor from parsing it): the DAG files
import it from their bundle folder, which Airflow puts on ``sys.path``.
"""

from __future__ import annotations

from datetime import timedelta

# DuckDB allows one writer process per file: every task that writes the warehouse, landing
# or building, takes the pool's one slot (docker-compose.yml's airflow-init creates it).
WAREHOUSE_POOL = "reachloop_warehouse"

DEFAULT_ARGS = {
    "owner": "reachloop",
    # Transient failures (the warehouse busy with a writer outside Airflow, a file still being
    # copied) heal by waiting: retry with exponential backoff. A failed quality gate does not
    # heal: the build DAG fails such a task without retries.
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "pool": WAREHOUSE_POOL,
}
