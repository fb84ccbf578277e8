"""The vendor exports of the synthetic company land to the same marts as its contract files.

One SF0.05 company (seed 7, as small_workload) is generated with ``reachloop generate
--as-exports --comparable``: its contract files land into one home (``reachloop
run``), its vendor exports into another (each folder with the command exports.json names, then
``reachloop build``). Every published mart must then hold the same rows both ways (EXCEPT ALL
in both directions), with two kinds of allowance, both listed here:

* LIMITS: what no vendor format here can say, applied to the contract files too (the vendor
  limits of generator/exports/limits.py: a fact left out, or recorded as the vendor records
  it), so that the comparison is of everything the exports *can* say;
* DIFFERENT: mart columns that differ however the exports are written, and why.

Ids are no allowance: a vendor names things its own way (a post URN for a share, HubSpot's
record number for a deal), and ground_truth/export_ids.parquet says which id the exports land
for which id the contract files land; contract-side ids are translated before comparing.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from generator.exports import VENDOR_LIMITS
from ingestion.deliveries import SOURCE_FAMILIES
from ingestion.pseudonymize import install_macro
from reachloop.cli import main
from tests.helpers import TEST_PII_KEY, environ

pytestmark = pytest.mark.slow

SF, SEED = 0.05, 7

# What no vendor format here can say: left out of (or, for the last three, recorded as the
# vendor records it in) both the contract files and the exports of this comparison (name → why).
LIMITS = {
    "bot_clicks": "GA4 drops known bots before the export (and exports no user agent to judge by)",
    "reshare_engagements": "the linkedin format reads reactions and comments; no pull lists who reshared",
    "repeat_reactions": "a LinkedIn member reacts to a post once; the generator lets one react twice",
    "x_engagements": "no format carries who liked or replied to an X post",
    "x_network_sizes": "no format carries an X follower count",
    "member_post_clicks": "a member's own post analytics count no link clicks (tracked clicks stand in)",
    "page_post_content": "a LinkedIn page post names its article URL, and no adapter or model matches it"
    " to a content id (adapter gap, reported)",
    "content_topic": "the advocacy shares export has no topic column (adapter gap, reported)",
    "unshared_contents": "content reaches the advocacy export only with an employee's share of it",
    "export_network_sizes": "a Connections.csv always counts the network, also at an audience export",
    "snapshot_days": "a Connections.csv is dated by its day: sizes and audiences at midnight UTC",
    "crm_deal_records": "HubSpot dates a deal's contacts at its Create Date, records no change of an"
    " amount to the value it has, and puts the amount on every closing",
    "program_health_audits": "profiles and SSI, competitor audits and goals have no vendor format (contract"
    " files only)",
}

# Mart columns whose values differ whatever the exports say: (mart, column) → why.
DIFFERENT = {
    ("fct_engagements", "ingested_at"): "when the row landed in its home: bookkeeping, not data",
    ("fct_engagements", "ingested_through"): "the home's log position: bookkeeping, not data",
    ("fct_engagements", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_bubble_overlap", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_audience_pairs", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("fct_shares", "ingested_through"): "the home's log position: bookkeeping, not data",
    ("fct_shares", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_engagement_daily", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_attribution_rollups", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_reach_vs_network", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_engagement_rate", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_engagement_bubble", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_posting_cadence", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_share_value", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_program_value", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_program_kpis_monthly", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_network_monthly", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("fct_deal_journey", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_lead_to_deal_attribution", "log_position_through"): "the home's log position: bookkeeping, not data",
    ("mart_currency_conversions", "fx_at"): "an open deal converts at the newest landing its home saw,"
    " and the two homes landed at different moments",
    # An audience export names members by profile URL, an engagement by person URN, and the
    # two cannot be matched without LinkedIn (rl_member_id): where one employee's audience is
    # observed and the other's is the engaged fallback, the exports see no shared members.
    ("mart_audience_pairs", "audience_intersection"): "profile URLs and URNs never meet",
    ("mart_audience_pairs", "audience_union"): "profile URLs and URNs never meet",
    ("mart_audience_pairs", "jaccard"): "profile URLs and URNs never meet",
    ("mart_bubble_overlap", "audience_union"): "profile URLs and URNs never meet",
    ("mart_bubble_overlap", "overlap_ratio"): "profile URLs and URNs never meet",
    # The share planner covers audiences: who adds the most new members, and so who is picked,
    # when, and with what gain, follows what the audiences share (colleagues are recognized in
    # a Connections.csv only where the roster's profile URL could name them, and never are).
    **{
        ("mart_share_plan", column): "profile URLs and URNs never meet: other picks and gains"
        for column in (
            "employee_id", "suggested_at", "expected_new_members", "cumulative_new_members",
            "audience_size", "audience_basis", "usual_hour", "already_reached", "reason",
        )
    },
}

# Marts fed only by event types no vendor format carries (the limit program_health_audits):
# profile and SSI snapshots, competitor audits and goals land as contract files.
CONTRACT_FILES_ONLY = {
    "mart_profile_readiness", "mart_profile_reach_by_band", "mart_share_of_voice", "mart_goal_progress",
}

# Columns that name a thing by id: the kind of id (export_ids.parquet) their values are.
IDS = {
    "fct_shares": {"share_id": "share", "author_id": "page"},
    "mart_reach_vs_network": {"share_id": "share", "author_id": "page"},
    "mart_engagement_rate": {"share_id": "share", "author_id": "page"},
    "mart_engagement_bubble": {"share_id": "share", "author_id": "page"},
    "mart_posting_cadence": {"share_id": "share"},
    "fct_engagements": {"engagement_id": "engagement", "share_id": "share", "actor_id": "member"},
    "fct_deals": {"deal_id": "deal"},
    "mart_lead_to_deal_attribution": {
        "deal_id": "deal", "click_id": "click", "share_id": "share", "author_id": "page",
    },
    "fct_deal_journey": {"deal_id": "deal", "share_id": "share"},
    "mart_deal_segments": {"deal_id": "deal"},
    "mart_share_value": {"share_id": "share", "author_id": "page"},
}
# Columns whose kind of id depends on the row (a journey step's id is a share's, a click's, a
# form submission's or a deal event's; a rollup's group key a share's on the share dimension).
ID_EXPRESSIONS = {
    "fct_deal_journey": {
        "step_id": "mapped(step_type, step_id)",
        "detail": "replace(detail, 'page page:acme ', 'page ' || mapped('page', 'page:acme') || ' ')",
    },
    "mart_currency_conversions": {
        "source_id": "case when source = 'deal' then mapped('deal', source_id) else source_id end",
    },
    "mart_attribution_rollups": {
        "group_key": "case when dimension = 'share' then mapped('share', group_key) else group_key end",
    },
}
# Journey steps at one instant are numbered in the order of their ids, and the vendors' ids sort
# otherwise: the contract side is numbered again by the translated ids, as dbt numbers them.
RENUMBERED = {
    "fct_deal_journey": "row_number() over (partition by deal_id order by step_at, case step_type"
    " when 'share' then 1 when 'click' then 2 when 'form_fill' then 3 else 4 end, step_id)",
}


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generate, land both ways, build both homes; the published DuckDB of each."""
    root = tmp_path_factory.mktemp("exports-lossless")
    out = root / "company"
    # --comparable applies every vendor limit, which are LIMITS (test_…_what_the_exports_cannot_say)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["generate", "--scale", str(SF), "--seed", str(SEED), "--out", str(out),
                     "--as-exports", "--comparable", "--json"]) == 0
    contract, exports = root / "home-contract", root / "home-exports"
    with environ(REACHLOOP_HOME=str(contract), REACHLOOP_PII_KEY=TEST_PII_KEY):
        assert main(["run", str(out / "landing")]) == 0
    with environ(REACHLOOP_HOME=str(exports), REACHLOOP_PII_KEY=TEST_PII_KEY):
        manifest = json.loads((out / "exports" / "exports.json").read_text())
        for entry in manifest["formats"]:
            folder = Path(entry["command"].split()[-1].replace("DIR/", f"{out}/"))
            assert entry["command"] == f"reachloop land --format {entry['format']} DIR/exports/{entry['folder']}"
            results = _land(["--format", entry["format"], str(folder)])
            # every export is news: a member's unchanged export of a later day included
            assert [r for r in results if r["status"] != "landed"] == [], entry["format"]
        # exchange rates, media rates and costs have no vendor format: a company lands the same
        # contract files whatever its other sources are (as scripts/demo_exports.sh does)
        for event_type in SOURCE_FAMILIES["finance"]:
            for path in sorted((out / "landing").glob(f"{event_type}-*")):
                _land([str(path)])
        assert main(["build"]) == 0
    return {
        "out": out,
        "contract": contract / "published" / "reachloop.duckdb",
        "exports": exports / "published" / "reachloop.duckdb",
        "warehouse": exports / "warehouse.duckdb",
    }


def _land(args: list[str]) -> list[dict]:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        assert main(["land", *args, "--json"]) == 0, captured.getvalue()[-2000:]
    return [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def both(homes: dict[str, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """One connection to both published marts (c, e) and the id map with landed ids."""
    con = duckdb.connect()
    install_macro(con, TEST_PII_KEY.encode())
    con.execute(f"attach '{homes['contract']}' as c (read_only)")
    con.execute(f"attach '{homes['exports']}' as e (read_only)")
    ids = homes["out"] / "ground_truth" / "export_ids.parquet"
    con.execute(
        f"""
        create table idmap as
        select kind,
               case when contract_pseudonymized then pseudonym(contract_id) else contract_id end as contract_value,
               export_id || coalesce(pseudonym(export_pseudonymized), '') as export_value
        from read_parquet('{ids}')
        """
    )
    con.execute(
        "create macro mapped(k, v) as"
        " coalesce((select any_value(export_value) from idmap where kind = k and contract_value = v), v)"
    )
    yield con
    con.close()


def test_the_comparison_allows_exactly_what_the_exports_cannot_say() -> None:
    assert set(LIMITS) == set(VENDOR_LIMITS)


def test_ids_map_one_to_one(both: duckdb.DuckDBPyConnection) -> None:
    counts = both.execute(
        "select kind, count(*), count(distinct contract_value), count(distinct export_value)"
        " from idmap group by kind"
    ).fetchall()
    assert {k for k, *_ in counts} >= {"share", "page", "click", "engagement", "member", "deal", "deal_event"}
    for kind, n, contracts, exported in counts:
        assert n == contracts == exported, kind


def test_every_published_mart_is_equal_both_ways(both: duckdb.DuckDBPyConnection) -> None:
    marts = _marts(both, "c")
    assert marts == _marts(both, "e")
    assert set(IDS) | set(ID_EXPRESSIONS) | {m for m, _ in DIFFERENT} <= set(marts)
    unequal = {}
    for mart in marts:
        contract, exported = _selects(both, mart)
        only_contract = both.execute(f"select count(*) from ({contract} except all {exported})").fetchall()[0][0]
        only_exports = both.execute(f"select count(*) from ({exported} except all {contract})").fetchall()[0][0]
        if only_contract or only_exports:
            sample = both.execute(f"select * from ({contract} except all {exported}) limit 3").fetchall()
            unequal[mart] = (only_contract, only_exports, sample)
    assert not unequal, unequal


def test_marts_are_not_empty(both: duckdb.DuckDBPyConnection) -> None:
    """Equal marts prove nothing if both are empty: the comparison covers real rows."""
    for mart in ("fct_shares", "fct_engagements", "fct_deals", "mart_lead_to_deal_attribution",
                 "fct_deal_journey", "mart_audience_pairs", "mart_reach_by_employee", "dim_employees"):
        assert both.execute(f'select count(*) from e.main."{mart}"').fetchall()[0][0] > 0, mart


def test_where_profile_urls_and_urns_never_meet_the_exports_see_fewer_shared_members(
    both: duckdb.DuckDBPyConnection,
) -> None:
    """The audience columns left out of equality agree as far as they can: the same pairs with
    the same audience sizes, the exports' audiences sharing no member the contract files' do
    not, and each union what its sizes and intersection make it."""
    pairs = both.execute(
        """
        select count(*),
               count(*) filter (where e.audience_intersection <= c.audience_intersection
                                  and e.audience_union = e.audience_a + e.audience_b - e.audience_intersection)
        from c.main.mart_audience_pairs c
        join e.main.mart_audience_pairs e using (employee_a, employee_b, shared_contents, audience_a, audience_b)
        """
    ).fetchall()[0]
    assert pairs[0] == pairs[1] == both.execute("select count(*) from c.main.mart_audience_pairs").fetchall()[0][0]
    overlap = both.execute(
        """
        select count(*), count(*) filter (where e.audience_union >= c.audience_union)
        from c.main.mart_bubble_overlap c join e.main.mart_bubble_overlap e using (content_id, sharers, audience_sum)
        """
    ).fetchall()[0]
    assert overlap[0] == overlap[1] == both.execute("select count(*) from c.main.mart_bubble_overlap").fetchall()[0][0]


def test_the_exports_were_dirty(homes: dict[str, Path]) -> None:
    """The exports path ran on bad input: every format had repeated records, and every format
    that can hold a broken value had some quarantined."""
    with duckdb.connect(str(homes["warehouse"]), read_only=True) as con:
        per_format = dict(
            (fmt, (dup, bad)) for fmt, dup, bad in con.execute(
                "select format, sum(rows_duplicate), sum(rows_quarantined) from meta.batches group by 1"
            ).fetchall()
        )
    manifest = json.loads((homes["out"] / "exports" / "exports.json").read_text())
    # Rates, costs, profiles, audits and goals have no vendor format: they land as contract files.
    contract_files = {"csv", "jsonl", "parquet"}
    assert set(per_format) - contract_files == {f["format"] for f in manifest["formats"]}
    per_format = {fmt: counts for fmt, counts in per_format.items() if fmt not in contract_files}
    assert all(dup > 0 for dup, _ in per_format.values()), per_format
    for fmt in ("advocacy_shares", "post_analytics", "linkedin", "ga4", "hubspot"):
        assert per_format[fmt][1] > 0, fmt


def _marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'main'"
            " and table_name <> '_publication' order by 1",
            [catalog],
        ).fetchall()
    ]


def _selects(con: duckdb.DuckDBPyConnection, mart: str) -> tuple[str, str]:
    """The contract side (ids translated) and the exports side of one mart, without the
    columns listed in DIFFERENT."""
    columns = [
        (name, kind) for name, kind in con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_catalog = 'c' and table_name = ? order by ordinal_position",
            [mart],
        ).fetchall()
        if (mart, name) not in DIFFERENT
    ]

    def translated(name: str) -> str:
        if name in ID_EXPRESSIONS.get(mart, {}):
            return ID_EXPRESSIONS[mart][name]
        if name in IDS.get(mart, {}):
            return f"mapped('{IDS[mart][name]}', {name})"
        return name

    def compared(name: str, kind: str, value: str) -> str:
        # Ratios and credits are sums of floating-point terms, added in an order that follows
        # the ids (which the vendors name otherwise): equal to 9 decimals, not to the last bit.
        return f"round({value}, 9) as {name}" if kind == "DOUBLE" else f"{value} as {name}"

    contract = f'select {", ".join(translated(n) + " as " + n for n, _ in columns)} from c.main."{mart}"'
    if mart in RENUMBERED:
        contract = f"select * replace ({RENUMBERED[mart]} as step_number) from ({contract})"
    contract = f'select {", ".join(compared(n, k, n) for n, k in columns)} from ({contract})'
    exported = f'select {", ".join(compared(n, k, n) for n, k in columns)} from e.main."{mart}"'
    return contract, exported


def test_the_exports_alone_feed_every_headline_metric(homes: dict[str, Path]) -> None:
    """What `make demo-exports` promises, on the exports home: every mart has rows (but those fed
    only by the program team's own contract files, CONTRACT_FILES_ONLY), reach is measured
    against a network size for nearly every employee share, colleagues are found among engagers,
    audiences overlap, and deals are attributed."""
    with duckdb.connect(str(homes["exports"]), read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
            " and table_name not like '\\_%' escape '\\'").fetchall()]
        empty = [m for m in marts if con.execute(f'select count(*) from "{m}"').fetchone()[0] == 0]
        assert len(marts) >= 22 and set(empty) == CONTRACT_FILES_ONLY
        with_ratio = con.execute(
            "select avg(case when reach_ratio is not null then 1.0 else 0 end) from mart_reach_vs_network"
            " where author_type = 'employee'").fetchone()[0]
        assert with_ratio >= 0.9
        assert con.execute("select sum(colleague_engagements) from mart_engagement_bubble").fetchone()[0] > 0
        assert con.execute("select count(*) from mart_bubble_overlap where sharers > 1 and overlap_ratio > 0"
                           ).fetchone()[0] > 0
        assert con.execute("select count(*) from mart_audience_pairs where jaccard > 0").fetchone()[0] > 0
        assert con.execute("select count(distinct deal_id) from mart_lead_to_deal_attribution").fetchone()[0] > 0
