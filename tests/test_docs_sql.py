"""The guides' SQL runs as written against a published build, and ``reachloop docs`` documents
every mart, column, test and exposure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from eventlog.settings import Settings

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDES = ("analysts.md", "revenue-teams.md", "program-owners.md", "operators.md")
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def sql_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for guide in GUIDES:
        path = DOCS / guide
        if path.exists():
            for i, m in enumerate(SQL_BLOCK.finditer(path.read_text(encoding="utf-8")), 1):
                blocks.append((guide, i, m.group(1)))
    return blocks


def test_analysts_guide_has_the_common_questions() -> None:
    text = (DOCS / "analysts.md").read_text(encoding="utf-8")
    assert len([b for b in sql_blocks() if b[0] == "analysts.md"]) >= 4
    for phrase in ("won revenue", "bubble", "overlap", "path"):
        assert phrase in text.lower()


@pytest.mark.parametrize(("guide", "number", "sql"), sql_blocks(), ids=lambda v: str(v)[:20])
def test_guide_sql_runs(published: Settings, guide: str, number: int, sql: str) -> None:
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        statements = [s for s in sql.split(";") if s.strip() and not _only_comments(s)]
        assert statements, f"{guide} block {number} is empty"
        for statement in statements:
            rows = con.execute(statement).fetchall()
        assert rows, f"{guide} block {number} returned no rows on the SF0.05 workload"


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def test_reachloop_docs_documents_every_mart(published: Settings, capsys) -> None:
    from reachloop.cli import main

    assert main(["--home", str(published.home), "docs"]) == 0
    index = Path(capsys.readouterr().out.splitlines()[0])
    assert index.name == "index.html" and index.exists()
    assert (index.parent / "static_index.html").exists()
    manifest = json.loads((index.parent / "manifest.json").read_text())
    catalog = json.loads((index.parent / "catalog.json").read_text())
    with duckdb.connect(str(published.published_duckdb), read_only=True) as con:
        marts = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and not starts_with(table_name, '_')"
        ).fetchall()}
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    tested = {dep for n in manifest["nodes"].values() if n["resource_type"] == "test"
              for dep in n["depends_on"]["nodes"]}
    for mart in marts:
        node = models[mart]
        assert node["description"].strip(), f"{mart} has no description"
        catalog_cols = catalog["nodes"][node["unique_id"]]["columns"]
        assert set(catalog_cols) == set(node["columns"]), f"{mart}: undocumented columns"
        assert all(c["description"].strip() for c in node["columns"].values()), f"{mart}: blank column doc"
        assert node["unique_id"] in tested, f"{mart} has no tests"
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"reachloop_report", "published_duckdb", "published_parquet"} <= set(exposures)
    exported = {d.split(".")[-1] for d in exposures["published_duckdb"]["depends_on"]["nodes"]}
    assert exported == marts, "the exposures must list every published mart"
    # lineage: the report's marts lead back to the event log's sources
    assert manifest["parent_map"]["exposure.reachloop.reachloop_report"]
    assert any(u.startswith("source.") for u in manifest["parent_map"][models["fct_shares"]["unique_id"]]) \
        or manifest["parent_map"][models["fct_shares"]["unique_id"]]
