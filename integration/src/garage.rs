//! A real single-node Garage (an S3 object store) on free loopback ports: sqlite metadata,
//! replication factor 1, `root_domain` `.s3.localhost` so that virtual-hosted buckets
//! (`<bucket>.s3.localhost`) work as well as path style. The harness applies the layout, creates
//! a key and the buckets and gives the key read, write and owner rights on them.
//!
//! Garage is AGPL: it is a test tool only, installed by `make garage` into a cache outside the
//! clone (`GARAGE_BIN`, default `~/.cache/bucket-cors/garage-2.5.0/bin/garage`), never linked.
//! A missing binary is a failure that says to run `make test-integration`.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{temp_dir, wait_until};

/// The region Garage is configured with; SigV4 signatures name it.
pub const REGION: &str = "garage";
/// Garage's `root_domain`: `<bucket>.s3.localhost` addresses a bucket.
pub const ROOT_DOMAIN: &str = "s3.localhost";

/// `GARAGE_BIN`, or the binary `make garage` installs.
pub fn garage_bin() -> PathBuf {
    crate::tool_bin("GARAGE_BIN", "garage-2.5.0/bin/garage")
}

/// An access key of the store.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

/// A running Garage node; killed (and its directory removed) on drop.
pub struct Garage {
    child: Child,
    bin: PathBuf,
    dir: PathBuf,
    s3: SocketAddr,
    key: Key,
}

/// Free loopback ports, bound together and then released.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    let mut out = [0; N];
    for (o, l) in out.iter_mut().zip(&listeners) {
        *o = l.local_addr().expect("local address").port();
    }
    out
}

/// A fresh RPC secret (32 bytes, hex): Garage's nodes and CLI share it.
fn rpc_secret() -> String {
    let seed = format!("{:?}{}", Instant::now(), std::process::id());
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::with_capacity(64);
    for i in 0..32u64 {
        for b in seed.bytes().chain(i.to_le_bytes()) {
            x ^= u64::from(b);
            x = x.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out.push_str(&format!("{:02x}", x >> 56));
    }
    out
}

impl Garage {
    /// Starts a node, lays it out, creates a key and `buckets` (read, write and owner for the
    /// key).
    pub fn start(buckets: &[&str]) -> Garage {
        let bin = garage_bin();
        assert!(
            bin.is_file(),
            "Garage not found at {} (set GARAGE_BIN, or run `make test-integration`, which installs it)",
            bin.display()
        );
        let dir = temp_dir("garage");
        let [rpc, s3, admin] = free_ports::<3>();
        let config = format!(
            "metadata_dir = \"{dir}/meta\"\n\
             data_dir = \"{dir}/data\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_secret = \"{secret}\"\n\
             \n\
             [s3_api]\n\
             s3_region = \"{REGION}\"\n\
             api_bind_addr = \"127.0.0.1:{s3}\"\n\
             root_domain = \".{ROOT_DOMAIN}\"\n\
             \n\
             [admin]\n\
             api_bind_addr = \"127.0.0.1:{admin}\"\n",
            dir = dir.display(),
            secret = rpc_secret(),
        );
        fs::write(dir.join("garage.toml"), config).expect("write garage.toml");
        let child = spawn(&bin, &dir);
        let mut g = Garage {
            child,
            bin,
            dir,
            s3: SocketAddr::from(([127, 0, 0, 1], s3)),
            key: Key {
                id: String::new(),
                secret: String::new(),
            },
        };
        g.set_up(buckets);
        g
    }

    fn set_up(&mut self, buckets: &[&str]) {
        let node = wait_until(Duration::from_secs(30), || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Garage exited ({status}); log:\n{}", self.log());
            }
            self.try_cli(&["node", "id", "-q"]).ok()
        })
        .unwrap_or_else(|| panic!("Garage's RPC did not answer in 30 s; log:\n{}", self.log()));
        let node = node.trim();
        let node_id = node.split('@').next().unwrap_or(node);
        // `node id` reads the node's key from disk; the layout needs its RPC port, which the
        // server may not have opened yet ("Connection refused"): retry, bounded.
        wait_until(Duration::from_secs(20), || {
            self.try_cli(&["layout", "assign", "-z", "dc1", "-c", "1G", node_id])
                .ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "cannot assign Garage's layout; log:
{}",
                self.log()
            )
        });
        self.cli(&["layout", "apply", "--version", "1"]);
        let created = self.cli(&["key", "create", "bucket-cors-integration"]);
        self.key = parse_key(&created);
        for b in buckets {
            // The layout takes a moment to be in force: retry, bounded.
            wait_until(Duration::from_secs(20), || {
                self.try_cli(&["bucket", "create", b]).ok()
            })
            .unwrap_or_else(|| panic!("cannot create bucket {b}; log:\n{}", self.log()));
            self.cli(&[
                "bucket",
                "allow",
                "--read",
                "--write",
                "--owner",
                b,
                "--key",
                &self.key.id,
            ]);
        }
        wait_until(Duration::from_secs(10), || {
            TcpStream::connect_timeout(&self.s3, Duration::from_millis(500)).ok()
        })
        .unwrap_or_else(|| panic!("Garage's S3 port does not answer; log:\n{}", self.log()));
    }

    /// Kills the node (its data stays): its S3 port then refuses connections.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the node again on the same data and ports (after [`Garage::stop`]); returns
    /// when its S3 API answers.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.bin, &self.dir);
        wait_until(Duration::from_secs(30), || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Garage exited on restart ({status}); log:\n{}", self.log());
            }
            self.try_cli(&["bucket", "list"]).ok()?;
            TcpStream::connect_timeout(&self.s3, Duration::from_millis(500)).ok()
        })
        .unwrap_or_else(|| panic!("Garage did not come back in 30 s; log:\n{}", self.log()));
    }

    /// Runs the Garage CLI against this node.
    fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        let out: Output = Command::new(&self.bin)
            .arg("-c")
            .arg(self.dir.join("garage.toml"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("garage {args:?}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "garage {args:?}: {}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Runs the Garage CLI against this node; panics when it fails.
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The S3 API address (Envoy's upstream).
    pub fn s3_addr(&self) -> SocketAddr {
        self.s3
    }

    /// The key that owns every bucket.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Garage's log so far.
    pub fn log(&self) -> String {
        fs::read(self.dir.join("garage.log"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The requests with `method` that reached Garage's S3 API so far: its API server logs one
    /// line per request (`garage_api_common::generic_server: <peer> ... <METHOD> <path>`).
    pub fn logged_requests(&self, method: &str) -> Vec<String> {
        let needle = format!(" {method} /");
        self.log()
            .lines()
            .filter(|l| l.contains("generic_server") && l.contains(&needle))
            // An error adds a second line, "... in response to <peer> ... <METHOD> <path>".
            .filter(|l| !l.contains("in response to"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        thread::sleep(Duration::from_millis(50));
        if std::env::var_os("BUCKET_CORS_KEEP_TMP").is_some() {
            eprintln!("kept Garage dir {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Starts `garage server` on the configuration in `dir`, its output appended to `garage.log`.
fn spawn(bin: &Path, dir: &Path) -> Child {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("garage.log"))
        .expect("open garage.log");
    Command::new(bin)
        .arg("-c")
        .arg(dir.join("garage.toml"))
        .arg("server")
        .env("RUST_LOG", "garage=info,garage_api_common=info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

/// The key id and secret in `garage key create`'s output.
fn parse_key(out: &str) -> Key {
    let field = |label: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label:?} in `garage key create` output:\n{out}"))
    };
    Key {
        id: field("Key ID:"),
        secret: field("Secret key:"),
    }
}
