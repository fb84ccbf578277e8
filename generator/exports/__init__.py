"""The synthetic company as the vendor exports a company really has (``generate(...,
as_exports=True)``, ``reachloop generate --as-exports``).

DIR/exports/<format>/ holds one folder per source format, in the layout its adapter
(ingestion/adapters/) accepts, each landable on its own with ``reachloop land --format <format>
DIR/exports/<format>``; DIR/exports/exports.json and README.md say which command lands each
folder and what the exports cannot carry (generator/exports/limits.py). One vendor per role:

    employees      hr_roster (roster) + linkedin_connections (audiences, network sizes)
    posts          advocacy_shares (employee shares, content) + post_analytics (their metrics)
    page, social   linkedin (page posts and statistics, reactions, comments, followers)
    clicks         ga4
    leads, deals   hubspot

DIR/ground_truth/export_ids.parquet says which id the exports land for which id the contract
files land (generator/exports/vendor_ids.py), so the two can be compared.
"""

from __future__ import annotations

from generator.exports.limits import VENDOR_LIMITS, as_exported, check_limits
from generator.exports.world import World
from generator.exports.write import write_exports

__all__ = ["VENDOR_LIMITS", "World", "as_exported", "check_limits", "write_exports"]
