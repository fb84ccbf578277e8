"""Attribution against the generator's ground truth: on a generated workload, the touch
count of every deal matches the generator's, and on single-touch journeys last_touch names
the true share every time."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reachloop.cli import main
from tests.helpers import dbt_build

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attribution_dbt")]


def test_ground_truth(small_workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("REACHLOOP_HOME", str(home))
    assert main(["land", str(small_workload / "landing")]) == 0
    dbt_build(home, "+mart_lead_to_deal_attribution +fct_deals")
    truth = pd.read_csv(small_workload / "ground_truth" / "deals.csv")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        deals = con.execute("select deal_id, touches, status from marts.fct_deals").df()
        last = con.execute(
            "select deal_id, share_id from marts.mart_lead_to_deal_attribution"
            " where model = 'last_touch' and credit = 1"
        ).df()
    seen = truth.merge(deals, on="deal_id", how="left", validate="one_to_one")
    assert seen["touches"].notna().all(), "every generated deal is in fct_deals"
    assert (seen["touches"] == seen["touch_count"]).all(), seen[seen["touches"] != seen["touch_count"]]
    single = seen[seen["touch_count"] == 1].merge(last, on="deal_id", how="left")
    assert len(single) > 0
    assert (single["share_id"] == single["true_share_id"]).all(), single[single["share_id"] != single["true_share_id"]]
