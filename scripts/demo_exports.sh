#!/usr/bin/env bash
# The demo from vendor exports only: the synthetic company written as the exports a company
# really has (HR roster, members' Connections.csv and post analytics, advocacy platform shares,
# LinkedIn API pulls, GA4, HubSpot), each landed in its own format, then built and reported.
# It runs in its own home, which it starts afresh. Usage: scripts/demo_exports.sh SCALE SEED
set -euo pipefail
scale="${1:-0.05}" seed="${2:-42}"
cd "$(dirname "$0")/.."
bin=.venv/bin
export REACHLOOP_HOME="${DEMO_HOME:-$PWD/.reachloop/demo-exports}"

if [ -z "${REACHLOOP_PII_KEY:-}" ]; then
  export REACHLOOP_PII_KEY="reachloop-demo-key-not-for-production"
  echo "demo: REACHLOOP_PII_KEY is not set, using a demo key (never use it for real data)"
fi

rm -rf "$REACHLOOP_HOME"
data="$REACHLOOP_HOME/workload"
"$bin/reachloop" generate --scale "$scale" --seed "$seed" --out "$data" --as-exports --json >/dev/null
echo "vendor exports of a synthetic company (SF$scale, seed $seed) in $data/exports:"

# Each folder in the format its manifest names (exports.json), with the format given: the
# same command an operator runs on a real delivery.
"$bin/python" - "$data/exports/exports.json" <<'PY' | while read -r format folder; do
import json, sys
for f in json.load(open(sys.argv[1]))["formats"]:
    print(f["format"], f["folder"])
PY
  printf '  %-22s ' "$format"
  "$bin/reachloop" land --format "$format" "$data/exports/$folder" | tail -n 1
done

# Exchange rates, media rates and program costs have no vendor format: a company lands the
# same contract files whatever its other sources (docs/sources.md).
for f in "$data"/landing/{fx_rate,media_rate,program_cost}-*; do
  "$bin/reachloop" land "$f" >/dev/null
done
echo "  rates and costs        landed as contract files (fx_rate, media_rate, program_cost)"
# So do the program team's own records: SSI and profile surveys, competitor audits, goals.
"$bin/reachloop" land "$data"/landing/profile_snapshot >/dev/null
for f in "$data"/landing/{company_presence,program_goal}-*; do
  "$bin/reachloop" land "$f" >/dev/null
done
echo "  surveys, audits, goals landed as contract files (profile_snapshot, company_presence, program_goal)"

"$bin/reachloop" build
report="$REACHLOOP_HOME/report.html"
if command -v chromium >/dev/null; then
  "$bin/reachloop" report --out "$report" --check
else
  "$bin/reachloop" report --out "$report"
fi

cat <<MSG

demo-exports done. Everything is under $REACHLOOP_HOME:
  exports     $data/exports/   (README.md says which command lands each folder)
  report      $report
  DuckDB      $REACHLOOP_HOME/published/reachloop.duckdb
Try: .venv/bin/reachloop --home $REACHLOOP_HOME status   |   ... batches list   |   ... trace DEAL_ID
MSG
