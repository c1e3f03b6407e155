//! Fuzz seeds from the named table cases. With `BUCKET_CORS_FUZZ_SEEDS=<dir>`
//! set (a relative `<dir>` is taken from the repository root), every case
//! the runner decides writes its configuration and request as
//! `<dir>/request/case-<hash>`, in the input encoding of the fuzz `request`
//! target (the configuration as a one-line JSON first line, then one
//! `name value` line per request header), and its configuration JSON as
//! written as `<dir>/config/case-<hash>.json`; each rules document of the
//! document tables as `<dir>/document/case-<hash>.xml`. The hash of the content names
//! the file, so a rerun rewrites the same files and a configuration many
//! cases share is one seed. Unset, nothing is recorded or written.
//!
//! Regenerate the committed seeds (see `fuzz/README.md`):
//! `BUCKET_CORS_FUZZ_SEEDS=fuzz/corpus cargo test -p bucket-cors-core --test tables`.

use crate::common::Req;
use bucket_cors_core::Policy;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const VAR: &str = "BUCKET_CORS_FUZZ_SEEDS";

/// The configurations `policy()` compiled, keyed by the `Debug` text of the
/// compiled `Policy` (the runner is handed the `Policy`, not its JSON; the
/// same instance always prints the same).
static CONFIGS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn seed_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(VAR)?);
    // `cargo test` runs the test binary in `core/`.
    Some(if dir.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)
    } else {
        dir
    })
}

/// Records the JSON `policy` was compiled from, when seeds are written.
pub fn remember(json: &str, policy: &Policy) {
    if seed_dir().is_some() {
        let mut configs = CONFIGS.lock().unwrap();
        configs.push((format!("{policy:?}"), json.to_string()));
    }
}

/// Writes the seeds of one case decided against `policy`, when seeds are
/// written.
pub fn write(policy: &Policy, req: &Req) {
    let Some(dir) = seed_dir() else {
        return;
    };
    let key = format!("{policy:?}");
    let json = CONFIGS
        .lock()
        .unwrap()
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, json)| json.clone())
        .unwrap_or_else(|| {
            panic!("{VAR}: a case runs against a policy that `policy()` did not compile")
        });
    let mut input = one_line(&json).into_bytes();
    for (name, value) in &req.headers {
        assert!(
            !name.contains([' ', '\n']) && !value.contains(&b'\n'),
            "{VAR}: header {name:?} cannot be written as a fuzz input line"
        );
        input.push(b'\n');
        input.extend_from_slice(name.as_bytes());
        input.push(b' ');
        input.extend_from_slice(value);
    }
    save(
        &dir.join("request"),
        &format!("case-{:016x}", fnv1a(&input)),
        &input,
    );
    let name = format!("case-{:016x}.json", fnv1a(json.as_bytes()));
    save(&dir.join("config"), &name, json.as_bytes());
}

/// Writes a rules document of a case (spec §7) as `<dir>/document/case-<hash>.xml`,
/// when seeds are written and it fits the fuzz runs' `-max_len` (the
/// Makefile's; libFuzzer would cut a longer one).
pub fn write_document(xml: &[u8]) {
    const FUZZ_MAX_LEN: usize = 8192;
    if let (Some(dir), true) = (seed_dir(), xml.len() <= FUZZ_MAX_LEN) {
        let name = format!("case-{:016x}.xml", fnv1a(xml));
        save(&dir.join("document"), &name, xml);
    }
}

/// The configuration on one line: a JSON string never holds a raw line
/// break, so every line break and the indentation around it are whitespace
/// between tokens, which JSON never needs.
fn one_line(json: &str) -> String {
    json.lines()
        .map(|l| l.trim_matches([' ', '\t', '\r']))
        .collect()
}

fn save(dir: &Path, name: &str, content: &[u8]) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{VAR}: {}: {e}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("{VAR}: {}: {e}", path.display()));
}

/// FNV-1a, 64 bits: stable across Rust releases, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
