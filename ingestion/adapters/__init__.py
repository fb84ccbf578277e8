"""Source adapters: vendor exports and API pulls mapped onto the landing contract.

One module per source (linkedin, advocacy, hubspot, salesforce, web; crm holds what the two
CRMs share, base the shared machinery), ``registry`` for format names, specs and
auto-detection, ``land`` for landing vendor files. Every field mapping is documented in
docs/sources.md.
"""

from ingestion.adapters.base import SourceShapeError
from ingestion.adapters.land import land_any, land_source
from ingestion.adapters.registry import ADAPTERS, adapter_for, detect_format, formats_from_config

__all__ = [
    "ADAPTERS",
    "SourceShapeError",
    "adapter_for",
    "detect_format",
    "formats_from_config",
    "land_any",
    "land_source",
]
