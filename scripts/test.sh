#!/usr/bin/env bash
# `make test`: every test. Rust unit and integration tests (against real SecantusDB and
# astra-local processes they start themselves), then the Playwright suite in Debian's
# Chromium against a freshly built server.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT"

echo "==> Rust tests"
cargo test --workspace --exclude frontend

echo "==> lints"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

echo "==> the release WASM build that make run ships (LTO, opt-level z)"
# It can fail where the debug build passes (rustc's query depth on the job page), so
# build it here rather than find out in `make run`. Same directory as cargo-leptos.
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --target-dir target/front

echo "==> building the web app (server + WASM)"
cargo leptos build

echo "==> browser tests"
cd end2end
rm -rf test-results
status=0
E2E_PORT="$(free_port)"
AUTH_PORT="$(free_port)"
while [ "$AUTH_PORT" = "$E2E_PORT" ]; do AUTH_PORT="$(free_port)"; done
DOCSHIFT_E2E_PORT="$E2E_PORT" DOCSHIFT_E2E_AUTH_PORT="$AUTH_PORT" npx playwright test || status=$?
node -e '
  const r = require("./test-results/results.json").stats;
  console.log(`playwright: ${r.expected + r.flaky} passed, ${r.unexpected} failed, ${r.skipped} skipped`);
' || true
exit "$status"
