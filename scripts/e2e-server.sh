#!/usr/bin/env bash
# The stack the Playwright suite runs against: a throwaway SecantusDB with sample data and
# docshift on the port Playwright gives. Playwright stops it; everything started here goes too.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PORT="${1:?usage: e2e-server.sh PORT}"
# DOCSHIFT_E2E_LISTEN binds elsewhere (the access tests bind 0.0.0.0:PORT, with DOCSHIFT_ACCESS_TOKEN).
BIN="$ROOT/target/debug/docshift"
WORK="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

MONGO_PORT="$(free_port)"
start_secantus "$MONGO_PORT" :memory: "$WORK/secantus.log"
pids+=("$SECANTUS_PID")
MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT"
# The full sample set: shop.orders has the 20,000 documents the migration spec copies.
"$BIN" sample-data --source-uri "$MONGO_URI" --documents 50000
"$BIN" serve --listen "${DOCSHIFT_E2E_LISTEN:-127.0.0.1:$PORT}" --source-uri "$MONGO_URI" --state-dir "$WORK/state" \
  --site-root "$ROOT/target/site" --server-selection-timeout-ms 3000 --sandbox-dir "$WORK/astra" &
pids+=("$!")
wait "${pids[-1]}"
