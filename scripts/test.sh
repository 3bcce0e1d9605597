#!/usr/bin/env bash
# `make test`: every test. Rust unit and integration tests (against real SecantusDB and
# astra-local processes they start themselves), then the Playwright suite in Debian's
# Chromium against a freshly built server.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT"

# One build from scratch: incremental caches would only cost disk (16 GB on a fresh clone).
export CARGO_INCREMENTAL=0

echo "==> Rust tests"
disk_report "before the build"
cargo test --workspace --exclude frontend
disk_report "after the Rust tests"

echo "==> lints"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

echo "==> the web app make run ships: release WASM (LTO, opt-level z), CSS and assets in target/site"
# The release WASM can fail where a debug build passes (rustc's query depth on the job
# page), so the browser tests run the release front end. The server they run is
# target/debug/docshift, which the Rust tests above built.
cargo leptos build --release --frontend-only
disk_report "after the web app"

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
