"""Memory cap and spill directory: set on every warehouse connection, and still settable after
a query has spilled (DuckDB refuses to change temp_directory once it has been used)."""

from __future__ import annotations

from eventlog.warehouse import MEMORY_LIMIT_ENV, TEMP_DIRECTORY_ENV, open_warehouse


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
