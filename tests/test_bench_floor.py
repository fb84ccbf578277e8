"""The benchmark's DuckDB floor runs every model of the project, the Python ones too (Markov,
Shapley, the planner): their own ``model(dbt, session)`` on the floor's tables gives what the
dbt build gave."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from bench.floor import marts_floor
from builds.dbt_build import manifest_path
from eventlog.settings import Settings

PYTHON_MODELS = ("int_markov_removal_effects", "int_shapley_values", "int_share_plan_suggestions")


def test_the_floor_runs_the_python_models_as_dbt_does(published: Settings, tmp_path: Path) -> None:
    # The floor drops and remakes the model schemas: it works on a copy with the same catalog name.
    floor = tmp_path / published.warehouse.name
    shutil.copyfile(published.warehouse, floor)
    result = marts_floor(floor, manifest_path(published))
    assert set(PYTHON_MODELS) <= set(result["models"])
    with duckdb.connect(str(floor), read_only=True) as con:
        con.execute(f"attach '{published.warehouse}' as built (read_only)")
        for model in PYTHON_MODELS:
            rows = con.execute(f"select count(*) from intermediate.{model}").fetchone()[0]
            built = con.execute(f"select count(*) from built.intermediate.{model}").fetchone()[0]
            assert rows == built > 0, model
            differ = con.execute(
                f"select count(*) from (select * from intermediate.{model} except all "
                f"select * from built.intermediate.{model})"
            ).fetchone()[0]
            assert differ == 0, model
