"""Leads and deals as HubSpot exports them (``hubspot``): one export folder of CSVs —
contacts, deals, the deal property history (``dealstage`` and ``amount`` versions) and form
submissions (with the hidden ``rl_visitor_id`` field our forms carry), plus a second,
overlapping export of the last months' submissions.

HubSpot writes times in the portal's zone without an offset; the portal here runs on UTC, so
the folder lands without options. Record ids are HubSpot's numbers; a form submission keeps
its conversion id. The deals are the generator's as HubSpot records them (the limit
``crm_deal_records``): contacts are associations as of the Create Date.

Dirt: amounts written with thousands separators or a currency sign, currency codes in lower
case, emails typed with capitals and stray spaces, the overlapping export's repeats, and a few
broken submissions (a time nobody can read, no email) that land in the quarantine only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.exports import vendor_ids
from generator.exports.files import csv_text, write_files
from generator.exports.world import World
from generator.ids import stream

TIME = "%Y-%m-%d %H:%M:%S"


def write_hubspot(world: World, root: Path, ids: vendor_ids.IdMap) -> dict[str, int]:
    rng = stream(world.seed, "exports:hubspot")
    deals = _frame(world.exported("deal"))
    fills = _frame(world.exported("form_fill"))
    contacts = _contacts(deals, fills)
    written = {}
    written |= _write(root, "contacts.csv", _contact_rows(contacts))
    deal_rows, history, deal_rid = _deal_rows(deals, contacts, rng)
    written |= _write(root, "deals.csv", deal_rows)
    written |= _write(root, "deal_property_history.csv", history)
    forms, overlap = _submission_rows(fills, rng)
    written |= _write(root, "form_submissions.csv", forms)
    written |= _write(root, "form_submissions-overlap.csv", overlap)
    _map_ids(ids, deals, contacts, deal_rid)
    return written


def _frame(ev) -> pd.DataFrame:
    df = ev.table.to_pandas()
    df["t"] = ev.time
    return df


def _normalized(email: pd.Series) -> pd.Series:
    return email.str.strip().str.lower()


def _contacts(deals: pd.DataFrame, fills: pd.DataFrame) -> pd.DataFrame:
    """One contact per person (address): as first typed, created when first seen."""
    seen = pd.concat(
        [
            fills[["email", "t"]],
            deals.loc[deals["contact_email"].notna(), ["contact_email", "t"]].rename(
                columns={"contact_email": "email"}),
        ]
    )
    seen["key"] = _normalized(seen["email"])
    seen = seen.sort_values(["t", "key"], kind="stable")
    first = seen.groupby("key", sort=True).first()
    first["record_id"] = np.asarray(vendor_ids.contact_record_ids(len(first)).to_pylist())
    return first


def _contact_rows(contacts: pd.DataFrame) -> pd.DataFrame:
    local = pd.Series(contacts.index).str.split("@").str[0].str.replace(r"[0-9]+$", "", regex=True)
    return pd.DataFrame(
        {
            "Record ID": contacts["record_id"].to_numpy(),
            "First Name": local.str.split(".").str[0].str.title().to_numpy(),
            "Last Name": local.str.split(".").str[-1].str.title().to_numpy(),
            "Email": contacts["email"].to_numpy(),
            "Create Date": _time(contacts["t"]).to_numpy(),
        }
    )


def _time(t: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(np.asarray(t), unit="s").strftime(TIME))


def _deal_rows(
    deals: pd.DataFrame, contacts: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """deals.csv (each deal's current state) and deal_property_history.csv; and each deal's
    record id by the generator's deal id."""
    created = deals[deals["event"] == "created"].sort_values(["t", "deal_id"], kind="stable")
    record = np.asarray(vendor_ids.deal_record_ids(len(created)).to_pylist())
    rid = pd.Series(record, index=created["deal_id"].to_numpy())
    by_time = deals.sort_values(["t", "deal_event_id"], kind="stable")
    stage = by_time[by_time["stage"].notna()].groupby("deal_id")["stage"].last()
    amount = by_time[by_time["amount"].notna()].groupby("deal_id")["amount"].last()
    closing = by_time[by_time["event"].isin(["closed_won", "closed_lost"])].groupby("deal_id").last()
    added = deals[deals["event"] == "contact_added"].copy()
    added["contact"] = _normalized(added["contact_email"]).map(contacts["record_id"])
    associated = added.sort_values(["t", "contact"]).groupby("deal_id")["contact"].agg(";".join)
    d = created["deal_id"]
    currency = d.map(created.set_index("deal_id")["currency"])
    closed_at = d.map(closing["t"])
    rows = pd.DataFrame(
        {
            "Record ID": record,
            "Deal Name": ("Opportunity " + pd.Series(record)).to_numpy(),
            "Deal Stage": d.map(stage).to_numpy(),
            "Pipeline": "default",
            "Amount": _amount_text(d.map(amount), currency, rng),
            "Currency": currency.to_numpy(),
            "Create Date": _time(created["t"]).to_numpy(),
            "Close Date": np.where(closed_at.notna(), _time(closed_at.fillna(0).astype(np.int64)), None),
            "Is Closed Won": np.where(d.map(closing["event"]).to_numpy() == "closed_won", "true", "false"),
            "Associated Contact IDs": d.map(associated).to_numpy(),
        }
    )
    return rows, _history(deals, rid), rid


def _amount_text(amount: pd.Series, currency: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Amounts as a CRM export prints them: plain, with thousands separators, or, for dollars,
    with the sign."""
    plain = amount.map(lambda a: f"{a:.2f}" if pd.notna(a) else "")  # per deal, not per event
    grouped = amount.map(lambda a: f"{a:,.2f}" if pd.notna(a) else "")
    style = rng.choice(3, len(amount), p=[0.6, 0.3, 0.1])
    usd = currency.str.upper().to_numpy() == "USD"
    signed = np.where(usd, "$" + grouped.to_numpy(dtype=object), grouped.to_numpy(dtype=object))
    return np.where(style == 0, plain, np.where(style == 1, grouped, signed))


def _history(deals: pd.DataFrame, rid: pd.Series) -> pd.DataFrame:
    """One row per version of ``dealstage`` and ``amount``: the creation's value, then each change."""
    stage = deals[deals["event"].isin(["created", "stage_changed", "closed_won", "closed_lost"])]
    amount = deals[deals["event"].isin(["created", "amount_changed"]) & deals["amount"].notna()]
    versions = pd.concat(
        [
            stage.assign(Property="dealstage", Value=stage["stage"]),
            amount.assign(Property="amount", Value=amount["amount"].map(lambda a: f"{a:.2f}")),
        ]
    ).sort_values(["t", "deal_id", "Property"], kind="stable")
    return pd.DataFrame(
        {
            "Deal ID": versions["deal_id"].map(rid).to_numpy(),
            "Property": versions["Property"].to_numpy(),
            "Value": versions["Value"].to_numpy(),
            "Timestamp": _time(versions["t"]).to_numpy(),
            "Source Type": "CRM_UI",
        }
    )


def _submission_rows(fills: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = pd.DataFrame(
        {
            "Conversion ID": fills["submission_id"].to_numpy(),
            "Form ID": fills["form_id"].to_numpy(),
            "Submitted At": _time(fills["t"]).to_numpy(),
            "Email": fills["email"].to_numpy(),
            "First Name": _normalized(fills["email"]).str.split(".").str[0].str.title().to_numpy(),
            "rl_visitor_id": fills["visitor_id"].to_numpy(),
            "Page URL": ("https://acme.example/" + fills["form_id"] + "?utm_source=linkedin").to_numpy(),
        }
    )
    # broken copies under new conversion ids: a time nobody can read, no email
    k = max(1, round(0.0005 * len(rows)))
    broken = rows.iloc[rng.integers(0, len(rows), 2 * k)].copy()
    broken["Conversion ID"] = broken["Conversion ID"] + "-retry" + pd.Series(
        np.arange(2 * k).astype(str), index=broken.index)
    broken.iloc[:k, broken.columns.get_loc("Submitted At")] = "N/A"
    broken.iloc[k:, broken.columns.get_loc("Email")] = None
    main = pd.concat([rows, broken]).sort_values("Submitted At", kind="stable")
    # a second export, taken two months before the end, repeats what came since
    overlap = rows[fills["t"].to_numpy() >= fills["t"].quantile(0.8)]
    return main, overlap


def _write(root: Path, name: str, df: pd.DataFrame) -> dict[str, int]:
    table = pa.Table.from_pandas(df.astype(object).where(df.notna(), None), preserve_index=False)
    table = pa.table({c: table[c].cast(pa.string()) for c in table.column_names})
    rows = pa.table(
        {"file": pa.array([name] * table.num_rows, pa.string()),
         "order": pa.array(np.arange(table.num_rows, dtype=np.float64)),
         "line": csv_text(table)}
    )
    return write_files(root, rows, header=",".join(df.columns))


def _map_ids(ids: vendor_ids.IdMap, deals: pd.DataFrame, contacts: pd.DataFrame, rid: pd.Series) -> None:
    ids.add("deal", pa.array(rid.index.to_numpy(), pa.string()), pa.array(rid.to_numpy(), pa.string()))
    r = deals["deal_id"].map(rid)
    ms = (deals["t"] * 1000).astype(str)
    event = deals["event"]
    export = np.select(
        [event == "created", event == "amount_changed", event == "contact_added"],
        ["hubspot:deal:" + r + ":created", "hubspot:history:" + r + ":" + ms + ":amount",
         "hubspot:deal:" + r + ":contact:" + _normalized(deals["contact_email"].fillna("")).map(
             contacts["record_id"]).fillna("") + ":"],
        "hubspot:history:" + r + ":" + ms + ":stage",
    )
    hashed = np.where(event == "contact_added", _normalized(deals["contact_email"].fillna("")), None)
    ids.add("deal_event", pa.array(deals["deal_event_id"], pa.string()), pa.array(export, pa.string()),
            export_pseudonymized=pa.array(hashed, pa.string()))
