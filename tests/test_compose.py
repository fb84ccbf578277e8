"""docker-compose.yml and the Dockerfile, checked by parsing (no Docker engine here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: dict) -> dict:
    return {k: str(v) for k, v in service["environment"].items()}


def test_services_follow_the_official_local_executor_layout(compose):
    services = compose["services"]
    assert set(services) == {"postgres", *AIRFLOW_SERVICES}
    assert not {"redis", "airflow-worker", "flower"} & set(services)
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES[1:]}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
    }


def test_shared_settings_come_from_one_anchor(compose):
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"] == common["build"] and service["image"] == common["image"]
        assert service["volumes"] == common["volumes"]
        env = _env(service)
        for key, value in common["environment"].items():
            assert env[key] == str(value), (name, key)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert "postgres" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_health_checks_and_start_order(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    for name in AIRFLOW_SERVICES[1:]:
        assert services[name]["healthcheck"]["test"], name
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
    init = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init
    # The DAGs' warehouse pool must exist, with one slot (DuckDB: one writer).
    assert re.search(r"airflow pools set reachloop_warehouse 1\b", init)


def test_every_setting_the_dags_read_is_set(compose):
    env = _env(compose["services"]["airflow-scheduler"])
    dag_text = "".join(p.read_text() for p in (ROOT / "dags").glob("*.py"))
    library = (ROOT / "ingestion" / "deliveries.py").read_text() + (ROOT / "eventlog" / "settings.py").read_text()
    for var in ("REACHLOOP_HOME", "REACHLOOP_LANDING", "REACHLOOP_PII_KEY"):
        assert var in env, var
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/reachloop/dags"
    # Variables the DAGs read fall back to these environment variables.
    for variable in re.findall(r'Variable\.get\("(\w+)"', dag_text):
        assert variable.upper() in env or f"AIRFLOW_VAR_{variable.upper()}" in env, variable
    assert "REACHLOOP_LANDING" in library and "REACHLOOP_HOME" in library
    # The PII key is required, never defaulted.
    assert ":?" in env["REACHLOOP_PII_KEY"]


def test_volumes_hold_the_project_and_the_warehouse(compose):
    common = compose["x-airflow-common"]
    env = common["environment"]
    mounts = {v.rsplit(":", 1)[1]: v.rsplit(":", 1)[0] for v in common["volumes"]}
    assert mounts["/opt/reachloop/dags"] == "./dags"
    assert mounts["/opt/reachloop/dbt_project"] == "./dbt_project"
    for package in _packages():  # the code under the mounted DAGs: every package pyproject installs
        assert mounts[f"/opt/reachloop/{package}"] == f"./{package}", package
    assert mounts[env["REACHLOOP_HOME"]] in compose["volumes"]
    assert env["REACHLOOP_LANDING"] in mounts
    for named in ("reachloop-home", "postgres-db"):
        assert named in compose["volumes"]


def test_dockerfile_installs_the_project_on_the_official_image():
    text = (ROOT / "Dockerfile").read_text()
    lock = (ROOT / "requirements.lock").read_text()
    airflow = re.search(r"^apache-airflow==([\d.]+)$", lock, re.M)[1]
    assert f"ARG AIRFLOW_VERSION={airflow}" in text
    assert "FROM apache/airflow:${AIRFLOW_VERSION}" in text
    assert "requirements.lock" in text and "pip install --no-cache-dir -r" in text
    for part in (*_packages(), "dbt_project", "dags"):
        assert f"COPY --chown=airflow:root {part} " in text, part


def _packages() -> list[str]:
    """The top-level Python packages pyproject.toml installs."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        include = tomllib.load(f)["tool"]["setuptools"]["packages"]["find"]["include"]
    return [pattern.rstrip("*") for pattern in include]
