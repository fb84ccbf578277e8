"""The synthetic workload generator: determinism, layout, counts, calibration, ground truth."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from eventlog.contract import BIGINT, CURRENCIES, DOUBLE, EVENT_TYPES, MONEY, RATE, TIMESTAMP
from generator import events, generate, ids, writers
from generator.names import BOT_USER_AGENTS

SF = 0.05
SEED = 7


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen")
    return out, generate(SF, SEED, out)


@pytest.fixture(scope="module")
def tables(run) -> dict[str, pd.DataFrame]:
    out, _ = run
    return {name: clean_rows(out / "landing", name) for name in EVENT_TYPES}


def event_type_of_file(rel: Path) -> str:
    if len(rel.parts) > 1:
        return rel.parts[-2]
    return re.split(r"[-.]", rel.name, maxsplit=1)[0]


def files_of(landing: Path, name: str) -> list[Path]:
    return sorted(
        p for p in landing.rglob("*") if p.is_file() and event_type_of_file(p.relative_to(landing)) == name
    )


def raw_records(path: Path) -> list[dict | None]:
    """Every record of a file; None for one that cannot be read as a record at all."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            return [dict(zip(header, r, strict=True)) if len(r) == len(header) else None for r in reader]
    records: list[dict | None] = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append(None)
    return records


def clean_rows(landing: Path, name: str) -> pd.DataFrame:
    """A tiny stand-in for the lander: keep rows that pass the contract, drop exact duplicates."""
    et = EVENT_TYPES[name]
    rows = [r for p in files_of(landing, name) for r in raw_records(p) if r is not None]
    df = pd.DataFrame(rows)
    ok = pd.Series(True, index=df.index)
    for f in et.fields:
        if f.name not in df:
            df[f.name] = None
        given = df[f.name].replace("", None)
        col = given
        if f.type == TIMESTAMP:
            col = pd.to_datetime(given.astype("string"), utc=True, format="ISO8601", errors="coerce")
        elif f.type in (BIGINT, DOUBLE, MONEY, RATE):
            col = pd.to_numeric(given.astype("string"), errors="coerce")
        ok &= given.isna() | col.notna()  # present but unparseable: quarantined
        if f.maximum is not None:
            ok &= ~(col.astype(float) > f.maximum)
        df[f.name] = col
    for f in et.required:
        ok &= df[f.name].notna()
    for f in et.fields:
        if f.allowed:
            ok &= df[f.name].isna() | df[f.name].isin(f.allowed)
        if f.type in (BIGINT, MONEY):
            ok &= df[f.name].isna() | df[f.name].astype("float").ge(0)
        if f.positive:
            ok &= df[f.name].isna() | df[f.name].astype("float").gt(0)
        if f.iso_currency:
            ok &= df[f.name].isna() | df[f.name].astype("string").str.upper().isin(CURRENCIES)
    df = df[ok]
    return df.drop_duplicates(subset=list(et.key)).reset_index(drop=True)


def sha_all(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(run, tmp_path):
    out, _ = run
    generate(SF, SEED, tmp_path / "again")
    assert sha_all(out) == sha_all(tmp_path / "again")
    generate(SF, SEED + 1, tmp_path / "other")
    other = sha_all(tmp_path / "other")
    assert other != sha_all(out)
    assert other["ground_truth/summary.json"] != sha_all(out)["ground_truth/summary.json"]


def test_chunked_writing_gives_the_bytes_of_one_write(tmp_path, monkeypatch):
    """Rows are made, rendered and written a chunk at a time (SF100 does not fit in memory
    otherwise), with malformed records at their planned places and Parquet row groups of a
    fixed size: tiny chunks must give the same files as one chunk per file."""
    monkeypatch.setattr(writers, "ROW_GROUP_ROWS", 64)  # many row groups even at a small scale

    def run_with(chunk_rows: int, id_chunk: int, out: Path) -> dict[str, str]:
        monkeypatch.setattr(events, "CHUNK_ROWS", chunk_rows)
        monkeypatch.setattr(ids, "_CHUNK", id_chunk)
        generate(SF, SEED, out)
        return sha_all(out)

    whole = run_with(10**9, 10**9, tmp_path / "whole")
    chunked = run_with(128, 7, tmp_path / "chunked")
    assert chunked == whole
    summary = json.loads((tmp_path / "chunked" / "ground_truth" / "summary.json").read_text())
    big = [f for f in summary["files"].values() if f["rows"] > 128 and f["malformed"]]
    assert {f["format"] for f in big} == {"csv", "jsonl", "parquet"}  # chunk boundaries were crossed


def test_every_event_type_in_every_format_and_both_naming_styles(run):
    out, summary = run
    landing = out / "landing"
    seen: dict[str, set[str]] = {}
    styles = set()
    for p in landing.rglob("*"):
        if p.is_file():
            rel = p.relative_to(landing)
            seen.setdefault(event_type_of_file(rel), set()).add(p.suffix)
            styles.add("folder" if len(rel.parts) > 1 else "flat")
    assert set(seen) == set(EVENT_TYPES)
    for name, suffixes in seen.items():
        assert suffixes == {".csv", ".jsonl", ".parquet"}, name
    assert styles == {"folder", "flat"}
    assert set(summary["files"]) == {str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()}


def test_required_columns_and_extra_fields(run):
    out, _ = run
    landing = out / "landing"
    for name, et in EVENT_TYPES.items():
        for p in files_of(landing, name):
            if p.suffix == ".parquet":
                cols = set(pq.read_schema(p).names)
            elif p.suffix == ".csv":
                cols = set(p.read_text().splitlines()[0].split(","))
            else:
                cols = set().union(*(r.keys() for r in raw_records(p) if r))
            missing = {f.name for f in et.required} - cols
            assert not missing, (p.name, missing)
    share_cols = set(
        pq.read_schema(next(p for p in files_of(landing, "share") if p.suffix == ".parquet")).names
    )
    assert "platform_post_urn" in share_cols
    click_cols = set(
        pq.read_schema(next(p for p in files_of(landing, "click") if p.suffix == ".parquet")).names
    )
    assert "referrer" in click_cols


def test_file_row_counts_match_summary(run):
    out, summary = run
    landing = out / "landing"
    for rel, info in summary["files"].items():
        records = raw_records(landing / rel)
        assert len(records) == info["rows"], rel
    for name in EVENT_TYPES:
        files = [f for f in summary["files"].values() if f["event_type"] == name]
        assert sum(f["clean_rows"] for f in files) == summary["events"][name]
        dups = summary["duplicates"][name]
        assert sum(f["duplicates"] for f in files) == dups["within_file"] + dups["across_files"]
        assert sum(sum(f["malformed"].values()) for f in files) == sum(summary["malformed"][name].values())
        assert sum(f["rows"] for f in files) == summary["rows_in_files"][name]


def test_clean_distinct_rows_match_expected_counts(run, tables):
    _, summary = run
    for name, df in tables.items():
        assert len(df) == summary["events"][name], name


def test_every_kind_of_dirt_is_injected(run):
    _, summary = run
    kinds = {k for per_type in summary["malformed"].values() for k, n in per_type.items() if n}
    assert kinds == {
        "missing_required", "bad_timestamp", "bad_enum", "non_numeric", "broken_row", "bad_currency", "negative_amount",
        "out_of_range",
    }
    for name in EVENT_TYPES:
        assert summary["malformed"][name]["broken_row"] >= 1
        assert summary["malformed"][name]["missing_required"] >= 1
    total_rows = sum(summary["rows_in_files"].values())
    assert 0.001 < summary["malformed_total"] / total_rows < 0.01
    assert summary["duplicates_total"] > 0 and summary["late_total"] > 0
    assert any(d["across_files"] for d in summary["duplicates"].values())


def test_late_events_and_mixed_offsets(run):
    out, _ = run
    landing = out / "landing"
    p = next(p for p in files_of(landing, "share_metrics") if p.suffix == ".csv" and "-01." not in p.name)
    month = int(re.search(r"-(\d\d)\.csv$", p.name).group(1))
    stamps = [r["observed_at"] for r in raw_records(p) if r]
    assert any(s[5:7].isdigit() and int(s[5:7]) < month for s in stamps)
    text = "".join(x.read_text() for x in files_of(landing, "click") if x.suffix != ".parquet")
    assert re.search(r"T\d\d:\d\d:\d\dZ", text) and re.search(r"T\d\d:\d\d:\d\d\+02:00", text)


def test_calibration(tables):
    emp, sh, sm = tables["employee"], tables["share"], tables["share_metrics"]
    li = emp[emp["network"] == "linkedin"]
    assert 120 <= li["network_size"].median() <= 250
    jan = li[li["observed_at"] < pd.Timestamp("2025-01-02", tz="UTC")]
    pf = tables["page_followers"].sort_values("observed_at")
    assert 6 <= jan["network_size"].sum() / pf["followers"].iloc[0] <= 15

    latest = sm.sort_values("observed_at").groupby("share_id").tail(1).set_index("share_id")
    sh = sh.join(latest[["impressions", "unique_impressions", "clicks"]], on="share_id")
    sh["reached"] = sh["unique_impressions"].fillna(sh["impressions"])
    page = sh[sh["author_type"] == "page"].sort_values("posted_at")
    page = pd.merge_asof(page, pf[["observed_at", "followers"]], left_on="posted_at", right_on="observed_at")
    page_ratio = (page["reached"] / page["followers"]).median()
    assert 0.02 <= page_ratio <= 0.08
    es = sh[(sh["author_type"] == "employee") & (sh["network"] == "linkedin")].sort_values("posted_at")
    es = pd.merge_asof(
        es,
        li.sort_values("observed_at")[["observed_at", "employee_id", "network_size"]],
        left_on="posted_at",
        right_on="observed_at",
        left_by="author_id",
        right_by="employee_id",
    )
    emp_ratio = (es["reached"] / es["network_size"]).median()
    assert emp_ratio >= 2 * page_ratio
    ctr_page = page["clicks"].sum() / page["impressions"].sum()
    ctr_emp = es["clicks"].sum() / es["impressions"].sum()
    assert ctr_emp > 1.4 * ctr_page
    assert sm["unique_impressions"].isna().any() and sm["unique_impressions"].notna().mean() > 0.7

    # Counts dip between snapshots sometimes, never below zero.
    s = sm.sort_values(["share_id", "observed_at"])
    assert (s.groupby("share_id")["reactions"].diff() < 0).any()
    assert (s[["impressions", "reactions", "comments", "reshares", "clicks"]] >= 0).all().all()


def test_bubble_audience_and_sharers(tables):
    emp, eng, aud, sh = tables["employee"], tables["engagement"], tables["audience"], tables["share"]
    colleagues = set(emp["member_id"].dropna())
    assert eng["actor_id"].isin(colleagues).mean() > 0.05
    per_member = aud.groupby("member_id")["employee_id"].nunique()
    assert (per_member >= 2).any()
    # A few % of employees write most of the employee posts.
    posts = sh[sh["author_type"] == "employee"].groupby("author_id").size().sort_values(ascending=False)
    top = posts.head(max(1, round(0.1 * emp["employee_id"].nunique())))
    assert top.sum() / posts.sum() > 0.5


def test_funnel_identity_and_bots(tables):
    ff, ck = tables["form_fill"], tables["click"]
    ff = ff.assign(norm=ff["email"].str.strip().str.lower())
    assert (ff["email"] != ff["norm"]).any()
    assert (ff.groupby("norm")["visitor_id"].nunique() >= 2).any()
    bots = ck[ck["user_agent"].isin(BOT_USER_AGENTS)]
    assert len(bots) > 0
    assert not set(bots["visitor_id"]) & set(ff["visitor_id"])
    deal = tables["deal"]
    assert set(deal["event"]) == {
        "created",
        "stage_changed",
        "amount_changed",
        "contact_added",
        "closed_won",
        "closed_lost",
    }
    assert {"USD", "EUR"} <= set(deal["currency"].dropna().str.upper())
    for extra, df in (("platform_post_urn", tables["share"]), ("referrer", ck)):
        values = df[extra].dropna().astype(str)
        assert len(values) and not values.str.contains(r"@|(?:^|[^:\w])li:[0-9a-f]{16}").any()


def test_ground_truth_single_touch_deals_are_attributable(run, tables):
    out, summary = run
    deals = pd.read_csv(out / "ground_truth" / "deals.csv")
    leads = pd.read_csv(out / "ground_truth" / "leads.csv")
    assert len(deals) == summary["deals"] and len(leads) == summary["leads"] == summary["events"]["form_fill"]
    assert (deals["touch_count"] == 1).any() and (deals["touch_count"] > 1).any()
    assert leads["true_share_id"].isna().any()  # organic leads, not driven by a share
    de, ff, ck, sh = tables["deal"], tables["form_fill"], tables["click"], tables["share"]
    ck = ck[~ck["user_agent"].isin(BOT_USER_AGENTS)].merge(
        sh[["share_id", "tracking_token"]], on="tracking_token"
    )
    ff = ff.assign(norm=ff["email"].str.strip().str.lower())
    contacts = de[de["event"].isin(["created", "contact_added"])].assign(
        norm=lambda d: d["contact_email"].str.strip().str.lower()
    )
    created = de[de["event"] == "created"].set_index("deal_id")["occurred_at"]
    for row in deals[deals["touch_count"] == 1].itertuples():
        emails = set(contacts.loc[contacts["deal_id"] == row.deal_id, "norm"])
        visitors = set(ff.loc[ff["norm"].isin(emails), "visitor_id"])
        t0 = created[row.deal_id]
        touches = ck[
            ck["visitor_id"].isin(visitors) & ck["occurred_at"].between(t0 - pd.Timedelta(days=90), t0)
        ]
        assert len(touches) == 1, row.deal_id
        touch = touches.iloc[0]
        assert touch["share_id"] == row.true_share_id
        fills = ff[(ff["visitor_id"] == touch["visitor_id"]) & (ff["occurred_at"] > touch["occurred_at"])]
        assert len(fills) and fills["occurred_at"].min() < t0
