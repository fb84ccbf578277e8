"""Plain helpers and constants that several test modules share (test modules never import each
other, nor conftest.py; conftest's fixtures use these too)."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"

TEST_PII_KEY = "test-key-for-pytest-only"

# What the hand-made attribution scenarios need built (tests/scenarios.py).
ATTRIBUTION_SELECT = "+mart_lead_to_deal_attribution +fct_deal_journey +fct_deals"


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Read the warehouse (or any DuckDB file) read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@contextmanager
def environ(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then put back what was there (for code that runs
    outside a test's monkeypatch, such as session-wide builds)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write_dedented(path: Path, text: str) -> Path:
    """A small file written from an indented triple-quoted string (its parents made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def land_in(settings, path: Path, key: bytes, spec: str | None = None) -> list:
    """``reachloop land [--format SPEC] PATH`` into a home, as library calls: the file results."""
    from eventlog.warehouse import warehouse
    from ingestion.adapters import land_any

    with warehouse(settings) as con:
        return land_any(con, path, key, spec=spec)


def write_csv(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with (folder / f"{name}.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def dbt_build(home: Path, select: str = ATTRIBUTION_SELECT, *extra: str) -> None:
    """``dbt build --select SELECT`` in a subprocess against ``home``'s warehouse."""
    env = {**os.environ, "REACHLOOP_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            # cautious: a test runs only when every model it reads is built (a relationships test
            # of fct_shares against dim_contents needs both, and a selection may hold one).
            [str(dbt), "build", "--select", *select.split(), "--indirect-selection", "cautious",
             "--profiles-dir", str(DBT_PROJECT),
             "--target-path", f"{tmp}/target", "--log-path", f"{tmp}/logs", *extra],
            cwd=DBT_PROJECT, env=env, capture_output=True, text=True,
        )
    assert result.returncode == 0, result.stdout[-4000:]


def shared_root(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this session sees (the workers' basetemps' parent)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / name


def build_once(root: Path, build: Callable[[], None]) -> None:
    """Run ``build`` once per test session: under pytest-xdist the first worker to get here
    builds under a file lock in ``root``, the others wait and reuse what it built."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (root / ".done").exists():
            build()
            (root / ".done").write_text("built\n")


def poisoned_metrics(small_workload: Path, out: Path, rows: int = 40) -> Path:
    """A share_metrics delivery for known shares, with negative impressions."""
    source = sorted((small_workload / "landing").glob("share_metrics-*.csv"))[0]
    records = list(csv.DictReader(source.open()))[:rows]
    path = out / "share_metrics-poisoned.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        for r in records:
            w.writerow({**r,
                        "impressions": "-7", "unique_impressions": ""})
    return path


def tree_digest(root: Path) -> dict[str, str]:
    """Every file reachable under root (following the parquet symlink), with its sha256."""
    out = {}
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# --- clear text where there should be none ------------------------------------------------


def clear_text_columns(warehouse: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(schema.table.column, needle) for every needle found, case-insensitively, in any column of
    any table of the log and the ledger (raw and meta; every column cast to text: nothing
    escapes the scan). For one landing's checks; ``clear_text_places`` scans a whole home."""
    hits = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema in ('raw', 'meta') order by all"
        ).fetchall()
        assert len(columns) > 10, "the scan must see the log and the ledger, not an empty database"
        for schema, table, column in columns:
            found = con.execute(
                f'select distinct n from "{schema}"."{table}", unnest(?::varchar[]) u(n)'
                f' where contains(lower(cast("{column}" as varchar)), lower(n))',
                [needles],
            ).fetchall()
            hits += [(f"{schema}.{table}.{column}", n) for (n,) in found]
    return hits


def clear_text_places(home: Path, values: Iterable[str]) -> dict[str, list[str]]:
    """Where any of ``values`` (compared lower-cased) stands in clear under ``home``: in every
    table of every DuckDB file (the warehouse, every published version), in every Parquet file,
    and in every other file read as text (dbt's target and logs, GX data docs, the report).
    Returns value → the places it was found; empty when nothing leaked."""
    wanted = sorted({v.lower() for v in values if v})
    found: dict[str, list[str]] = {}

    def hit(value: str, place: str) -> None:
        found.setdefault(value, []).append(place)

    with duckdb.connect() as con:
        for path in sorted(home.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            if path.suffix == ".duckdb":
                con.execute(f"attach '{path}' as scanned (read_only)")
                tables = con.execute(
                    "select table_schema, table_name from information_schema.tables"
                    " where table_catalog = 'scanned'"
                ).fetchall()
                for schema, table in tables:
                    relation = f'scanned."{schema}"."{table}"'
                    for value in _values_in(con, relation, wanted):
                        hit(value, f"{path.relative_to(home)}:{schema}.{table}")
                con.execute("detach scanned")
            elif path.suffix == ".parquet":
                for value in _values_in(con, f"read_parquet('{path}')", wanted):
                    hit(value, str(path.relative_to(home)))
            else:
                text = path.read_bytes().decode("utf-8", "replace").lower()
                for value in wanted:
                    if value in text:
                        hit(value, str(path.relative_to(home)))
    return found


def _values_in(con: duckdb.DuckDBPyConnection, relation: str, wanted: list[str]) -> list[str]:
    """The wanted values that some row of ``relation`` holds, anywhere in its text."""
    counts = ", ".join(f"count(*) filter (where contains(row_text, ${i + 1}))" for i in range(len(wanted)))
    row = con.execute(
        f"select {counts} from (select lower(t::varchar) as row_text from {relation} as t)", wanted
    ).fetchone()
    return [value for value, n in zip(wanted, row, strict=True) if n]


def write_planted_pii(folder: Path, values: list[str], fmt: str, tag: str = "p") -> None:
    """Contract files in ``fmt`` (csv, jsonl or parquet) with each of ``values`` (an email, a
    profile URL, a member URN, a phone number: what names a person by its shape) planted
    everywhere a careless or hostile supplier could put it: an unknown column, a nested JSON
    key and value, a free-text field, a URL's query string, a column header, a JSON line that
    cannot be parsed, and (for values a file name can hold) the file's own name. (A CSV line
    with a column too many in a file this small can fail DuckDB's dialect sniffing as a whole:
    tests/test_pii_scan.py plants one in a larger file.)"""
    import urllib.parse

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"click_id": f"{tag}-ok{i}", "tracking_token": f"rl-{tag}-ok", "visitor_id": "v-1",
             "occurred_at": "2026-03-01T09:00:00Z"} for i in range(10)]
    for i, value in enumerate(values):
        rows.append({
            "click_id": f"{tag}-c{i}", "tracking_token": f"rl-{tag}{i}", "visitor_id": f"v-{tag}{i}",
            "occurred_at": "2026-03-01T10:00:00Z",
            "user_agent": f"Mozilla/5.0 (contact {value})",
            "landing_url": f"https://acme.example/p?utm_source=li&e={urllib.parse.quote(value, safe='')}#{value}",
            "contact": value,
            f"{value}": "header",
            "nested": json_text({"who": {"email": value, value: [value]}}),
        })
    name = f"click-{tag}.{fmt}"
    if fmt == "parquet":
        columns = list(dict.fromkeys(k for r in rows for k in r))
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in columns}), folder / name)
    elif fmt == "jsonl":
        lines = [json_text({**r, "nested": json.loads(r["nested"])} if "nested" in r else r) for r in rows]
        # a line cut short, with an ``actor`` key
        lines += [f'{{"click_id": "{tag}-broken{i}", "actor": "{v}", "visitor_id": "{v}' for i, v in enumerate(values)]
        (folder / name).write_text("\n".join(lines) + "\n")
    else:
        with (folder / name).open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)
    # the shares the clicks' tokens name (a build's gate refuses clicks of unknown shares)
    tokens = sorted({r["tracking_token"] for r in rows})
    (folder / f"share-{tag}.csv").write_text(
        "share_id,author_type,author_id,network,posted_at,tracking_token\n"
        + "".join(f"{tag}-sh{i},employee,emp-ana,linkedin,2026-02-01T10:00:00Z,{t}\n" for i, t in enumerate(tokens))
    )
    # file names: the values a name can hold (no slash)
    for i, value in enumerate(v for v in values if "/" not in v):
        path = folder / f"form_fill-{tag}{i}-{value}.csv"
        path.write_text(
            f"submission_id,visitor_id,email,form_id,occurred_at\n{tag}-s{i},v1,x{i}@acme.example,f1,"
            "2026-03-01T10:00:00Z\n"
        )


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)
