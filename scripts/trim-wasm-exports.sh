#!/usr/bin/env bash
# trim-wasm-exports.sh EXPORTS WASM: keeps only the exports listed in EXPORTS
# (one a line, `#` comments) in WASM, in place, with binaryen's wasm-metadce,
# which also drops the code only the removed exports reach. Idempotent.
set -euo pipefail
exports=$1 wasm=$2
command -v wasm-metadce >/dev/null || {
    echo "wasm-metadce not found: apt-get install binaryen" >&2
    exit 1
}
names=$(grep -v '^#' "$exports" | grep -v '^[[:space:]]*$')
graph=$(mktemp) out=$(mktemp)
trap 'rm -f "$graph" "$out"' EXIT
{
    printf '[{"name": "host", "root": true, "reaches": ['
    printf '%s\n' "$names" | sed 's/.*/"&"/' | paste -sd, -
    printf ']}'
    printf '%s\n' "$names" | sed 's/.*/, {"name": "&", "export": "&"}/'
    printf ']\n'
} >"$graph"
wasm-metadce --graph-file "$graph" "$wasm" -o "$out" >/dev/null
# A new file, not a rewrite of cargo's: cargo's copy keeps its own inode.
chmod --reference="$wasm" "$out"
mv "$out" "$wasm"
