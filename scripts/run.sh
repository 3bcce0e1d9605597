#!/usr/bin/env bash
# `make run`: a local SecantusDB holding the sample dataset, and docshift serving on
# 127.0.0.1:3000 (or $DOCSHIFT_LISTEN). Ctrl-C stops everything started here.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN="$ROOT/target/release/docshift"
DATA="$ROOT/.docshift"
LISTEN="${DOCSHIFT_LISTEN:-127.0.0.1:3000}"
mkdir -p "$DATA"

pids=()
cleanup() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MONGO_PORT="$(free_port)"
echo "Starting SecantusDB (MongoDB-compatible) on 127.0.0.1:$MONGO_PORT, data in $DATA/mongo"
start_secantus "$MONGO_PORT" "$DATA/mongo" "$DATA/secantus.log"
pids+=("$SECANTUS_PID")
MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT"

echo "Loading the sample dataset (2 databases, 5 collections, 50,000 documents)"
"$BIN" sample-data --source-uri "$MONGO_URI"

"$BIN" serve --listen "$LISTEN" --source-uri "$MONGO_URI" --state-dir "$DATA/state" --site-root "$ROOT/target/site" \
  --sandbox-dir "$DATA/astra" &
pids+=("$!")
wait "${pids[-1]}"
