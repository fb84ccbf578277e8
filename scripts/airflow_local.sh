#!/usr/bin/env bash
# `make airflow`: Airflow 3 on this machine with SQLite metadata, the DAGs of dags/ visible and
# unpaused at once, and sample deliveries for yesterday, which the landing DAGs land as soon as
# the scheduler starts (their Assets then trigger the build). The same commands as the README's
# "Running under Airflow" recipe (a test checks that they agree and runs them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH AIRFLOW_HOME=$PWD/.reachloop/airflow \
       AIRFLOW__CORE__DAGS_FOLDER=$PWD/dags AIRFLOW__CORE__LOAD_EXAMPLES=False \
       AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False \
       REACHLOOP_HOME=$PWD/.reachloop/airflow/home REACHLOOP_LANDING=$PWD/.reachloop/airflow/sample/deliveries
export REACHLOOP_PII_KEY=${REACHLOOP_PII_KEY:-change-me}
airflow db migrate
airflow pools set reachloop_warehouse 1 "DuckDB allows one writer"
airflow dags reserialize
reachloop generate --scale 0.05 --out .reachloop/airflow/sample --deliveries
airflow dags list
airflow standalone
