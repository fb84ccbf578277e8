# The reachloop image: the official Airflow image plus the project, installed from the lock file.
# Built by docker-compose.yml (every Airflow service runs this image).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

# The lock pins apache-airflow itself to the image's version, so installing it changes no
# Airflow package: the image's Airflow and the project's agree by construction.
COPY --chown=airflow:root requirements.lock /opt/reachloop/requirements.lock
RUN pip install --no-cache-dir -r /opt/reachloop/requirements.lock

# The project (library, dbt project, DAGs). Installed without dependencies: the lock did that.
COPY --chown=airflow:root pyproject.toml README.md /opt/reachloop/
# One line per Python package that pyproject.toml installs (tests/test_compose.py checks).
COPY --chown=airflow:root eventlog /opt/reachloop/eventlog
COPY --chown=airflow:root ingestion /opt/reachloop/ingestion
COPY --chown=airflow:root generator /opt/reachloop/generator
COPY --chown=airflow:root attribution /opt/reachloop/attribution
COPY --chown=airflow:root planner /opt/reachloop/planner
COPY --chown=airflow:root builds /opt/reachloop/builds
COPY --chown=airflow:root reports /opt/reachloop/reports
COPY --chown=airflow:root reachloop /opt/reachloop/reachloop
COPY --chown=airflow:root dbt_project /opt/reachloop/dbt_project
COPY --chown=airflow:root dags /opt/reachloop/dags
RUN pip install --no-cache-dir --no-deps -e /opt/reachloop

ENV REACHLOOP_PROJECT=/opt/reachloop \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/reachloop/dags
