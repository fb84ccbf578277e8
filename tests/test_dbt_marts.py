"""The marts against figures computed here, independently, straight from the landing files.

One generated workload (the session's SF0.05) is landed and built once for the module with
the real ``dbt build``. The reference figures below never read the warehouse: DuckDB reads the
CSV / JSON Lines / Parquet files of the landing folder, keeps the records that parse, drops
exact duplicates, and applies docs/design.md's definitions for a handful of shares, contents and
pairs of employees. Ids that landing pseudonymizes (member and actor ids) are only compared
with each other, so clear text on this side and pseudonyms on the other give the same counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from builds.dbt_build import DbtBuildResult, run_dbt_build
from eventlog.contract import EVENT_TYPES, TIMESTAMP
from eventlog.errors import ReachloopError
from eventlog.settings import Settings, pii_key
from eventlog.warehouse import warehouse
from ingestion.landing import land_path
from tests.helpers import environ
from tests.scenarios import KEY, Landing

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_marts")]

PII_KEY = "test-dbt-marts-key"


@pytest.fixture(scope="module")
def built(small_workload: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, DbtBuildResult]]:
    home = tmp_path_factory.mktemp("dbt_marts_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACHLOOP_PII_KEY", PII_KEY)
        mp.setenv("REACHLOOP_HOME", str(home))
        settings = Settings.from_env()
        with warehouse(settings) as con:
            land_path(con, small_workload / "landing", pii_key())
        yield settings, run_dbt_build(settings)


@pytest.fixture
def marts(built: tuple[Settings, DbtBuildResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection per test: a build in this process needs the file to itself."""
    settings, _ = built
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def files(small_workload: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with one table per event type, read from the landing files only."""
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    landing = small_workload / "landing"
    for name in ("employee", "content", "share", "share_metrics", "engagement", "audience", "page_followers"):
        _load_clean(con, landing, name)
    yield con
    con.close()


def _load_clean(con: duckdb.DuckDBPyConnection, landing: Path, name: str) -> None:
    """Records of one event type whose every required field parses, typed, without exact
    duplicates. Files are ``<type>-<month>.<ext>`` or ``<type>/part-<month>.<ext>``."""
    et = EVENT_TYPES[name]
    paths = sorted(landing.glob(f"{name}-*")) + sorted((landing / name).glob("*"))
    readers = {
        ".csv": "read_csv('{p}', all_varchar = true, ignore_errors = true, null_padding = true)",
        ".jsonl": "read_json('{p}', format = 'newline_delimited', records = true, "
        "ignore_errors = true, columns = {columns})",
        ".parquet": "read_parquet('{p}')",
    }
    json_columns = "{" + ", ".join(f"'{f.name}': 'VARCHAR'" for f in et.fields) + "}"
    parts = []
    for path in paths:
        source = readers[path.suffix].format(p=path, columns=json_columns)
        present = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
        cols = ", ".join(
            f"cast({f.name} as varchar) as {f.name}" if f.name in present else f"null::varchar as {f.name}"
            for f in et.fields
        )
        parts.append(f"select {cols} from {source}")
    typed = ", ".join(
        f"try_cast(nullif(trim({f.name}), '') as {'timestamptz' if f.type == TIMESTAMP else f.type}) as {f.name}"
        for f in et.fields
    )
    valid = " and ".join(
        [f"{f.name} is not null" for f in et.required]
        + [f"({f.name} is null or {f.name} in ({', '.join(repr(a) for a in f.allowed)}))"
           for f in et.fields if f.allowed]
    )
    con.execute(
        f"create table {name} as select distinct * from (select {typed} from ({' union all '.join(parts)}))"
        f" where {valid}"
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    rel = con.execute(sql, params or [])
    names = [d[0] for d in rel.description]
    row = rel.fetchone()
    assert row is not None, sql
    return dict(zip(names, row, strict=True))


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _sample_shares(files: duckdb.DuckDBPyConnection) -> list[str]:
    """Employee shares with the most snapshots, page shares, and shares without unique
    impressions (reach falls back to impressions)."""
    picks = []
    for where, n in (
        ("s.author_type = 'employee'", 4),
        ("s.author_type = 'page'", 2),
        ("m.unique_impressions is null", 2),
    ):
        picks += [
            r[0]
            for r in files.execute(
                f"""select s.share_id from share s join share_metrics m using (share_id)
                    where {where} group by s.share_id order by count(*) desc, s.share_id limit {n}"""
            ).fetchall()
        ]
    assert len(set(picks)) >= 6
    return sorted(set(picks))


def test_build_ran_every_model_and_test(built: tuple[Settings, DbtBuildResult]) -> None:
    _, result = built
    assert result.ok, result.summary()
    assert result.models >= 30 and result.tests >= 100, result.summary()
    assert "model.reachloop.mart_reach_vs_network" in result.nodes


def test_marts_schema_holds_the_public_marts(marts: duckdb.DuckDBPyConnection) -> None:
    tables = {r[0] for r in marts.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'marts'").fetchall()}
    assert {
        "mart_reach_vs_network", "mart_engagement_rate", "mart_engagement_bubble",
        "mart_bubble_overlap", "mart_audience_pairs", "dim_employees", "dim_contents", "fct_shares",
    } <= tables
    assert not any(t.startswith(("stg_", "int_")) for t in tables)


def test_engagement_rate_and_reach_from_latest_snapshot(
    marts: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection
) -> None:
    for share_id in _sample_shares(files):
        want = _one(
            files,
            """select * from share_metrics where share_id = ?
               order by observed_at desc limit 1""",
            [share_id],
        )
        got = _one(marts, "select * from marts.mart_engagement_rate where share_id = ?", [share_id])
        for col in ("impressions", "clicks", "reactions", "comments", "reshares"):
            assert got[col] == want[col], (share_id, col)
        interactions = want["clicks"] + want["reactions"] + want["comments"] + want["reshares"]
        impressions = want["impressions"]
        assert _close(got["engagement_rate"], interactions / impressions if impressions else None), share_id
        assert _close(got["ctr"], want["clicks"] / impressions if impressions else None), share_id

        reach = _one(marts, "select * from marts.mart_reach_vs_network where share_id = ?", [share_id])
        if want["unique_impressions"] is None:
            assert (reach["members_reached"], reach["reach_basis"]) == (impressions, "impressions")
        else:
            assert (reach["members_reached"], reach["reach_basis"]) == (
                want["unique_impressions"], "unique_impressions"
            )


def test_network_size_is_the_latest_snapshot_at_or_before_posting(
    marts: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection
) -> None:
    for share_id in _sample_shares(files):
        share = _one(files, "select * from share where share_id = ?", [share_id])
        if share["author_type"] == "employee":
            sizes = files.execute(
                # a snapshot without a size (the contract allows it) neither sets nor hides one
                """select network_size from employee
                   where employee_id = ? and network = ? and observed_at <= ? and network_size is not null
                   order by observed_at desc limit 1""",
                [share["author_id"], share["network"], share["posted_at"]],
            ).fetchall()
        else:
            sizes = files.execute(
                """select followers from page_followers where page_id = ? and observed_at <= ?
                   order by observed_at desc limit 1""",
                [share["author_id"], share["posted_at"]],
            ).fetchall()
        network_size = sizes[0][0] if sizes else None
        got = _one(marts, "select * from marts.mart_reach_vs_network where share_id = ?", [share_id])
        assert got["network_size"] == network_size, share_id
        expected_ratio = got["members_reached"] / network_size if network_size else None
        assert _close(got["reach_ratio"], expected_ratio), share_id


def test_colleague_engagements(marts: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection) -> None:
    rows = files.execute(
        """with colleagues as (select distinct member_id from employee where member_id is not null),
           engagements as (select distinct on (engagement_id) * from engagement)
           select share_id, count(*) as known,
                  count(*) filter (where actor_id in (select member_id from colleagues)) as colleague
           from engagements group by share_id
           order by colleague desc, known desc, share_id limit 6"""
    ).fetchall()
    assert rows and rows[0][2] > 0, "the workload should have colleague engagements"
    for share_id, known, colleague in rows:
        got = _one(marts, "select * from marts.mart_engagement_bubble where share_id = ?", [share_id])
        assert (got["engagements_known_actor"], got["colleague_engagements"]) == (known, colleague)
        assert _close(got["colleague_engagement_share"], colleague / known)


AUDIENCE_SQL = """
    with latest as (
        select max(observed_at) as observed_at from audience
        where employee_id = $employee and observed_at <= $at
    )
    select member_id from audience
    where employee_id = $employee and observed_at = (select observed_at from latest)
    union
    select e.actor_id from engagement e join share s using (share_id)
    where (select observed_at from latest) is null
      and s.author_type = 'employee' and s.author_id = $employee
      and e.occurred_at < $at and e.occurred_at >= $at - interval 90 day
"""


def _audience(files: duckdb.DuckDBPyConnection, employee: str, at: object) -> set[str]:
    return {r[0] for r in files.execute(AUDIENCE_SQL, {"employee": employee, "at": at}).fetchall()}


def test_bubble_overlap(marts: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection) -> None:
    contents = files.execute(
        """select content_id from share where author_type = 'employee' and content_id is not null
           group by content_id order by count(distinct author_id) desc, content_id limit 3"""
    ).fetchall()
    for (content_id,) in contents:
        first_shares = files.execute(
            """select author_id, min(posted_at) from share
               where author_type = 'employee' and content_id = ? group by author_id""",
            [content_id],
        ).fetchall()
        audiences = [_audience(files, employee, at) for employee, at in first_shares]
        total, union = sum(map(len, audiences)), len(set().union(*audiences))
        got = _one(marts, "select * from marts.mart_bubble_overlap where content_id = ?", [content_id])
        assert (got["sharers"], got["audience_sum"], got["audience_union"]) == (len(first_shares), total, union)
        assert _close(got["overlap_ratio"], 1 - union / total if total else None)


def test_audience_pairs_jaccard(marts: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection) -> None:
    pairs = marts.execute(
        "select employee_a, employee_b, shared_contents, jaccard from marts.mart_audience_pairs "
        "order by shared_contents desc, employee_a, employee_b limit 3"
    ).fetchall()
    assert pairs
    for a, b, shared, jaccard in pairs:
        common = files.execute(
            """select count(distinct content_id) from share x join share y using (content_id)
               where x.author_type = 'employee' and x.author_id = ?
                 and y.author_type = 'employee' and y.author_id = ?""",
            [a, b],
        ).fetchone()[0]
        audience = {}
        for employee in (a, b):
            latest = files.execute(
                "select max(posted_at) from share where author_type = 'employee' and author_id = ?", [employee]
            ).fetchone()[0]
            audience[employee] = _audience(files, employee, latest)
        union = audience[a] | audience[b]
        assert shared == common
        assert _close(jaccard, len(audience[a] & audience[b]) / len(union) if union else None)


def test_a_bad_as_of_is_a_one_line_error(built: tuple[Settings, DbtBuildResult]) -> None:
    settings, _ = built
    with pytest.raises(ReachloopError, match="not an ISO 8601 timestamp"):
        run_dbt_build(settings, as_of="last tuesday")


def test_an_engager_who_stops_being_a_colleague_is_flagged_anew(tmp_path: Path) -> None:
    """fct_engagements, incremental: a member is a colleague while any employee snapshot names
    them. A new version of the one snapshot naming m-colleague (the same employee, network
    and moment) names another member: their engagement, untouched itself, is a colleague's no
    more after the next build — and the table is what a full rebuild gives."""
    land = Landing()
    land.employee("e1", "Sales")
    land.employee("e2", "Sales")
    land.tables["employee"][1]["member_id"] = "m-colleague"
    land.share("s1", "e1", "c1")
    land.tables["engagement"] = [
        dict(engagement_id=f"g{n}", share_id="s1", actor_id=actor, engagement_type="reaction",
             occurred_at="2025-01-03T00:00:00+00:00")
        for n, actor in enumerate(("m-colleague", "m-stranger"))
    ]
    moved = Landing()
    moved.tables["employee"] = [land.tables["employee"][1] | {"member_id": "m-elsewhere"}]
    home = tmp_path / "home"
    query = "select engagement_id, is_colleague_actor from marts.fct_engagements order by all"
    with environ(REACHLOOP_HOME=str(home), REACHLOOP_PII_KEY=KEY):
        settings = Settings(home)
        flags = []
        for batch, folder in ((land, "first"), (moved, "moved")):
            with warehouse(settings) as con:
                land_path(con, batch.write(tmp_path / folder), pii_key())
            run_dbt_build(settings, select="+fct_engagements", indirect_selection="cautious")
            with duckdb.connect(str(settings.warehouse), read_only=True) as con:
                flags.append(con.execute(query).fetchall())
        run_dbt_build(settings, select="+fct_engagements", full_refresh=True, indirect_selection="cautious")
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            full = con.execute(query).fetchall()
    assert flags == [[("g0", True), ("g1", False)], [("g0", False), ("g1", False)]]
    assert full == flags[-1]
