"""Synthetic workload generator: a realistic landing folder plus its ground truth.

    generate(scale, seed, out) writes out/landing/ (every event type of the landing
    contract, spread over CSV, JSON Lines and Parquet, one file per type and month of
    arrival) and out/ground_truth/ (leads.csv, deals.csv, summary.json).

Same seed, same bytes. SF1 is a 1,000-employee company over 2025; measured clean event counts
at SF1, seed 1 (they vary by a few % with the seed):

    employee        9,880     audience         ~530,000
    content           300     page_followers        365
    share           9,200     click              ~57,000
    share_metrics ~159,000    form_fill           ~1,600
    engagement    ~165,000    deal                ~1,000
    total        ~930,000 events (plus ~0.2% duplicates, ~0.3% late, ~0.2% malformed rows)

(see the module docstring numbers refreshed by `python -m ingestion.generator.measure`).
"""

from __future__ import annotations

from ingestion.generator.generate import generate

__all__ = ["generate"]
