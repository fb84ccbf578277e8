#!/usr/bin/env bash
# The demo from vendor exports: land the sample files that ship with the source adapters
# (ingestion/adapters/samples/), each in its format, then build the marts.
# Usage: scripts/demo_exports.sh   (REACHLOOP_HOME decides where the warehouse goes)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
samples=ingestion/adapters/samples

if [ -z "${REACHLOOP_PII_KEY:-}" ]; then
  export REACHLOOP_PII_KEY="reachloop-demo-key-not-for-production"
  echo "demo: REACHLOOP_PII_KEY is not set, using a demo key (never use it for real data)"
fi

# The formats are given explicitly (auto-detection would find the same ones); the CRM
# exports need their portal's time zone, which their timestamps do not carry.
"$bin/reachloop" land --format linkedin "$samples/linkedin"
"$bin/reachloop" land --format advocacy_shares "$samples/advocacy_shares"
"$bin/reachloop" land --format web_clicks "$samples/web_clicks"
"$bin/reachloop" land --format hubspot:tz=America/New_York "$samples/hubspot"
"$bin/reachloop" land --format salesforce "$samples/salesforce"
"$bin/reachloop" status
"$bin/reachloop" build
