"""What dbt runs besides the models' own SQL (docs/design.md, "Build steps"): the overrides in
dbt_project/macros/dbt_overrides.sql cut statements every build sent for nothing, and keep
dbt's checks wherever they could still fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from builds.dbt_build import invoke_dbt, project_args, run_dbt_build
from eventlog.errors import ReachloopError
from eventlog.settings import Settings

INCREMENTAL_WITH_CONTRACT = "mart_reach_vs_network"


@pytest.fixture(autouse=True)
def _statements_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read the statements dbt sent, which its log has at debug level only."""
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")


def _last_run_log(settings: Settings) -> str:
    """dbt's debug log of the home's last dbt invocation."""
    log = (settings.home / "dbt" / "logs" / "dbt.log").read_text()
    return log.rsplit("Running with dbt=", 1)[-1]


def test_a_run_creates_no_schema_that_exists(settings: Settings) -> None:
    """dbt lists the warehouse's schemas before it runs a node and creates the missing ones: the
    listing found none (dbt-duckdb compared the quoted database name), so each run re-created
    every schema. The seed's schema, main, always exists."""
    assert invoke_dbt(settings, ["seed", *project_args(settings)]).success
    log = _last_run_log(settings)
    assert "create schema" not in log.lower()
    assert "from system.information_schema.schemata" in log
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from main.bot_user_agents").fetchone()[0] > 0


def test_the_column_check_of_an_incremental_run_is_left_out_only_when_the_build_decided(
    published: Settings, tmp_path: Path,
) -> None:
    """An incremental run compares the new rows' columns with the table's (on_schema_change:
    fail). Under reachloop build's decision (the same project built every table) it cannot fail
    and is not run: the contract's columns are inserted, with no query. A dbt run by hand keeps
    it: a table whose columns differ from the model's fails the run."""
    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True, ignore=shutil.ignore_patterns("published", "as_of"))
    settings = Settings(home)
    with duckdb.connect(str(settings.warehouse)) as con:
        # What a hand-run of a changed model would leave behind.
        con.execute(f"alter table marts.{INCREMENTAL_WITH_CONTRACT} add column stray integer")

    run_dbt_build(settings, select=INCREMENTAL_WITH_CONTRACT, exclude="resource_type:test",
                  refresh_decided=True)
    log = _last_run_log(settings)
    assert f"START sql incremental model marts.{INCREMENTAL_WITH_CONTRACT}" in log
    assert "from (describe" not in log

    with pytest.raises(ReachloopError, match=INCREMENTAL_WITH_CONTRACT):
        run_dbt_build(settings, select=INCREMENTAL_WITH_CONTRACT, exclude="resource_type:test")
    assert "schemas on this incremental model are out of sync" in _last_run_log(settings)


TABLE_WITH_CONTRACT = "mart_reach_by_period"
# dbt's contract check: a DESCRIBE of the model's select, one of the declared columns.
CONTRACT_CHECK = "DESCRIBE (select * from ("


def test_the_contract_check_is_left_out_only_in_an_incremental_build_the_build_decided(
    published: Settings, tmp_path: Path,
) -> None:
    """An incremental build that reachloop build decided runs the project whose last build
    checked every contract: a table model and an incremental one are written without dbt's
    two DESCRIBEs each. A full refresh (which a changed project is) and a dbt run by hand
    keep both checks of both models."""
    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True, ignore=shutil.ignore_patterns("published", "as_of"))
    settings = Settings(home)
    select = f"{TABLE_WITH_CONTRACT} {INCREMENTAL_WITH_CONTRACT}"

    run_dbt_build(settings, select=select, exclude="resource_type:test", refresh_decided=True)
    log = _last_run_log(settings)
    assert f"START sql table model marts.{TABLE_WITH_CONTRACT}" in log
    assert f"START sql incremental model marts.{INCREMENTAL_WITH_CONTRACT}" in log
    assert CONTRACT_CHECK not in log

    for checked in ({"refresh_decided": True, "full_refresh": True}, {}):
        run_dbt_build(settings, select=select, exclude="resource_type:test", **checked)
        assert _last_run_log(settings).count(CONTRACT_CHECK) == 4, checked


PYTHON_TABLE = "int_shapley_values"


def _rows(settings: Settings, table: str) -> int:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_table_model_is_replaced_in_place_and_kept_when_its_rebuild_fails(
    published: Settings, tmp_path: Path,
) -> None:
    """A table model's new table replaces the old one under its name in one transaction (no
    renames, no index lookup, no backup to drop afterwards); a Python model, which writes
    through a cursor of its own, writes under a temporary name that is renamed in. A rebuild
    that fails, SQL or Python, leaves the old table as it was and nothing beside it."""
    home = tmp_path / "home"
    shutil.copytree(published.home, home, symlinks=True, ignore=shutil.ignore_patterns("published", "as_of"))
    settings = Settings(home)
    sql_table, python_table = f"marts.{TABLE_WITH_CONTRACT}", f"intermediate.{PYTHON_TABLE}"
    before = {table: _rows(settings, table) for table in (sql_table, python_table)}

    run_dbt_build(settings, select=f"{TABLE_WITH_CONTRACT} {PYTHON_TABLE}", exclude="resource_type:test")
    log = _last_run_log(settings)
    assert f"START sql table model {sql_table}" in log and f"START python table model {python_table}" in log
    assert f'"{TABLE_WITH_CONTRACT}" rename to' not in log and "__dbt_backup" not in log
    assert "SELECT index_name" not in log
    assert f'"{PYTHON_TABLE}__dbt_tmp" rename to "{PYTHON_TABLE}"' in log
    assert {table: _rows(settings, table) for table in before} == before

    # Each model's input gone: both rebuilds fail, in the create (no contract check before it
    # in a decided build) and in the Python job.
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("alter table marts.fct_shares rename to fct_shares_away")
        con.execute("alter table intermediate.int_markov_transitions_counted rename to counted_away")
    for model in (TABLE_WITH_CONTRACT, PYTHON_TABLE):
        with pytest.raises(ReachloopError, match=model):
            run_dbt_build(settings, select=model, exclude="resource_type:test", refresh_decided=True)
    assert {table: _rows(settings, table) for table in before} == before
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        leftovers = con.execute(
            "select table_name from duckdb_tables() where contains(table_name, '__dbt_')").fetchall()
    assert leftovers == []
