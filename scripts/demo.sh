#!/usr/bin/env bash
# The demo: generate a small synthetic workload, land it, show the state of the event log.
set -euo pipefail
scale="$1" seed="$2" data="$3"
bin=.venv/bin

if [ -z "${REACHLOOP_PII_KEY:-}" ]; then
  export REACHLOOP_PII_KEY="reachloop-demo-key-not-for-production"
  echo "demo: REACHLOOP_PII_KEY is not set, using a demo key (never use it for real data)"
fi

rm -rf "$data"
"$bin/reachloop" generate --scale "$scale" --seed "$seed" --out "$data"
"$bin/reachloop" land "$data/landing"
"$bin/reachloop" status
