//! The integration harness of bucket-cors: real third-party parts around the real filter.
//!
//! - [`garage`]: a single-node Garage, the S3 object store the suites put behind Envoy.
//! - [`chromium`]: Debian's headless Chromium with a fresh profile (testkit's launcher).
//! - [`page`]: what the SDK suite's snapshots read, over testkit's page server.
//! - [`sigv4`]: signed S3 requests from the host side, with curl's `--aws-sigv4`.
//! - [`docker`]: a Docker daemon (started when none answers) and docker-compose.
//! - [`awscli`]: the AWS CLI, a tenant's S3 client.
//! - [`store`]: Envoy reading each bucket's rules from Garage (spec §8, `rules_source`).
//!
//! Everything listens on and talks to 127.0.0.1 only, and every wait is bounded.

pub mod awscli;
pub mod docker;
pub mod garage;
pub mod page;
pub mod sigv4;
pub mod store;

pub use bucket_cors_testkit::chromium;

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The repository root (parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("integration/ has a parent")
        .to_path_buf()
}

/// A test tool's binary: the path in the environment variable `var`, else where the Makefile
/// installs it, `cached` under `~/.cache/bucket-cors`.
pub fn tool_bin(var: &str, cached: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            Path::new(&home).join(".cache/bucket-cors").join(cached)
        }
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(what: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "bucket-cors-it-{what}-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// Polls `f` every 100 ms until it gives a value or `timeout` passes.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(100));
    }
}
