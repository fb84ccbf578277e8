"""Synthetic workload generator: a realistic landing folder plus its ground truth.

    generate(scale, seed, out) writes out/landing/ (every event type of the landing
    contract, spread over CSV, JSON Lines and Parquet, one file per type and month of
    arrival) and out/ground_truth/ (leads.csv, deals.csv, summary.json).

    generate(scale, seed, out, as_exports=True) also writes out/exports/, the same company as
    the vendor exports the source adapters read (generator/exports/).

Same seed, same bytes; another seed, other data. SF1 is a 1,000-employee company over 2025.
Clean, distinct events measured at SF1, seed 1 (they move by a few % with the seed), generated
in ~4 s of CPU (seed 42: SF10, 9.4 million events in ~25 s of CPU and 0.75 GB peak RSS;
SF100, 93 million events in ~5 minutes of CPU and 4.6 GB; counts scale about linearly with
SF). Memory stays low because one event type at a time is built, written and let go, files
are written a chunk of rows at a time, and audience rows are made only when written:

    employee          9,880     audience        549,815
    content             300     page_followers      365
    share             9,926     click            51,616
    share_metrics   173,985     form_fill         1,762
    engagement      155,538     deal              1,544   (414 deals)
    total           954,731 events

plus, written into the files, 1,913 exact duplicates, 2,865 late rows and 1,623 malformed
rows (five kinds). Ground truth: ground_truth/leads.csv (submission_id -> true_share_id),
ground_truth/deals.csv (deal_id -> true_share_id, touch_count, ...), ground_truth/summary.json.

Layout: landing/<type>-YYYY-MM.<ext> (employee, content, share, share_metrics, click,
form_fill) or landing/<type>/part-YYYY-MM.<ext> (engagement, audience, page_followers, deal);
one file per month of arrival, formats rotating csv / jsonl / parquet from month to month.
"""

from __future__ import annotations

from generator.generate import generate

__all__ = ["generate"]
