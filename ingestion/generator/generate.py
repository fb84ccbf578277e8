"""Orchestration: build the company and its year of activity, lay the events out into
landing files, write the ground truth and a summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.contract import EVENT_TYPES
from ingestion.generator import content, deals, funnel, metrics, people, truth
from ingestion.generator.config import END, START, scale_for
from ingestion.generator.dirt import FilePlan, plan_files
from ingestion.generator.events import Events
from ingestion.generator.progress import Progress
from ingestion.generator.writers import (
    csv_line,
    csv_lines,
    json_line,
    json_lines,
    splice,
    write_parquet,
    write_text,
)


def generate(scale: float, seed: int, out: Path, progress: bool = False) -> dict:
    """Write out/landing/ and out/ground_truth/ for scale factor `scale`; return the summary."""
    out = Path(out)
    sc = scale_for(scale)
    bar = Progress(total=9 + len(EVENT_TYPES), enabled=progress)

    company = people.build_company(sc, seed)
    bar.step("company")
    contents, content_ev = content.build_contents(sc, seed)
    shares = content.build_shares(company, contents, sc, seed)
    bar.step("shares")
    outcomes = metrics.draw_outcomes(company, shares, sc, seed)
    metric_ev, dips = metrics.metric_events(shares, outcomes, sc, seed)
    bar.step("share metrics")
    engagement_ev = metrics.engagement_events(company, shares, outcomes, sc, seed)
    bar.step("engagements")
    clicks, persons, fills = funnel.build_funnel(shares, outcomes, sc, seed)
    click_ev = funnel.click_events(clicks, shares, contents, seed)
    fill_ev = funnel.form_fill_events(fills, persons, seed)
    bar.step("clicks and leads")
    deal_set, deal_ev = deals.build_deals(persons, sc, seed)
    bar.step("deals")
    events: dict[str, Events] = {
        "employee": people.employee_events(company, sc, seed),
        "content": content_ev,
        "share": content.share_events(company, contents, shares, seed),
        "share_metrics": metric_ev,
        "engagement": engagement_ev,
        "audience": people.audience_events(company, sc, seed),
        "page_followers": people.page_follower_events(company, seed),
        "click": click_ev,
        "form_fill": fill_ev,
        "deal": deal_ev,
    }
    bar.step("roster and audiences")

    landing, truth_dir = out / "landing", out / "ground_truth"
    for d in (landing, truth_dir):
        if d.exists():
            shutil.rmtree(d)  # stale files from another run would break same-seed-same-bytes
        d.mkdir(parents=True)

    files: dict[str, dict] = {}
    dirt: dict[str, dict] = {}
    for i, name in enumerate(EVENT_TYPES):
        plans, stats = plan_files(events[name], sc, seed, i)
        for p in plans:
            files[p.relpath] = _write_file(landing, events[name], p)
        dirt[name] = stats
        bar.step(f"write {name}")

    leads = truth.lead_truth(fill_ev, click_ev, events["share"])
    deal_rows = truth.deal_truth(
        deal_set,
        deal_ev,
        persons,
        persons.conv_click,
        clicks.share,
        shares,
        fill_ev,
        click_ev,
        events["share"],
    )
    leads.to_csv(truth_dir / "leads.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    deal_rows.to_csv(truth_dir / "deals.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    bar.step("ground truth")

    summary = _summary(sc.sf, seed, events, files, dirt, dips, leads, deal_rows)
    (truth_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    bar.step("summary")
    return summary


def _write_file(landing: Path, ev: Events, p: FilePlan) -> dict:
    path = landing / p.relpath
    rows = ev.table.take(pa.array(p.rows, pa.int64()))
    offset = ev.offset[p.rows]
    if p.fmt == "parquet":
        table = rows
        if p.bad:
            bad = pa.Table.from_pylist([b.typed for b in p.bad], schema=rows.schema)
            order = np.insert(np.arange(len(rows)), p.bad_pos, len(rows) + np.arange(len(bad)))
            table = pa.concat_tables([rows, bad]).take(pa.array(order))
        write_parquet(path, table)
    else:
        extras = tuple(c for c in rows.column_names if c not in EVENT_TYPES[p.event_type].names)
        if p.fmt == "csv":
            lines = csv_lines(rows, offset)
            bad_lines = [_csv_bad(b.row, b.kind) for b in p.bad]
        else:
            lines = json_lines(rows, offset, keep_null=extras)
            bad_lines = [_json_bad(b.row, b.kind, extras) for b in p.bad]
        if p.bad:
            lines = splice(lines, pa.array(bad_lines, pa.string()), p.bad_pos)
        header = ",".join(rows.column_names) if p.fmt == "csv" else None
        write_text(path, header, lines)
    bad_kinds: dict[str, int] = {}
    for b in p.bad:
        bad_kinds[b.kind] = bad_kinds.get(b.kind, 0) + 1
    return {
        "event_type": p.event_type,
        "format": p.fmt,
        "month": f"{p.month + 1:02d}",
        "rows": int(len(p.rows) + len(p.bad)),
        "clean_rows": int(len(p.rows) - p.duplicates),
        "duplicates": p.duplicates,
        "late": p.late,
        "malformed": bad_kinds,
    }


def _csv_bad(row: dict, kind: str) -> str:
    line = csv_line(list(row.values()))
    # A structurally broken record: more fields than the header has.
    return line + ",EXTRA,unexpected" if kind == "broken_row" else line


def _json_bad(row: dict, kind: str, extras: tuple[str, ...]) -> str:
    line = json_line(row, keep_null=extras)
    # A structurally broken record: the export was cut off mid-object.
    return line[: max(2, len(line) // 2)] if kind == "broken_row" else line


def _summary(sf, seed, events, files, dirt, dips, leads, deal_rows) -> dict:
    malformed = {name: d["malformed"] for name, d in dirt.items()}
    duplicates = {name: d["duplicates"] for name, d in dirt.items()}
    return {
        "scale": sf,
        "seed": seed,
        "window": {
            "start": np.datetime_as_string(np.datetime64(START, "s")) + "Z",
            "end": np.datetime_as_string(np.datetime64(END, "s")) + "Z",
        },
        "events": {name: len(ev) for name, ev in events.items()},
        "total_events": int(sum(len(ev) for ev in events.values())),
        "rows_in_files": {
            name: sum(f["rows"] for f in files.values() if f["event_type"] == name) for name in events
        },
        "files": files,
        "duplicates": duplicates,
        "duplicates_total": int(sum(d["within_file"] + d["across_files"] for d in duplicates.values())),
        "late": {name: d["late"] for name, d in dirt.items()},
        "late_total": int(sum(d["late"] for d in dirt.values())),
        "malformed": malformed,
        "malformed_total": int(sum(sum(k.values()) for k in malformed.values())),
        "metric_dips": dips,
        "leads": int(len(leads)),
        "social_leads": int(leads["true_share_id"].notna().sum()),
        "deals": int(len(deal_rows)),
        "single_touch_deals": int((deal_rows["touch_count"] == 1).sum()),
        "multi_touch_deals": int((deal_rows["touch_count"] > 1).sum()),
        "untouched_deals": int((deal_rows["touch_count"] == 0).sum()),
    }
