//! Docker for the compose test: a daemon (when none answers and we are root, one is started
//! with `--bridge=none --iptables=false`, so no container network exists besides the host's,
//! and stopped on drop), local images built `FROM scratch` from binaries on this machine (there
//! is no image registry here), and `docker-compose` run as a user runs it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::{temp_dir, wait_until};

/// `DOCKER`, or `docker`.
pub fn docker_bin() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| "docker".into())
}

/// `DOCKER_COMPOSE`, or `docker-compose` (Debian's 1.29, the v1 tool).
pub fn compose_bin() -> String {
    std::env::var("DOCKER_COMPOSE").unwrap_or_else(|_| "docker-compose".into())
}

/// Runs a command; `Err` with its output when it fails.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out: Output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{cmd:?}: {}\n{text}", out.status))
    }
}

/// `docker <args>`.
pub fn docker(args: &[&str]) -> Result<String, String> {
    run(Command::new(docker_bin()).args(args))
}

fn daemon_answers() -> bool {
    docker(&["info", "--format", "{{.ServerVersion}}"]).is_ok()
}

/// A daemon this process started (stopped on drop), or none when one already answered.
pub struct Daemon {
    started: Option<(Child, PathBuf)>,
}

impl Daemon {
    /// Makes sure a Docker daemon answers.
    pub fn ensure() -> Daemon {
        if daemon_answers() {
            return Daemon { started: None };
        }
        let uid = run(Command::new("id").arg("-u")).unwrap_or_default();
        assert_eq!(
            uid.trim(),
            "0",
            "no Docker daemon answers and this user is not root: start Docker, or run as root"
        );
        let dir = temp_dir("dockerd");
        let log = fs::File::create(dir.join("dockerd.log")).expect("create dockerd.log");
        let child = Command::new("dockerd")
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd (apt-get install docker.io)");
        let mut d = Daemon {
            started: Some((child, dir)),
        };
        if wait_until(Duration::from_secs(60), || daemon_answers().then_some(())).is_none() {
            panic!("dockerd did not answer in 60 s; log:\n{}", d.log());
        }
        if let Some((child, _)) = d.started.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("dockerd exited ({status})");
            }
        }
        d
    }

    /// Whether this process started the daemon.
    pub fn started_here(&self) -> bool {
        self.started.is_some()
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Some((_, dir)) = &self.started {
            if let Ok(mut f) = fs::File::open(dir.join("dockerd.log")) {
                let _ = f.read_to_string(&mut s);
            }
        }
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some((mut child, dir)) = self.started.take() {
            // SIGTERM: dockerd stops its containerd and removes its socket and pid file.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let stopped = wait_until(Duration::from_secs(30), || {
                child.try_wait().ok().flatten().map(|_| ())
            });
            if stopped.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// The files `bin` loads at run time (`ldd`), the dynamic loader included.
pub fn shared_libraries(bin: &Path) -> Vec<PathBuf> {
    let out = run(Command::new("ldd").arg(bin)).unwrap_or_else(|e| panic!("{e}"));
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, right)) => right.trim().split(' ').next()?,
                None => l.split(' ').next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Copies `src` into `rootfs` at `dst` (absolute in the image), following symlinks.
fn install(rootfs: &Path, src: &Path, dst: &Path) {
    let to = rootfs.join(dst.strip_prefix("/").unwrap_or(dst));
    fs::create_dir_all(to.parent().expect("a parent directory")).expect("create a rootfs dir");
    fs::copy(src, &to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), to.display()));
}

/// A build context for a `FROM scratch` image: the Dockerfile and files of `image_dir`
/// (`integration/images/<name>/`), plus `rootfs/` with each binary at its path in the image
/// and the shared libraries they need at the paths `ldd` names.
pub fn scratch_context(image_dir: &Path, binaries: &[(&Path, &str)]) -> PathBuf {
    let ctx = temp_dir("image");
    for entry in fs::read_dir(image_dir).expect("read the image directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_file() {
            fs::copy(&path, ctx.join(path.file_name().expect("a file name")))
                .expect("copy into the build context");
        }
    }
    let rootfs = ctx.join("rootfs");
    for (bin, dst) in binaries {
        install(&rootfs, bin, Path::new(dst));
        for lib in shared_libraries(bin) {
            install(&rootfs, &lib, &lib);
        }
    }
    ctx
}

/// `docker build -t tag ctx`, then removes the context.
pub fn build_image(ctx: &Path, tag: &str) {
    let out = docker(&["build", "-q", "-t", tag, &ctx.to_string_lossy()]);
    let _ = fs::remove_dir_all(ctx);
    if let Err(e) = out {
        panic!("building {tag}: {e}");
    }
}
