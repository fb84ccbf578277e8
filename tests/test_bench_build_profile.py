"""bench.build_profile splits a build's node time into SQL, COMMITs, Python models and dbt's
own per-node Python, from the statements and times dbt's debug log holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import build_profile
from builds.dbt_build import run_dbt_build
from eventlog.settings import Settings

SQL_MODELS = ("mart_reach_vs_network", "mart_reach_by_department")  # incremental, table
PYTHON_MODEL = "int_markov_removal_effects"


@pytest.fixture
def home(published: Settings, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True, ignore=shutil.ignore_patterns("published", "as_of"))
    return Settings(home)


def test_the_profile_splits_the_last_builds_node_time(home: Settings, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    # An earlier invocation in the same log is not counted: dbt appends every run to dbt.log.
    run_dbt_build(home, select=" ".join(SQL_MODELS), exclude="resource_type:test")
    run_dbt_build(home, select=f"{SQL_MODELS[0]} {PYTHON_MODEL}", exclude="resource_type:test")

    p = build_profile.profile(home.home)
    assert p["nodes"] == 4  # the two models and the project's on-run-start and on-run-end hooks
    # A commit of a few statements can take under half a millisecond, which dbt logs as 0.000 s:
    # the commits are counted below (per node), their time only summed.
    assert p["statements"] >= 4 and p["sql_s"] > 0 and p["commit_s"] >= 0
    assert p["python_model_s"] > 0 and p["dbt_per_node_s"] > 0
    parts = p["sql_s"] + p["commit_s"] + p["python_model_s"] + p["dbt_per_node_s"]
    assert parts == pytest.approx(p["node_s"], abs=0.01)
    assert {SQL_MODELS[0], PYTHON_MODEL} <= {name for name, _ in p["heaviest_sql"]}

    per = build_profile.statement_times(build_profile.last_invocation(home.home / "dbt" / "logs" / "dbt.log"))
    model = per[f"model.reachloop.{SQL_MODELS[0]}"]
    assert model["commits"] >= 1 and model["statements"] >= 2  # the new rows, then delete+insert
    assert not any(SQL_MODELS[1] in uid for uid in per)

    assert build_profile.main([str(home.home)]) == 0
    assert "dbt's own per-node Python" in capsys.readouterr().out
    assert build_profile.main([str(home.home), "--json", "--top", "1"]) == 0
    assert len(json.loads(capsys.readouterr().out)["heaviest_sql"]) == 1


def test_a_data_test_goes_by_its_name_not_its_hash() -> None:
    uid = "test.reachloop.relationships_fct_engagements_share_id__share_id__ref_fct_shares_.d3f22072a1"
    manifest = {"nodes": {uid: {"name": "relationships_fct_engagements_share_id__share_id__ref_fct_shares_"}}}
    assert build_profile.node_name(manifest, uid) == manifest["nodes"][uid]["name"]
    assert build_profile.node_name(manifest, "operation.reachloop.reachloop-on-run-end-0") == "reachloop-on-run-end-0"


def test_a_build_logged_at_info_level_is_refused(home: Settings, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    run_dbt_build(home, select=SQL_MODELS[1], exclude="resource_type:test")
    assert build_profile.main([str(home.home)]) == 1
    assert "DBT_LOG_LEVEL_FILE=debug" in capsys.readouterr().err
