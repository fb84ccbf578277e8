"""Which source formats exist, how a format is named (``NAME[:option=value,...]``), which
format a file has (auto-detection), and which format each source family delivers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from eventlog.errors import ReachloopError
from ingestion.adapters import (
    advocacy,
    ga4,
    hr_roster,
    hubspot,
    linkedin,
    linkedin_connections,
    post_analytics,
    salesforce,
    segment,
    web,
)
from ingestion.adapters.base import Adapter, Options

ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        linkedin.ADAPTER,
        advocacy.ADAPTER,
        hubspot.ADAPTER,
        salesforce.ADAPTER,
        web.ADAPTER,
        linkedin_connections.ADAPTER,
        post_analytics.ADAPTER,
        hr_roster.ADAPTER,
        advocacy.REPORT_ADAPTER,
        ga4.ADAPTER,
        segment.ADAPTER,
    )
}

# Airflow Variable / environment variable mapping a source family to its format spec.
FORMATS_VARIABLE = "reachloop_source_formats"
FORMATS_ENV = "REACHLOOP_SOURCE_FORMATS"


def adapter_for(spec: str) -> tuple[Adapter, Options]:
    """``salesforce:tz=Europe/Berlin,decimal=comma`` → the adapter and its options."""
    name, _, options = spec.partition(":")
    adapter = ADAPTERS.get(name.strip().lower())
    if adapter is None:
        raise ReachloopError(f"unknown format {name!r} (known: {', '.join(sorted(ADAPTERS))})")
    return adapter, Options.parse(options, adapter.options)


def detect_format(path: Path) -> str | None:
    """The one format whose shape (columns, keys) this file has; None if none or several."""
    matches = [a.name for a in ADAPTERS.values() if a.detect(path)]
    return matches[0] if len(matches) == 1 else None


def formats_from_config(
    raw: str | dict | None = None, *, get_variable: Callable[[str], str | None] | None = None
) -> dict[str, str]:
    """Source family (the landing DAGs' families: advocacy, web, marketing, crm, people) →
    format spec of its deliveries, e.g. ``{"crm": "salesforce:tz=Europe/Berlin"}``.

    Read from, in order: ``raw`` (a JSON object or a dict), the Airflow Variable
    ``reachloop_source_formats`` (pass ``get_variable``, e.g. ``lambda k: Variable.get(k,
    default=None)``: this module never imports Airflow), the environment variable
    ``REACHLOOP_SOURCE_FORMATS``. A family not configured lands contract files and whatever
    vendor files auto-detection recognizes. Every spec is validated here, so a typo fails
    before anything lands.
    """
    if raw is None and get_variable is not None:
        raw = get_variable(FORMATS_VARIABLE)
    if raw is None:
        raw = os.environ.get(FORMATS_ENV)
    configured = json.loads(raw) if isinstance(raw, str) and raw.strip() else (raw or {})
    if not isinstance(configured, dict):
        raise ReachloopError(f"{FORMATS_ENV} must be a JSON object of source family → format")
    formats = {str(k): str(v) for k, v in configured.items()}
    for spec in formats.values():
        adapter_for(spec)
    return formats
