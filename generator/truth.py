"""Ground truth: which share really drove each lead and each deal, and how many touches a
deal's journey has. Computed from the clean events themselves, so it matches what lands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.content import Shares
from generator.deals import Deals
from generator.events import Events
from generator.funnel import SOCIAL, People
from generator.names import BOT_USER_AGENTS

LOOKBACK_DAYS = 90
CLICK_COLUMNS = ("click_id", "tracking_token", "visitor_id", "occurred_at", "user_agent")


def _frame(ev: Events, columns: list[str]) -> pd.DataFrame:
    return ev.table.select(columns).to_pandas()


def _norm(email: pd.Series) -> pd.Series:
    return email.str.strip().str.lower()


def lead_truth(form_fills: Events, clicks: Events, shares: Events) -> pd.DataFrame:
    """Per submission: the share of the submitting visitor's last human click before it
    (none for organic leads)."""
    ff = _frame(form_fills, ["submission_id", "visitor_id", "email", "form_id", "occurred_at"])
    ck = human_clicks(clicks, shares)
    ff = ff.sort_values("occurred_at", kind="stable")
    ck = ck.sort_values("occurred_at", kind="stable")
    merged = pd.merge_asof(
        ff,
        ck[["visitor_id", "occurred_at", "click_id", "share_id"]].rename(columns={"occurred_at": "click_at"}),
        left_on="occurred_at",
        right_on="click_at",
        by="visitor_id",
        allow_exact_matches=False,
    )
    touches = ck.groupby("visitor_id").size().rename("visitor_clicks")
    merged = merged.join(touches, on="visitor_id")
    merged["visitor_clicks"] = merged["visitor_clicks"].fillna(0).astype(int)
    merged["email_normalized"] = _norm(merged["email"])
    out = merged[
        [
            "submission_id",
            "visitor_id",
            "email_normalized",
            "form_id",
            "occurred_at",
            "share_id",
            "click_id",
            "click_at",
            "visitor_clicks",
        ]
    ].rename(columns={"share_id": "true_share_id", "click_id": "driving_click_id"})
    return out.sort_values(["occurred_at", "submission_id"], kind="stable").reset_index(drop=True)


def human_clicks(clicks: Events, shares: Events) -> pd.DataFrame:
    # Bots are left out before pandas: millions of user agents as Python strings are gigabytes.
    table = clicks.table.select(list(CLICK_COLUMNS))
    human = pc.invert(pc.is_in(table["user_agent"], value_set=pa.array(BOT_USER_AGENTS, pa.string())))
    ck = table.filter(human).drop_columns(["user_agent"]).to_pandas()
    sh = _frame(shares, ["share_id", "tracking_token"])
    return ck.merge(sh, on="tracking_token", how="left")


def deal_truth(
    deals: Deals,
    deal_events: Events,
    people: People,
    conv_click: np.ndarray,
    click_share: np.ndarray,
    s: Shares,
    form_fills: Events,
    clicks: Events,
    shares: Events,
) -> pd.DataFrame:
    """One row per deal: true_share_id (the primary contact's converting share; for a primary
    without a social touch, the latest touch of another contact; else empty), its source,
    touch_count (distinct human clicks by all contacts' visitors in the 90 days up to
    creation), contacts, status at the end of the window."""
    de = _frame(deal_events, ["deal_id", "event", "occurred_at", "contact_email", "amount", "currency"])
    created = de[de["event"] == "created"].set_index("deal_id")
    contacts = de[de["event"].isin(["created", "contact_added"])][["deal_id", "contact_email"]].copy()
    contacts["email_normalized"] = _norm(contacts["contact_email"])
    ff = _frame(form_fills, ["visitor_id", "email"])
    ff["email_normalized"] = _norm(ff["email"])
    owned = ff[["email_normalized", "visitor_id"]].drop_duplicates()
    ck = human_clicks(clicks, shares)
    paths = contacts.merge(owned, on="email_normalized").merge(ck, on="visitor_id")
    paths = paths.join(created["occurred_at"].rename("created_at"), on="deal_id")
    window = paths["created_at"] - pd.Timedelta(days=LOOKBACK_DAYS)
    paths = paths[(paths["occurred_at"] >= window) & (paths["occurred_at"] <= paths["created_at"])]
    touch_count = paths.groupby("deal_id")["click_id"].nunique()
    last_touch = paths.sort_values(["occurred_at", "click_id"]).groupby("deal_id")["share_id"].last()
    n_contacts = contacts.groupby("deal_id")["email_normalized"].nunique()

    deal_ids = deals.deal_id.to_numpy(zero_copy_only=False)
    social = people.kind[deals.primary] == SOCIAL
    share_idx = np.where(social, click_share[np.maximum(conv_click[deals.primary], 0)], -1)
    share_ids = s.share_id.to_numpy(zero_copy_only=False)[np.maximum(share_idx, 0)]
    out = pd.DataFrame(
        {
            "deal_id": deal_ids,
            "created_at": created.loc[deal_ids, "occurred_at"].to_numpy(),
            "true_share_id": np.where(share_idx >= 0, share_ids, None),
            "primary_contact": people.email[deals.primary],
            "status": deals.status,
        }
    )
    out["true_share_source"] = np.where(share_idx >= 0, "primary_conversion", None)
    # When the primary contact came in without a social touch but a second contact did, the
    # share that brought that contact is the one behind the deal.
    other = out["true_share_id"].isna() & out["deal_id"].isin(last_touch.index)
    out.loc[other, "true_share_id"] = out.loc[other, "deal_id"].map(last_touch)
    out.loc[other, "true_share_source"] = "other_contact"
    out["touch_count"] = out["deal_id"].map(touch_count).fillna(0).astype(int)
    out["contacts"] = out["deal_id"].map(n_contacts).fillna(0).astype(int)
    return out
