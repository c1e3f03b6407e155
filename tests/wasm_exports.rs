//! The shipped `.wasm` exports exactly the callbacks the filter implements
//! (`src/exports.txt`): the proxy-wasm crate exports every callback of the
//! ABI, the host enters the VM for each exported one on every request, and
//! `make build` removes the rest (`scripts/trim-wasm-exports.sh`). This holds
//! the build to the list, both ways: nothing unlisted is exported (a cost on
//! every request), nothing listed is missing (a callback the host would skip).

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bucket_cors_testkit::envoy::{repo_root, wasm_path};
use std::collections::BTreeSet;
use wasmparser::{Parser, Payload};

fn listed() -> BTreeSet<String> {
    let path = repo_root().join("src/exports.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn exported(wasm: &[u8]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(exports) = payload.expect("a valid wasm module") {
            for export in exports {
                names.insert(export.expect("a valid export").name.to_string());
            }
        }
    }
    names
}

#[test]
fn the_shipped_wasm_exports_exactly_the_listed_callbacks() {
    let path = wasm_path();
    let wasm = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): run `make build`, or set BUCKET_CORS_WASM",
            path.display()
        )
    });
    let (want, got) = (listed(), exported(&wasm));
    let extra: Vec<_> = got.difference(&want).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{}: exports not in src/exports.txt: {extra:?}; listed but not exported: {missing:?} \
         (was it built by `make build`?)",
        path.display()
    );
}
