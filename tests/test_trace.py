"""``reachloop trace``: the journey and credits of a deal, as text and as JSON, from the
built main scenario of tests/scenarios.py; an unknown deal is a one-line error."""

from __future__ import annotations

import json

import pytest

from reachloop.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attribution_dbt")]


@pytest.fixture
def home(main_scenario_home, monkeypatch: pytest.MonkeyPatch):
    home = main_scenario_home
    monkeypatch.setenv("REACHLOOP_HOME", str(home))
    return home


def test_trace_json(home, capsys) -> None:
    assert main(["trace", "three-touches", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["deal"]["status"] == "open" and out["deal"]["touches"] == 3
    assert out["source"].endswith("warehouse.duckdb")  # nothing published in this home
    steps = out["steps"]
    assert [s["step_number"] for s in steps] == list(range(1, len(steps) + 1))
    assert [s["step_at"] for s in steps] == sorted(s["step_at"] for s in steps)
    assert {s["step_type"] for s in steps} == {"share", "form_fill", "click", "deal_event"}
    touches = [s for s in steps if "credits" in s]
    assert [t["share_id"] for t in touches] == ["s1", "s2", "s3"]
    assert [t["credits"]["position_based"]["credit"] for t in touches] == pytest.approx([0.4, 0.2, 0.4])
    for model in out["models"]:
        assert sum(t["credits"][model]["credit"] for t in touches) == pytest.approx(1.0)
    shares = [s for s in steps if s["step_type"] == "share"]
    assert {(s["share_id"], s["employee_id"]) for s in shares} == {("s1", "e1"), ("s2", "e2"), ("s3", "e1")}


def test_trace_text(home, capsys) -> None:
    assert main(["trace", "amount-changed"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("deal amount-changed: won")
    assert "1,000.00 EUR" in text
    assert "touch 3" in text and "linear 333.33" in text


def test_trace_unattributed_deal_shows_why(home, capsys) -> None:
    assert main(["trace", "bot-only"]) == 0
    text = capsys.readouterr().out
    assert "no touch: unattributed" in text
    assert "not a touch: bot (link_preview)" in text


def test_unknown_deal_is_a_one_line_error(home, capsys) -> None:
    assert main(["trace", "no-such-deal"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no deal 'no-such-deal'" in err
