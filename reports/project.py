"""What reports take from the dbt project: its vars, read from dbt_project.yml.

A value the dbt project names (``min_group_size``, ``attribution_models`` …) is read from
there, never restated in Python, so the marts and what reads them cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


def project_var(name: str, default: Any = None, project_file: Path = DBT_PROJECT) -> Any:
    """The dbt var ``name`` as dbt_project.yml sets it; ``default`` when the file or the var is
    not around (a var given with ``--vars`` at build time is not seen here)."""
    try:
        return yaml.safe_load(project_file.read_text())["vars"][name]
    except (OSError, KeyError, TypeError):
        return default


def attribution_models(project_file: Path = DBT_PROJECT) -> tuple[str, ...]:
    """The attribution models in the order dbt names them: the order of every credit column."""
    return tuple(str(m) for m in project_var("attribution_models", (), project_file) or ())
