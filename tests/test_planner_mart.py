"""The share planner end to end: the advocacy opt-in from the contract and an HR roster, a
hand-made company landed and built with dbt (+mart_share_plan), every row of the plan worked
out by hand, and `reachloop plan` reading it (a prefix of it, or computed again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reachloop.cli import main
from tests.helpers import dbt_build, query, write_csv
from tests.helpers import land_in as land
from tests.helpers import write_dedented as write

PLAN_AT = "2026-03-10T00:00:00Z"


def test_roster_opt_in_column_maps_to_the_contract(settings, pii_key, tmp_path) -> None:
    path = write(
        tmp_path / "roster-2026-03-01.csv",
        """
        Employee #,Work Email,Department,Hire Date,Advocacy Opt-In
        E-1,a@acme.example,Sales,2021-04-01,Yes
        E-2,b@acme.example,Sales,2021-04-01,no
        E-3,c@acme.example,Sales,2021-04-01,
        E-4,d@acme.example,Sales,2021-04-01,maybe
        """,
    )
    [result] = land(settings, path, pii_key)
    assert result.rows_landed == 4
    assert "1 advocacy opt-in values are neither yes nor no" in result.message
    got = query(settings.warehouse, "select employee_id, advocate_opt_in from raw.employee order by 1")
    assert got == [("E-1", "true"), ("E-2", "false"), ("E-3", None), ("E-4", None)]


def company(folder: Path) -> Path:
    """Seven employees on LinkedIn (e2's own member id sits in e1's network: a colleague);
    opted in: e1, e2, e3, e7; e4 said no, e5 was never asked, e6 opted in but left.
    Audiences observed on 2026-02-01 (outside members a1 …). e7 shared c1; e1 posted on
    2026-03-09 at 20:00. c1 and c2 are recent and little shared, c3 (over 90 days old) too old to plan."""
    emp = [
        ("e1", "true", None), ("e2", "true", None), ("e3", "true", None), ("e4", "false", None),
        ("e5", None, None), ("e6", "true", "2026-02-01T00:00:00Z"), ("e7", "true", None),
    ]
    write_csv(folder, "employee", [
        {"employee_id": e, "observed_at": "2026-01-01T00:00:00Z", "network": "linkedin", "network_size": 100,
         "member_id": f"m_{e}", "department": "Sales", "advocate_opt_in": opt or "", "left_at": left or ""}
        for e, opt, left in emp
    ])
    networks = {
        "e1": [*range(1, 7), "m_e2"], "e2": range(5, 10), "e3": [1, 2, 3, 10], "e4": range(20, 41),
        "e5": range(41, 61), "e6": range(61, 81), "e7": [1, 2],
    }
    write_csv(folder, "audience", [
        {"employee_id": e, "member_id": m if str(m).startswith("m_") else f"a{m}", "observed_at": "2026-02-01T00:00:00Z"}
        for e, ms in networks.items() for m in ms
    ])
    write_csv(folder, "content", [
        {"content_id": c, "url": f"https://acme.example/{c}", "published_at": at}
        for c, at in (("c1", "2026-03-05T09:00:00Z"), ("c2", "2026-03-08T12:00:00Z"), ("c3", "2025-11-01T09:00:00Z"))
    ])
    write_csv(folder, "share", [
        {"share_id": "s1", "author_type": "employee", "author_id": "e7", "network": "linkedin",
         "posted_at": "2026-03-05T10:00:00Z", "tracking_token": "t1", "content_id": "c1"},
        {"share_id": "s2", "author_type": "employee", "author_id": "e1", "network": "linkedin",
         "posted_at": "2026-03-09T20:00:00Z", "tracking_token": "t2", "content_id": ""},
        {"share_id": "s3", "author_type": "employee", "author_id": "e4", "network": "linkedin",
         "posted_at": "2025-11-02T09:00:00Z", "tracking_token": "t3", "content_id": "c3"},
    ])
    return folder


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory, pii_key_module) -> Path:
    from eventlog.settings import Settings

    root = tmp_path_factory.mktemp("share_plan")
    settings = Settings.from_env(root / "home")
    land(settings, company(root / "landing"), pii_key_module)
    dbt_build(
        settings.home, "+mart_share_plan dim_contents", "--vars", json.dumps({"plan_at": PLAN_AT}),
        "--indirect-selection", "cautious",
    )
    return settings.home


@pytest.fixture(scope="module")
def pii_key_module() -> bytes:
    from tests.helpers import TEST_PII_KEY, environ

    with environ(REACHLOOP_PII_KEY=TEST_PII_KEY):
        yield TEST_PII_KEY.encode()


def test_the_plan_by_hand(planned: Path) -> None:
    rows = query(
        planned / "warehouse.duckdb",
        "select content_id, employee_id, sharer_rank, strftime(suggested_at, '%m-%d %H:%M'), expected_new_members,"
        " cumulative_new_members, audience_size, already_reached, prior_sharers, usual_hour"
        " from marts.mart_share_plan order by content_id, sharer_rank",
    )
    assert rows == [
        # c1: e7 reached a1, a2 (already_reached 2) and is not asked again. e2 adds a5-a9 (5),
        # then e1 a3, a4 (2; ties with e3's a3, a10, lower id first), then e3 a10 (1). e2 at
        # 09:00 (no posts: the default hour) on the first day, e1 at 20:00 (their one post's
        # hour) on the second, e3 on the third. e4 (no), e5 (never asked), e6 (left) never appear.
        ("c1", "e2", 1, "03-10 09:00", 5, 5, 5, 2, 1, 9),
        ("c1", "e1", 2, "03-11 20:00", 2, 7, 6, 2, 1, 20),
        ("c1", "e3", 3, "03-12 09:00", 1, 8, 4, 2, 1, 9),
        # c2: e1 adds a1-a6 (6; their colleague e2 does not count), e2 a7-a9, e3 a10; e7 adds
        # nobody: three picks, not five. e1 on day one at 20:00 is 24 h from both their own post
        # and their c1 slot, and makes three posts in a week: allowed. e3's turn (03-12 09:00)
        # is their c1 slot: the next day.
        ("c2", "e1", 1, "03-10 20:00", 6, 6, 6, 0, 0, 20),
        ("c2", "e2", 2, "03-11 09:00", 3, 9, 5, 0, 0, 9),
        ("c2", "e3", 3, "03-13 09:00", 1, 10, 4, 0, 0, 9),
    ]


def test_plan_command_reads_the_plan_and_computes_it_again(planned: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("REACHLOOP_HOME", str(planned))
    assert main(["plan", "c2", "--sharers", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["computed"] == "by the build"
    assert [(s["employee_id"], s["expected_new_members"]) for s in out["suggestions"]] == [("e1", 6), ("e2", 3)]
    # a later start: computed again for c2 alone (c1's planned shares then do not count)
    assert main(["plan", "c2", "--start", "2026-03-20T12:00:00Z", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["computed"] == "again, for this item"
    assert [(s["employee_id"], s["suggested_at"][:16]) for s in out["suggestions"]] == [
        ("e1", "2026-03-20T20:00"), ("e2", "2026-03-21T09:00"), ("e3", "2026-03-22T09:00"),
    ]
    assert main(["plan", "c2"]) == 0
    assert "e1" in capsys.readouterr().out
    assert main(["plan", "c3"]) == 1
    assert "c3 has no share plan" in capsys.readouterr().err
    assert main(["plan", "nope"]) == 1
    assert "no content item nope" in capsys.readouterr().err


def test_report_section_shows_each_items_plan(planned: Path) -> None:
    import duckdb

    from reports import section_share_plan
    from reports.sections import Marts

    with duckdb.connect(str(planned / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set schema 'marts'")
        _, section = section_share_plan.build(Marts(con, {"mart_share_plan", "dim_contents"}, 5))
        _, without = section_share_plan.build(Marts(con, {"dim_contents"}, 5))
    assert without.missing == ["mart_share_plan"]
    html = section.html
    # newest item first, then its sharers in rank order with their slots and gains
    assert html.index("<code>c2</code>") < html.index("<code>c1</code>")
    c2 = html[html.index("<code>c2</code>") : html.index("<code>c1</code>")]
    assert [c2.index(f"<code>{e}</code>") for e in ("e1", "e2", "e3")] == sorted(
        c2.index(f"<code>{e}</code>") for e in ("e1", "e2", "e3")
    )
    assert "2026-03-13 09:00" in c2 and "<td class='num'>10</td>" in c2
