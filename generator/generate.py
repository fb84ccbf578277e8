"""Orchestration: build the company and its year of activity, lay the events out into
landing files, write the ground truth and a summary."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from eventlog.contract import EVENT_TYPES
from generator import content, deals, events, funnel, metrics, people, program_health, truth, value, writers
from generator.config import END, START, scale_for
from generator.dirt import FilePlan, plan_files
from generator.events import Events, LazyEvents
from generator.exports import World, as_exported, check_limits, write_exports
from generator.progress import Progress
from generator.writers import FileSink, csv_line, csv_lines, json_line, json_lines


def generate(
    scale: float,
    seed: int,
    out: Path,
    progress: bool = False,
    as_exports: bool = False,
    vendor_limits: tuple[str, ...] = (),
) -> dict:
    """Write out/landing/ and out/ground_truth/ for scale factor `scale`; return the summary.

    as_exports: also write out/exports/, the same company as vendor exports (generator/exports/).
    vendor_limits: what those exports cannot say (generator/exports/limits.py) that out/landing
    should not say either, so that both land to the same marts; needs as_exports."""
    out = Path(out)
    sc = scale_for(scale)
    limits = check_limits(vendor_limits)
    if limits and not as_exports:
        raise ValueError("vendor_limits shape DIR/landing after the exports: give as_exports too")
    bar = Progress(total=5 + len(EVENT_TYPES) + 2 + as_exports, enabled=progress)

    landing, truth_dir = out / "landing", out / "ground_truth"
    for d in (landing, truth_dir):
        if d.exists():
            shutil.rmtree(d)  # stale files from another run would break same-seed-same-bytes
        d.mkdir(parents=True)

    company = people.build_company(sc, seed)
    bar.step("company")
    contents, content_ev = content.build_contents(sc, seed)
    shares = content.build_shares(company, contents, sc, seed)
    bar.step("shares")
    outcomes = metrics.draw_outcomes(company, shares, sc, seed)
    bar.step("outcomes")
    clicks, persons, fills = funnel.build_funnel(shares, outcomes, sc, seed)
    bar.step("clicks and leads")
    deal_set, deal_ev = deals.build_deals(persons, sc, seed)
    bar.step("deals")

    # One event type at a time: built, written, let go. Only the types the ground truth
    # reads stay in memory; every type has its own random streams, so the order in which
    # they are built does not change a byte.
    dips = 0

    def share_metrics() -> Events:
        nonlocal dips
        ev, dips = metrics.metric_events(shares, outcomes, sc, seed)
        return ev

    build: dict[str, Callable[[], Events | LazyEvents]] = {
        "employee": lambda: people.employee_events(company, sc, seed),
        "content": lambda: content_ev,
        "share": lambda: content.share_events(company, contents, shares, seed),
        "share_metrics": share_metrics,
        "engagement": lambda: metrics.engagement_events(company, shares, outcomes, sc, seed),
        "audience": lambda: people.audience_events(company, sc, seed),
        "page_followers": lambda: people.page_follower_events(company, seed),
        "click": lambda: funnel.click_events(clicks, shares, contents, seed),
        "form_fill": lambda: funnel.form_fill_events(fills, persons, seed),
        "deal": lambda: deal_ev,
        "fx_rate": lambda: value.fx_rate_events(seed),
        "media_rate": lambda: value.media_rate_events(seed),
        "program_cost": lambda: value.program_cost_events(sc, seed),
        "profile_snapshot": lambda: program_health.profile_snapshot_events(company, sc, seed),
        "company_presence": lambda: program_health.company_presence_events(company, sc, seed),
        "program_goal": lambda: program_health.program_goal_events(company, sc, seed),
    }
    world = World(sc, seed, company, contents, shares, build)
    kept: dict[str, Events] = {}
    counts: dict[str, int] = {}
    files: dict[str, dict] = {}
    dirt: dict[str, dict] = {}
    for i, name in enumerate(EVENT_TYPES):
        ev = build[name]()
        if limits:
            ev = as_exported(name, ev, world, limits)
        counts[name] = len(ev)
        plans, dirt[name] = plan_files(ev, sc, seed, i)
        for p in plans:
            files[p.relpath] = _write_file(landing, ev, p)
        if name in TRUTH_READS:
            kept[name] = _narrowed(ev, TRUTH_READS[name])
        del ev, plans
        bar.step(f"write {name}")

    leads = truth.lead_truth(kept["form_fill"], kept["click"], kept["share"])
    deal_rows = truth.deal_truth(
        deal_set,
        kept["deal"],
        persons,
        persons.conv_click,
        clicks.share,
        shares,
        kept["form_fill"],
        kept["click"],
        kept["share"],
    )
    leads.to_csv(truth_dir / "leads.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    deal_rows.to_csv(truth_dir / "deals.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    bar.step("ground truth")

    summary = _summary(sc.sf, seed, counts, files, dirt, dips, leads, deal_rows)
    if as_exports:
        summary["exports"] = write_exports(world, out / "exports", truth_dir)
        summary["vendor_limits"] = list(limits)
        bar.step("exports")
    (truth_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    bar.step("summary")
    return summary


# The event types the ground truth is computed from, and the columns it reads (None: all).
TRUTH_READS: dict[str, tuple[str, ...] | None] = {
    "share": None,
    "click": truth.CLICK_COLUMNS,  # not the URLs: the biggest part of millions of clicks
    "form_fill": None,
    "deal": None,
}


def _narrowed(ev: Events, columns: tuple[str, ...] | None) -> Events:
    return ev if columns is None else Events(ev.name, ev.table.select(list(columns)), ev.time, ev.offset)


def _write_file(landing: Path, ev: Events | LazyEvents, p: FilePlan) -> dict:
    """Write one file a chunk of rows at a time (a whole month of the biggest types, as
    text, is gigabytes). Malformed records go in at their planned places."""
    path = landing / p.relpath
    rows = p.rows()
    n_good = len(rows)
    # Output position -> good row (0..n_good-1) or malformed record (n_good + i).
    order = np.insert(np.arange(n_good), p.bad_pos, n_good + np.arange(len(p.bad)))
    fields = EVENT_TYPES[p.event_type].names
    chunk_rows = events.CHUNK_ROWS
    # Whole row groups per chunk, or a chunked Parquet file differs from one written at once.
    assert chunk_rows % writers.ROW_GROUP_ROWS == 0, (chunk_rows, writers.ROW_GROUP_ROWS)
    with FileSink(path, p.fmt) as sink:
        for a in range(0, max(len(order), 1), chunk_rows):  # an empty file still gets its header
            sel = order[a : a + chunk_rows]
            is_bad = sel >= n_good
            good = ev.take(rows[sel[~is_bad]])
            bad = [p.bad[i] for i in sel[is_bad] - n_good]
            # Where each row of [good rows, malformed records] goes within the chunk.
            place = np.empty(len(sel), dtype=np.int64)
            place[~is_bad] = np.arange(len(good))
            place[is_bad] = len(good) + np.arange(len(bad))
            if p.fmt == "parquet":
                chunk = good
                if bad:
                    bad_table = pa.Table.from_pylist([b.typed for b in bad], schema=good.schema)
                    chunk = pa.concat_tables([good, bad_table]).take(pa.array(place))
                sink.write_table(chunk)
                continue
            extras = tuple(c for c in good.column_names if c not in fields)
            offset = ev.offset[rows[sel[~is_bad]]]
            if p.fmt == "csv":
                lines = csv_lines(good, offset)
                bad_lines = [_csv_bad(b.row, b.kind) for b in bad]
            else:
                lines = json_lines(good, offset, keep_null=extras)
                bad_lines = [_json_bad(b.row, b.kind, extras) for b in bad]
            if bad:
                lines = pa.concat_arrays([lines, pa.array(bad_lines, pa.string()).cast(lines.type)])
                lines = lines.take(pa.array(place))
            sink.write_lines(",".join(good.column_names) if p.fmt == "csv" else None, lines)
    bad_kinds: dict[str, int] = {}
    for b in p.bad:
        bad_kinds[b.kind] = bad_kinds.get(b.kind, 0) + 1
    return {
        "event_type": p.event_type,
        "format": p.fmt,
        "month": f"{p.month + 1:02d}",
        "rows": int(n_good + len(p.bad)),
        "clean_rows": int(n_good - p.duplicates),
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


def _summary(sf, seed, counts, files, dirt, dips, leads, deal_rows) -> dict:
    malformed = {name: d["malformed"] for name, d in dirt.items()}
    duplicates = {name: d["duplicates"] for name, d in dirt.items()}
    return {
        "scale": sf,
        "seed": seed,
        "window": {
            "start": np.datetime_as_string(np.datetime64(START, "s")) + "Z",
            "end": np.datetime_as_string(np.datetime64(END, "s")) + "Z",
        },
        "events": dict(counts),
        "total_events": int(sum(counts.values())),
        "rows_in_files": {
            name: sum(f["rows"] for f in files.values() if f["event_type"] == name) for name in counts
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
