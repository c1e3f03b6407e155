//! Debian's Chromium, headless, as root (`--no-sandbox`), with a fresh profile and nothing that
//! talks to the network on its own; it resolves `*.localhost` to loopback. One launcher for the
//! browser suite and the integration suite. The whole process group is killed on drop.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// `CHROMIUM_BIN`, or `/usr/bin/chromium` (`make browser-deps` installs it).
pub fn chromium_bin() -> PathBuf {
    match std::env::var_os("CHROMIUM_BIN") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from("/usr/bin/chromium"),
    }
}

/// A running headless Chromium showing one page.
pub struct Chromium {
    child: Child,
    dir: PathBuf,
}

impl Chromium {
    /// Starts `bin` on `url` in its own process group (the renderer, GPU and utility processes
    /// go with it), logging to a file in a fresh temp dir.
    pub fn launch(bin: &Path, url: &str) -> io::Result<Chromium> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "bucket-cors-chromium-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir)?;
        let log = fs::File::create(dir.join("chromium.log"))?;
        let child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--no-proxy-server",
                "--password-store=basic",
                "--mute-audio",
                "--enable-logging=stderr",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("--disk-cache-dir={}", dir.join("cache").display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot start {}: {e}", bin.display()))
            })?;
        Ok(Chromium { child, dir })
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `n` lines of Chromium's output (console messages included).
    pub fn log_tail(&self, n: usize) -> String {
        let log = fs::read_to_string(self.dir.join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The group we created (its id is the child's pid), then the child itself.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("BUCKET_CORS_KEEP_TMP").is_some() {
            eprintln!("kept Chromium dir {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
