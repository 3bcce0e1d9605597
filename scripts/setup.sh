#!/usr/bin/env bash
# Installs what docshift needs to build, run and test, and only what is missing, so a
# warm machine stays fast. `setup.sh run` for `make run`; `setup.sh test` adds Chromium.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"
PURPOSE="${1:-run}"
CARGO_LEPTOS_VERSION=0.3.10

step() { printf '==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# The CLI must be exactly the wasm-bindgen version in Cargo.lock. Not --locked: one of
# its locked dependencies is no longer in the registry.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! "$VENV/bin/python" -c 'import secantus, pymongo, astrapy, pytest' 2>/dev/null \
   || ! cmp -s "$ROOT/scripts/requirements.txt" "$VENV/.docshift-requirements"; then
  step "creating the Python venv $VENV (SecantusDB, pymongo, astrapy)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
  cp "$ROOT/scripts/requirements.txt" "$VENV/.docshift-requirements"
fi

# npm packages: Playwright for the browser tests, binaryen's wasm-opt for release builds.
if ! cmp -s "$ROOT/end2end/package-lock.json" "$ROOT/end2end/node_modules/.package-lock.json" 2>/dev/null \
   || [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ]; then
  step "installing the npm packages of end2end/"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$PURPOSE" = test ] && [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
