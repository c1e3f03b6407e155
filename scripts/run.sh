#!/usr/bin/env bash
# The bucket-cors demo (`make run`): starts the in-memory object store on
# 127.0.0.1:9000 and Envoy with envoy/envoy.yaml (the Wasm filter) or
# envoy/envoy-module.yaml (the dynamic module; `make run FILTER=module`),
# listener 127.0.0.1:10000, admin 127.0.0.1:9901, waits until both answer,
# shows a few CORS exchanges with curl, then stays up until Ctrl-C and stops
# both on exit.
#
# Env: ENVOY_BIN (default .venv/bin/envoy), BUCKET_CORS_BUILD (wasm, the
# default, or module), BUCKET_CORS_WASM (default
# target/wasm32-wasip1/release/bucket_cors.wasm), BUCKET_CORS_MODULE (default
# target/release/libbucket_cors_module.so). `make run` builds what it runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
ENVOY_BIN=${ENVOY_BIN:-$ROOT/.venv/bin/envoy}
WASM=${BUCKET_CORS_WASM:-$ROOT/target/wasm32-wasip1/release/bucket_cors.wasm}
MODULE=${BUCKET_CORS_MODULE:-$ROOT/target/release/libbucket_cors_module.so}
BUILD=${BUCKET_CORS_BUILD:-wasm}
LISTENER=http://127.0.0.1:10000
ADMIN=http://127.0.0.1:9901
UPSTREAM=http://127.0.0.1:9000
LOGS=$ROOT/.run
mkdir -p "$LOGS"

die() { echo "run.sh: $*" >&2; exit 1; }
[[ -x $ENVOY_BIN ]] || die "no Envoy at $ENVOY_BIN (run: make envoy)"
case $BUILD in
wasm)
    CONFIG=envoy/envoy.yaml
    [[ -f $WASM ]] || die "no wasm at $WASM (run: make build)"
    # envoy/envoy.yaml names the wasm relative to the repository root.
    [[ $WASM -ef $ROOT/target/wasm32-wasip1/release/bucket_cors.wasm ]] \
        || die "envoy/envoy.yaml loads target/wasm32-wasip1/release/bucket_cors.wasm, not $WASM"
    ;;
module)
    CONFIG=envoy/envoy-module.yaml
    [[ -f $MODULE ]] || die "no module at $MODULE (run: make build-module)"
    # envoy/envoy-module.yaml names the module relative to the repository root.
    [[ $MODULE -ef $ROOT/target/release/libbucket_cors_module.so ]] \
        || die "envoy/envoy-module.yaml loads target/release/libbucket_cors_module.so, not $MODULE"
    ;;
*) die "BUCKET_CORS_BUILD must be wasm or module, not '$BUILD'" ;;
esac
command -v curl >/dev/null || die "curl is needed"
for port in 9000 9901 10000; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use (another demo still running?)"
    fi
done

echo "==> building the demo object store (bucket-cors-testkit, bin objstore)"
cargo build --release -p bucket-cors-testkit --bin objstore
OBJSTORE=$ROOT/target/release/objstore

OBJSTORE_PID=
ENVOY_PID=
cleanup() {
    trap - EXIT INT TERM
    echo
    echo "==> stopping"
    for pid in $ENVOY_PID $OBJSTORE_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $ENVOY_PID $OBJSTORE_PID; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> starting objstore on 127.0.0.1:9000 (log: .run/objstore.log)"
"$OBJSTORE" --listen 127.0.0.1:9000 >"$LOGS/objstore.log" 2>&1 &
OBJSTORE_PID=$!

echo "==> starting Envoy with $CONFIG on 127.0.0.1:10000, admin 127.0.0.1:9901 (log: .run/envoy.log)"
"$ENVOY_BIN" -c "$CONFIG" --disable-hot-restart --log-level info >"$LOGS/envoy.log" 2>&1 &
ENVOY_PID=$!

# Waits until URL answers (any HTTP status; with "ok" only a 2xx counts).
wait_for() {
    local name=$1 url=$2 pid=$3 mode=${4:-any} i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || {
            echo "run.sh: $name exited early; last lines of its log:" >&2
            tail -n 20 "$LOGS/$name.log" >&2
            exit 1
        }
        if [[ $mode == ok ]]; then
            curl -sf -o /dev/null "$url" && return 0
        else
            curl -s -o /dev/null "$url" && return 0
        fi
        sleep 0.2
    done
    die "$name did not become ready within 30 s (see .run/$name.log)"
}
wait_for objstore "$UPSTREAM/" "$OBJSTORE_PID"
wait_for envoy "$ADMIN/ready" "$ENVOY_PID" ok
echo "==> ready"

# Seed an object, straight into the object store (not through Envoy).
curl -sf -o /dev/null -X PUT --data-binary 'not really a cat' "$UPSTREAM/photos/cat.jpg" \
    || die "could not seed photos/cat.jpg into the object store"

# Prints a command, then runs exactly that command.
show() {
    printf '\n# %s\n$ %s\n' "$1" "$2"
    eval "$2" || true
    echo
}

show "Preflight from an allowed origin: 200, answered by the filter, never reaches the object store" \
    "curl -si -X OPTIONS $LISTENER/photos/cat.jpg -H 'Origin: https://www.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type'"
show "Preflight from an origin no rule allows: OSS's 403" \
    "curl -si -X OPTIONS $LISTENER/photos/cat.jpg -H 'Origin: https://evil.example.org' -H 'Access-Control-Request-Method: PUT'"
show "Actual GET from a subdomain matching https://*.example.com: the object, with ACAO/ACAC/ACEH and Vary: Origin" \
    "curl -si $LISTENER/photos/cat.jpg -H 'Origin: https://cdn.example.com'"

cat <<MSG
==> running: listener $LISTENER (buckets "photos" and "public"), admin $ADMIN
    logs: .run/envoy.log, .run/objstore.log. Press Ctrl-C to stop.
MSG

# Stay in the foreground until Ctrl-C (the trap stops both) or until a child dies.
while kill -0 "$ENVOY_PID" 2>/dev/null && kill -0 "$OBJSTORE_PID" 2>/dev/null; do
    sleep 1
done
echo "run.sh: a child exited unexpectedly; see .run/envoy.log and .run/objstore.log" >&2
exit 1
