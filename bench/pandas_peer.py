"""The peer: the advocacy marts and two attribution models computed with pandas, the way an
analyst would write them — read every landing file into a DataFrame, drop what does not parse,
drop duplicates, then merge and group. No event log, no ledger, no checks beyond that, no
pseudonyms (ids are compared, never PII).

    python -m bench.pandas_peer build LANDING OUT      write OUT/<mart>.parquet
    python -m bench.pandas_peer compare OUT PUBLISHED  compare with the published marts

The same numbers as our marts are expected (docs/design.md, "The marts"), compared per share,
content item and deal × touch with a tolerance; ``compare`` prints the mismatches.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from eventlog.contract import BIGINT, DOUBLE, EVENT_TYPES, MONEY, TIMESTAMP
from ingestion.landing import event_type_for, landing_files

REPO = Path(__file__).resolve().parent.parent
BOT_RULES = REPO / "dbt_project" / "seeds" / "bot_user_agents.csv"
LOOKBACK = pd.Timedelta(days=90)
AUDIENCE_FALLBACK = pd.Timedelta(days=90)


# --- reading -----------------------------------------------------------------------------------


def _read_file(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".jsonl":
        records = []
        with path.open() as fh:
            for line in fh:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a cut-off line
                if isinstance(obj, dict):
                    records.append(obj)
        return pd.DataFrame.from_records(records)
    return pd.read_csv(path, dtype=str, on_bad_lines="skip", keep_default_na=False, na_values=[""])


def _clean(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Keep the contract's columns, typed; drop rows whose required values do not parse."""
    et = EVENT_TYPES[name]
    out = pd.DataFrame(index=df.index)
    bad = pd.Series(False, index=df.index)
    for f in et.fields:
        col = df[f.name] if f.name in df.columns else pd.Series(None, index=df.index, dtype=object)
        if f.type == TIMESTAMP:
            if not pd.api.types.is_datetime64_any_dtype(col):
                text = col.astype("string").str.strip()
                col = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
                bad |= text.notna() & col.isna()
            elif col.dt.tz is None:
                col = col.dt.tz_localize("UTC")
            bad |= (col < pd.Timestamp("2000-01-01", tz="UTC")) | (
                col >= pd.Timestamp("2100-01-01", tz="UTC")
            )
        elif f.type in (BIGINT, DOUBLE, MONEY):
            text = col.astype("string").str.strip()
            num = pd.to_numeric(text, errors="coerce")
            bad |= text.notna() & num.isna()
            if f.minimum is not None:
                bad |= num < f.minimum
            if f.maximum is not None:
                bad |= num > f.maximum
            col = num
        else:
            col = col.astype("string").str.strip().replace("", pd.NA)
            if f.allowed:
                col = col.str.lower()
                bad |= col.notna() & ~col.isin(f.allowed)
            if f.email:
                col = col.str.lower()
        if f.required:
            bad |= col.isna()
        out[f.name] = col
    return out[~bad]


def read_events(landing: Path, name: str) -> pd.DataFrame:
    """Every file of one event type, in landing order; exact duplicates dropped, and for one
    key the last version read wins."""
    frames = []
    for order, path in enumerate(landing_files(landing)):
        if event_type_for(path, landing) == name:
            frames.append(_clean(_read_file(path), name).assign(_file=order))
    if not frames:
        return pd.DataFrame(columns=[f.name for f in EVENT_TYPES[name].fields])
    df = pd.concat(frames, ignore_index=True)
    key = list(EVENT_TYPES[name].key)
    return df.drop_duplicates(subset=key, keep="last").drop(columns="_file").reset_index(drop=True)


# --- the marts ---------------------------------------------------------------------------------


def latest_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics.sort_values("observed_at", kind="stable").drop_duplicates("share_id", keep="last")


def network_sizes(shares: pd.DataFrame, employees: pd.DataFrame, followers: pd.DataFrame) -> pd.Series:
    """share_id → the author's latest snapshot at or before posted_at (page: follower count)."""
    emp = shares[shares.author_type == "employee"].sort_values("posted_at")
    snaps = employees[["employee_id", "network", "observed_at", "network_size"]].sort_values("observed_at")
    e = pd.merge_asof(
        emp,
        snaps,
        left_on="posted_at",
        right_on="observed_at",
        left_by=["author_id", "network"],
        right_by=["employee_id", "network"],
    )
    page = shares[shares.author_type == "page"].sort_values("posted_at")
    fol = followers.rename(columns={"followers": "network_size"}).sort_values("observed_at")
    p = pd.merge_asof(
        page, fol, left_on="posted_at", right_on="observed_at", left_by="author_id", right_by="page_id"
    )
    both = pd.concat([e[["share_id", "network_size"]], p[["share_id", "network_size"]]])
    return both.set_index("share_id")["network_size"]


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype("float64")
    return (num.astype("float64") / den).where(den > 0)


def reach_and_engagement(shares, metrics, employees, followers) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = latest_metrics(metrics)
    df = shares.merge(m.drop(columns="observed_at"), on="share_id", how="left")
    df["network_size"] = df.share_id.map(network_sizes(shares, employees, followers))
    df["members_reached"] = df.unique_impressions.fillna(df.impressions)
    df["reach_basis"] = np.where(
        df.unique_impressions.notna(),
        "unique_impressions",
        np.where(df.impressions.notna(), "impressions", None),
    )
    df["reach_ratio"] = _ratio(df.members_reached, df.network_size)
    reach = df[
        [
            "share_id",
            "author_type",
            "author_id",
            "posted_at",
            "members_reached",
            "reach_basis",
            "network_size",
            "reach_ratio",
        ]
    ]
    interactions = df.clicks + df.reactions + df.comments + df.reshares
    df["engagement_rate"] = _ratio(interactions, df.impressions)
    df["ctr"] = _ratio(df.clicks, df.impressions)
    rate = df[
        ["share_id", "impressions", "clicks", "reactions", "comments", "reshares", "engagement_rate", "ctr"]
    ]
    return reach, rate


def engagement_bubble(shares, engagements, employees) -> pd.DataFrame:
    colleagues = set(employees.member_id.dropna())
    e = engagements.assign(
        known=engagements.actor_id.notna(), colleague=engagements.actor_id.isin(colleagues)
    )
    counts = e.groupby("share_id").agg(
        engagements_known_actor=("known", "sum"), colleague_engagements=("colleague", "sum")
    )
    df = (
        shares[["share_id"]]
        .merge(counts, on="share_id", how="left")
        .fillna({"engagements_known_actor": 0, "colleague_engagements": 0})
    )
    df["colleague_engagement_share"] = _ratio(df.colleague_engagements, df.engagements_known_actor)
    return df


def share_audiences(targets: pd.DataFrame, audience: pd.DataFrame, shares, engagements) -> pd.DataFrame:
    """targets (share_id, employee_id, posted_at) → one row per member of the employee's
    audience as of posted_at: the latest observation at or before it, else the members who
    engaged with their shares in the 90 days before."""
    obs = audience[["employee_id", "observed_at"]].drop_duplicates().sort_values("observed_at")
    t = pd.merge_asof(
        targets.sort_values("posted_at"),
        obs.rename(columns={"observed_at": "obs_at"}),
        left_on="posted_at",
        right_on="obs_at",
        by="employee_id",
    )
    observed = t[t.obs_at.notna()].merge(
        audience.rename(columns={"observed_at": "obs_at"}), on=["employee_id", "obs_at"]
    )[["share_id", "member_id"]]
    missing = t[t.obs_at.isna()][["share_id", "employee_id", "posted_at"]]
    on_own = engagements.merge(
        shares[shares.author_type == "employee"][["share_id", "author_id"]], on="share_id"
    ).rename(columns={"author_id": "employee_id", "share_id": "engaged_share"})
    cand = missing.merge(on_own[["employee_id", "actor_id", "occurred_at"]], on="employee_id")
    cand = cand[
        (cand.occurred_at < cand.posted_at) & (cand.occurred_at >= cand.posted_at - AUDIENCE_FALLBACK)
    ]
    engaged = cand[["share_id", "actor_id"]].drop_duplicates().rename(columns={"actor_id": "member_id"})
    return pd.concat([observed, engaged], ignore_index=True)


def bubble_overlap(shares, audience, engagements) -> pd.DataFrame:
    emp = shares[(shares.author_type == "employee") & shares.content_id.notna()]
    first = emp.sort_values(["posted_at", "share_id"]).drop_duplicates(["content_id", "author_id"])
    targets = first.rename(columns={"author_id": "employee_id"})[["share_id", "employee_id", "posted_at"]]
    members = share_audiences(targets, audience, shares, engagements).merge(
        first[["share_id", "content_id"]], on="share_id"
    )
    sizes = members.groupby("content_id").agg(
        audience_sum=("member_id", "size"), audience_union=("member_id", "nunique")
    )
    df = first.groupby("content_id").size().rename("sharers").to_frame().join(sizes).reset_index()
    df[["audience_sum", "audience_union"]] = df[["audience_sum", "audience_union"]].fillna(0)
    df["overlap_ratio"] = 1 - _ratio(df.audience_union, df.audience_sum)
    return df


def attribution(shares, clicks, form_fills, deal_events) -> pd.DataFrame:
    """linear and position_based credits per deal × touch."""
    created = deal_events[deal_events.event == "created"].groupby("deal_id").occurred_at.min()
    first = deal_events.groupby("deal_id").occurred_at.min()
    deals = created.reindex(first.index).fillna(first).rename("created_at").reset_index()
    contacts = deal_events[deal_events.event.isin(["created", "contact_added"])].dropna(
        subset=["contact_email"]
    )
    contacts = contacts[["deal_id", "contact_email"]].drop_duplicates()
    visitors = form_fills[["email", "visitor_id"]].drop_duplicates()
    rules = pd.read_csv(BOT_RULES)
    bot = "|".join(re.escape(p) for p in rules.pattern.str.lower())
    clicks = clicks.assign(is_bot=clicks.user_agent.fillna("").str.lower().str.contains(bot, regex=True))
    owners = shares.sort_values(["posted_at", "share_id"]).drop_duplicates("tracking_token")
    clicks = clicks.merge(owners[["tracking_token", "share_id"]], on="tracking_token", how="left")
    dc = (
        contacts.merge(visitors, left_on="contact_email", right_on="email")
        .merge(clicks, on="visitor_id")
        .drop_duplicates(["deal_id", "click_id"])
        .merge(deals, on="deal_id")
    )
    touch = (
        (dc.occurred_at <= dc.created_at)
        & (dc.occurred_at >= dc.created_at - LOOKBACK)
        & ~dc.is_bot
        & dc.share_id.notna()
    )
    t = dc[touch].sort_values(["deal_id", "occurred_at", "click_id"])
    t["touch_number"] = t.groupby("deal_id").cumcount() + 1
    n = t.groupby("deal_id").click_id.transform("size")
    t["linear"] = 1.0 / n
    pos = np.where(
        n == 1,
        1.0,
        np.where(
            n == 2,
            0.5,
            np.where((t.touch_number == 1) | (t.touch_number == n), 0.4, 0.2 / (n - 2).clip(lower=1)),
        ),
    )
    t["position_based"] = pos
    long = t.melt(
        id_vars=["deal_id", "click_id", "touch_number", "share_id"],
        value_vars=["linear", "position_based"],
        var_name="model",
        value_name="credit",
    )
    return long


def build(landing: Path, out: Path) -> dict:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ev = {name: read_events(landing, name) for name in EVENT_TYPES}
    timings["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    reach, rate = reach_and_engagement(ev["share"], ev["share_metrics"], ev["employee"], ev["page_followers"])
    marts = {
        "mart_reach_vs_network": reach,
        "mart_engagement_rate": rate,
        "mart_engagement_bubble": engagement_bubble(ev["share"], ev["engagement"], ev["employee"]),
        "mart_bubble_overlap": bubble_overlap(ev["share"], ev["audience"], ev["engagement"]),
    }
    timings["advocacy"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    marts["attribution"] = attribution(ev["share"], ev["click"], ev["form_fill"], ev["deal"])
    timings["attribution"] = time.perf_counter() - t2
    timings["compute"] = time.perf_counter() - t1
    out.mkdir(parents=True, exist_ok=True)
    for name, df in marts.items():
        df.to_parquet(out / f"{name}.parquet", index=False)
    return {
        "seconds": time.perf_counter() - t0,
        "timings": timings,
        "rows_in": int(sum(len(d) for d in ev.values())),
        "rows_out": {k: len(v) for k, v in marts.items()},
    }


# --- the check against our marts ---------------------------------------------------------------

CHECKS = {
    # mart: (key columns, exact columns, float columns)
    "mart_reach_vs_network": (
        ["share_id"],
        ["author_type", "author_id", "reach_basis", "members_reached", "network_size"],
        ["reach_ratio"],
    ),
    "mart_engagement_rate": (
        ["share_id"],
        ["impressions", "clicks", "reactions", "comments", "reshares"],
        ["engagement_rate", "ctr"],
    ),
    "mart_engagement_bubble": (
        ["share_id"],
        ["engagements_known_actor", "colleague_engagements"],
        ["colleague_engagement_share"],
    ),
    "mart_bubble_overlap": (["content_id"], ["sharers", "audience_sum", "audience_union"], ["overlap_ratio"]),
    "attribution": (["deal_id", "model", "click_id"], ["touch_number", "share_id"], ["credit"]),
}


def _same(a: pd.Series, b: pd.Series, tol: float | None) -> pd.Series:
    both_null = a.isna() & b.isna()
    if tol is None:
        eq = a.astype("string") == b.astype("string")
        if pd.api.types.is_numeric_dtype(a) or pd.api.types.is_numeric_dtype(b):
            eq = pd.to_numeric(a, errors="coerce") == pd.to_numeric(b, errors="coerce")
        return both_null | eq.fillna(False)
    a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    return both_null | ((a - b).abs() <= tol * np.maximum(1.0, b.abs())).fillna(False)


def compare(
    out: Path, published: Path, *, schema: str = "main", tol: float = 1e-9, examples: int = 5
) -> dict:
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    report = {}
    for mart, (keys, exact, floats) in CHECKS.items():
        peer = pd.read_parquet(out / f"{mart}.parquet")
        if mart == "attribution":
            ours = con.execute(
                "select deal_id, model, click_id, touch_number, share_id, credit "
                f"from {schema}.mart_lead_to_deal_attribution where model in ('linear', 'position_based')"
            ).df()
        else:
            ours = con.execute(f"select {', '.join(keys + exact + floats)} from {schema}.{mart}").df()
        j = ours.merge(
            peer[keys + exact + floats], on=keys, how="outer", suffixes=("", "_peer"), indicator=True
        )
        only_ours = j[j._merge == "left_only"]
        only_peer = j[j._merge == "right_only"]
        both = j[j._merge == "both"]
        cols = {}
        for c in exact + floats:
            ok = _same(both[c], both[f"{c}_peer"], tol if c in floats else None)
            bad = both[~ok]
            if len(bad):
                cols[c] = {
                    "rows": int(len(bad)),
                    "examples": bad[keys + [c, f"{c}_peer"]].head(examples).astype(str).to_dict("records"),
                }
        report[mart] = {
            "rows_ours": int(len(ours)),
            "rows_peer": int(len(peer)),
            "matched": int(len(both)),
            "only_ours": int(len(only_ours)),
            "only_peer": int(len(only_peer)),
            "only_ours_examples": only_ours[keys].head(examples).astype(str).to_dict("records"),
            "only_peer_examples": only_peer[keys].head(examples).astype(str).to_dict("records"),
            "column_mismatches": cols,
            "ok": not len(only_ours) and not len(only_peer) and not cols,
        }
    con.close()
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pandas_peer")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("landing", type=Path)
    b.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("out", type=Path)
    c.add_argument(
        "published", type=Path, help="published reachloop.duckdb, or the warehouse with --schema marts"
    )
    c.add_argument("--schema", default="main")
    args = p.parse_args(argv)
    result = (
        build(args.landing, args.out)
        if args.cmd == "build"
        else compare(args.out, args.published, schema=args.schema)
    )
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
