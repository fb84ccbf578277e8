"""What reads the published output: the HTML report (``html_report``) and deal traces (``trace``).

Everything here opens ``published/reachloop.duckdb`` read-only (``trace`` falls back to the
warehouse before a first publish) and never writes to the warehouse.
"""
