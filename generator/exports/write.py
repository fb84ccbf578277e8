"""Write every format's folder, the id map, and the manifest that says how each folder lands."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from generator.exports import ga4, hubspot, linkedin, people, posts, vendor_ids
from generator.exports.limits import VENDOR_LIMITS
from generator.exports.world import World

# format → (what it carries, writer). In landing order: the roster before the members' own
# exports, posts before what refers to them (nothing depends on the order; it reads well).
FORMATS: dict[str, tuple[str, Callable]] = {
    "hr_roster": (
        "employee: department, title, work email, LinkedIn URN and profile URL, advocacy opt-in",
        people.write_roster,
    ),
    "linkedin_connections": (
        "employee network sizes (row counts), audience (profile URLs)", people.write_connections),
    "advocacy_shares": ("share (employees'), content", posts.write_advocacy_shares),
    "post_analytics": ("share_metrics (employees' posts; no clicks)", posts.write_post_analytics),
    "linkedin": (
        "share (page posts), share_metrics (page posts), engagement (reactions, comments),"
        " page_followers", linkedin.write_linkedin),
    "ga4": ("click (human page views carrying the token)", ga4.write_ga4),
    "hubspot": ("form_fill, deal", hubspot.write_hubspot),
}
NEEDS_IDS = {"linkedin", "ga4", "hubspot"}  # writers that name things in ids of their own
MANIFEST = "exports.json"


def write_exports(world: World, out: Path, truth_dir: Path) -> dict:
    """Write out/<format>/… for every format, ``truth_dir``/export_ids.parquet and the
    manifest (out/exports.json, out/README.md); return the manifest."""
    if out.exists():
        shutil.rmtree(out)  # stale files from another run would land too
    ids = vendor_ids.IdMap()
    # every export names a post by its network's id (post_ids); the contract files by share_id
    ids.add("share", world.shares.share_id, vendor_ids.post_ids(world))
    formats = []
    for name, (carries, writer) in FORMATS.items():
        folder = out / name
        folder.mkdir(parents=True)
        written = writer(world, folder, ids) if name in NEEDS_IDS else writer(world, folder)
        formats.append(
            {
                "format": name,
                "folder": name,
                "command": f"reachloop land --format {name} DIR/exports/{name}",
                "carries": carries,
                "files": len(written),
                "lines": int(sum(written.values())),
            }
        )
    id_rows = ids.write(truth_dir / "export_ids.parquet")
    manifest = {
        "formats": formats,
        "not_carried": {
            name: {"event_types": types, "why": why} for name, (types, why) in VENDOR_LIMITS.items()
        },
        "ids": {"path": "DIR/ground_truth/export_ids.parquet", "rows": id_rows},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "README.md").write_text(_readme(manifest))
    return manifest


def _readme(manifest: dict) -> str:
    lines = [
        "# Vendor exports of the synthetic company",
        "",
        "Written by `reachloop generate --as-exports`: the company of DIR/landing as the exports a",
        "company really has. Land each folder with its command (then `reachloop build`):",
        "",
        "| format | lands | files | command |",
        "|---|---|---|---|",
    ]
    for f in manifest["formats"]:
        lines.append(f"| `{f['format']}` | {f['carries']} | {f['files']} | `{f['command']}` |")
    lines += [
        "",
        "DIR is the folder `--out` named; `exports.json` lists the same. The linkedin_connections folder",
        "names each export's employee and day in its path (`<employee_id>/Basic_LinkedInDataExport_",
        "MM-DD-YYYY/Connections.csv`); the roster's file name carries its date. The same seed writes",
        "the same bytes.",
        "",
        "One vendor per role: clicks from GA4 (what sites run; the tag takes our first-party visitor",
        "id as its client id, which forms submit too), leads and deals from HubSpot (the one CRM",
        "format with form submissions, hence the visitor id that joins a lead to its clicks),",
        "employees' posts from the advocacy platform's shares export with the members' own post",
        "analytics (members reached; the advocacy report has none), page posts and all reactions",
        "and comments from LinkedIn's API.",
        "",
        "## What the exports cannot say",
        "",
        "Facts of the contract files that these formats have no place for (generator/exports/limits.py).",
        "`reachloop generate --as-exports --comparable` leaves them out of DIR/landing too, so that",
        "both land to the same marts.",
        "",
        "| limit | event types | why |",
        "|---|---|---|",
    ]
    for name, limit in manifest["not_carried"].items():
        lines.append(f"| `{name}` | {limit['event_types']} | {limit['why']} |")
    lines += [
        "",
        "## Ids",
        "",
        f"`{manifest['ids']['path']}` maps each id the contract files land to the id the exports",
        "land for the same thing (kind, contract_id, export_id; where the landing pseudonymizes an",
        "id, the text it pseudonymizes).",
        "",
    ]
    return "\n".join(lines)
