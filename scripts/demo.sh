#!/usr/bin/env bash
# The demo: generate a small synthetic workload, land it, build and publish the marts, write
# the report, and say where everything is. It runs in its own home (.reachloop/demo by
# default), which it starts afresh, so it never touches a real warehouse.
set -euo pipefail
scale="$1" seed="$2"
cd "$(dirname "$0")/.."
bin=.venv/bin
export REACHLOOP_HOME="${DEMO_HOME:-$PWD/.reachloop/demo}"

if [ -z "${REACHLOOP_PII_KEY:-}" ]; then
  export REACHLOOP_PII_KEY="reachloop-demo-key-not-for-production"
  echo "demo: REACHLOOP_PII_KEY is not set, using a demo key (never use it for real data)"
fi

rm -rf "$REACHLOOP_HOME"
data="$REACHLOOP_HOME/workload"
"$bin/reachloop" generate --scale "$scale" --seed "$seed" --out "$data"
"$bin/reachloop" land "$data/landing" | tail -n 1
"$bin/reachloop" status
"$bin/reachloop" build
"$bin/reachloop" report --out "$REACHLOOP_HOME/report.html" >/dev/null
deal=$("$bin/python" - <<'PY'
import duckdb, os
path = os.path.join(os.environ["REACHLOOP_HOME"], "published", "reachloop.duckdb")
with duckdb.connect(path, read_only=True) as con:
    row = con.execute(
        "select deal_id from fct_deals where status = 'won' order by touches desc, amount desc limit 1"
    ).fetchone()
print(row[0] if row else "")
PY
)
if [ -n "$deal" ]; then
  echo
  echo "the won deal with the longest path, traced back to the posts and people behind it:"
  "$bin/reachloop" trace "$deal"
fi

# The commands that work on this demo: it lives in its own home, so each names it (--home).
rl=".venv/bin/reachloop --home $REACHLOOP_HOME"
cat <<MSG

demo done. Everything is under $REACHLOOP_HOME:
  report      $REACHLOOP_HOME/report.html              (open it in a browser; no network needed)
  DuckDB      $REACHLOOP_HOME/published/reachloop.duckdb  (read-only for analysts and BI tools:
              .venv/bin/python -c "import duckdb; print(duckdb.connect('$REACHLOOP_HOME/published/reachloop.duckdb', read_only=True).sql('from mart_reach_vs_network limit 5'))")
  Parquet     $REACHLOOP_HOME/published/parquet/<mart>/
  warehouse   $REACHLOOP_HOME/warehouse.duckdb         (the event log and the build)

Next, on this demo (it has its own home, hence --home):
  $rl status
  $rl quarantine --limit 5
  $rl trace ${deal:-DEAL_ID}
  $rl report --out $REACHLOOP_HOME/report.html
  $rl docs
MSG
