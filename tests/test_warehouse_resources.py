"""What every warehouse connection sets up: the memory cap and spill directory (still settable
after a query has spilled: DuckDB refuses to change temp_directory once it has been used), and
the log's and the bookkeeping's tables and columns where they are missing."""

from __future__ import annotations

from eventlog.contract import EVENT_TYPES
from eventlog.warehouse import MEMORY_LIMIT_ENV, META_TABLES, TEMP_DIRECTORY_ENV, open_warehouse


def _spill(con) -> None:
    # An aggregate over more distinct keys than the cap holds: DuckDB must spill.
    con.execute(
        "create or replace temp table spilled as "
        "select md5(range::varchar) as k, count(*) as n from range(3000000) group by k"
    )


def test_a_second_connection_after_a_spill_opens(tmp_path, monkeypatch):
    spill_dir = tmp_path / "spill"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    monkeypatch.setenv(TEMP_DIRECTORY_ENV, str(spill_dir))
    first = open_warehouse(tmp_path / "warehouse.duckdb")
    try:
        assert first.execute("select current_setting('memory_limit')").fetchone()[0].endswith("MiB")  # 64MB, not 80% of RAM
        _spill(first)
        assert spill_dir.exists(), "the aggregate should have spilled to the configured directory"
        # Within one process DuckDB shares the instance: this connection sees the used directory.
        second = open_warehouse(tmp_path / "warehouse.duckdb")
        assert second.execute("select count(*) from range(10)").fetchone()[0] == 10
        assert second.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill_dir)
        second.close()
    finally:
        first.close()


def _columns(con) -> dict[str, list[str]]:
    rows = con.execute(
        "select schema_name || '.' || table_name, list(column_name order by column_index) from duckdb_columns()"
        " where schema_name in ('raw', 'meta') group by all"
    ).fetchall()
    return dict(rows)


def test_opening_a_warehouse_adds_the_tables_and_columns_it_lacks(tmp_path):
    """A warehouse from an older contract or an older reachloop lacks a table, a contract field
    of the log and a column of the bookkeeping: opening it for writing adds each, where it was
    missing, and a table's rows stay; opening an up-to-date one changes nothing."""
    path = tmp_path / "warehouse.duckdb"
    con = open_warehouse(path)
    fresh = _columns(con)
    assert {f"raw.{name}" for name in EVENT_TYPES} | {f"meta.{name}" for name in META_TABLES} <= fresh.keys()
    con.execute("insert into raw.click (click_id) values ('c1')")
    con.execute("alter table raw.click drop column landing_url")
    con.execute("alter table meta.builds drop column models_built")
    con.execute("drop table meta.batch_gates")
    con.close()

    con = open_warehouse(path)
    try:
        assert _columns(con) == {**fresh, "raw.click": [c for c in fresh["raw.click"] if c != "landing_url"]
                                 + ["landing_url"], "meta.builds": fresh["meta.builds"]}
        assert con.execute("select click_id, landing_url from raw.click").fetchall() == [("c1", None)]
    finally:
        con.close()
    con = open_warehouse(path)
    try:
        again = _columns(con)
    finally:
        con.close()
    assert again.keys() == fresh.keys() and again["raw.click"][-1] == "landing_url"
