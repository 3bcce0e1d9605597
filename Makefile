# The two commands of the README. Each installs what it needs when it is missing.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: run test setup

## make run: build docshift and run it on its built-in default (local MongoDB-compatible
## server with sample data); open the printed address.
run:
	scripts/setup.sh run
	cargo leptos build --release
	scripts/run.sh

## make test: every test (Rust unit + integration, lints, then Playwright in Chromium on the release WASM).
test:
	scripts/setup.sh test
	scripts/test.sh

setup:
	scripts/setup.sh test
