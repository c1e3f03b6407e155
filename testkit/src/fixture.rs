//! The Envoy fixture of the e2e and hostile tables: an object store, an Envoy with the built
//! filter in front of it, and the runner that sends a table of [`Case`]s and reports every
//! failure at once. After each table Envoy must still be running and ready, its log must
//! show no panic, Wasm trap or critical line, and the optional sanity case must still pass.

// A fixture's job is to fail the test that uses it, by panicking, when Envoy
// or the store cannot start or a table fails.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::case::{self, By, Case};
use crate::{send, Conn, Envoy, EnvoyOptions, ObjStore, RawRequest, Response};

/// A configuration under test: the plugin JSON, the Envoy and the object store behind it.
pub struct Bench {
    pub name: String,
    pub store: ObjStore,
    pub envoy: Envoy,
    /// Sent after every table: the filter must still answer it as expected.
    sanity: Option<Case>,
}

impl Bench {
    /// Starts an object store and an Envoy in front of it; panics with a clear message when
    /// the prerequisites are missing (tests fail, they never skip).
    pub fn start(name: &str, plugin_config: &str) -> Bench {
        Self::start_with(name, plugin_config, &EnvoyOptions::default(), false)
    }

    /// `dead_upstream`: route to a loopback port where nothing listens (Envoy's own 503).
    /// Waits at least a minute for `/ready`: compiling the wasm in V8 takes seconds, many
    /// more on a busy machine (the native module loads at once).
    pub fn start_with(
        name: &str,
        plugin_config: &str,
        opts: &EnvoyOptions,
        dead_upstream: bool,
    ) -> Bench {
        let store = ObjStore::start().expect("start the object store");
        Self::start_in_front_of(name, plugin_config, opts, dead_upstream, store)
    }

    /// In front of a store that answers CORS like MinIO community's default handler (every
    /// Origin reflected with credentials, preflights answered by the store).
    pub fn start_reflecting(name: &str, plugin_config: &str) -> Bench {
        let store = ObjStore::start_reflecting_cors().expect("start the object store");
        Self::start_in_front_of(name, plugin_config, &EnvoyOptions::default(), false, store)
    }

    fn start_in_front_of(
        name: &str,
        plugin_config: &str,
        opts: &EnvoyOptions,
        dead_upstream: bool,
        store: ObjStore,
    ) -> Bench {
        let upstream = if dead_upstream {
            dead_addr()
        } else {
            store.addr()
        };
        let opts = EnvoyOptions {
            ready_timeout: opts.ready_timeout.max(Duration::from_secs(60)),
            ..opts.clone()
        };
        let envoy = match Envoy::start_with(plugin_config, upstream, &opts) {
            Ok(e) => e,
            Err(e) if e.is_setup_error() => panic!("[{name}] {e}"),
            Err(e) => panic!(
                "[{name}] Envoy did not start with this plugin configuration:\n{plugin_config}\n{e}"
            ),
        };
        Bench {
            name: name.into(),
            store,
            envoy,
            sanity: None,
        }
    }

    /// A case sent after every table, to show the filter still works after what came before.
    pub fn with_sanity(mut self, c: Case) -> Bench {
        self.sanity = Some(c);
        self
    }

    /// Runs every case in order, each on its own connection (`Connection: close`).
    pub fn run(&mut self, cases: Vec<Case>) {
        let addr = self.envoy.addr();
        self.run_with(cases, &mut |r: &RawRequest| {
            send(addr, &r.clone().header("Connection", "close"))
        });
    }

    /// Runs every case in order on ONE keep-alive downstream connection.
    pub fn run_on_one_connection(&mut self, cases: Vec<Case>) {
        let mut conn = Conn::open(self.envoy.addr()).expect("connect to Envoy");
        self.run_with(cases, &mut |r: &RawRequest| conn.send(r));
    }

    /// Runs the cases `CASE` selects, then the checks after a table; panics once with every
    /// failure. Prints one line per case: who answered and with what status.
    fn run_with(
        &mut self,
        cases: Vec<Case>,
        sender: &mut dyn FnMut(&RawRequest) -> io::Result<Response>,
    ) {
        let mut names = HashSet::new();
        for c in &cases {
            assert!(
                names.insert(c.name.clone()),
                "duplicate case name {}",
                c.name
            );
        }
        let total = cases.len();
        let cases = case::select(cases, |c| &c.name);
        let mut failures = Vec::new();
        for c in &cases {
            let (problems, status) = case::check(&self.store, c, sender);
            let by = match c.by {
                By::Envoy => "Envoy",
                By::Filter => "filter",
            };
            eprintln!(
                "[{}] {:<58} by {by:<6} want {} got {}{}",
                self.name,
                c.name,
                c.status,
                status.map_or("-".into(), |s| s.to_string()),
                if problems.is_empty() { "" } else { "  FAILED" }
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "--- case {} (spec {})\n    request: {}\n    {}",
                    c.name,
                    c.spec,
                    case::describe(&c.req),
                    problems.join("\n    ")
                ));
            }
        }
        failures.extend(self.after_table());
        eprintln!(
            "[{}] {} of {total} cases run, {} failure(s)",
            self.name,
            cases.len(),
            failures.len()
        );
        if !failures.is_empty() {
            panic!(
                "[{}] {} failure(s) in {} cases:\n{}\n\nplugin log lines:\n{}",
                self.name,
                failures.len(),
                cases.len(),
                failures.join("\n"),
                self.envoy.plugin_log()
            );
        }
    }

    /// Envoy still up and ready, no plugin crash in its log, and the sanity case still passing.
    fn after_table(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.envoy.is_running() {
            problems.push("--- Envoy is no longer running".into());
        }
        match self.envoy.admin_get("/ready") {
            Ok((200, body)) if body.trim() == "LIVE" => {}
            Ok((s, body)) => {
                problems.push(format!("--- /ready answered {s} {body:?} (want 200 LIVE)"))
            }
            Err(e) => problems.push(format!("--- /ready failed: {e}")),
        }
        if let Some(sanity) = &self.sanity {
            let addr = self.envoy.addr();
            let (p, _) = case::check(&self.store, sanity, &mut |r: &RawRequest| send(addr, r));
            if !p.is_empty() {
                problems.push(format!("--- {}\n    {}", sanity.name, p.join("\n    ")));
            }
        }
        let bad = self.bad_log_lines();
        if !bad.is_empty() {
            problems.push(format!(
                "--- panic, Wasm trap or critical line in Envoy's log:\n{}",
                bad.join("\n")
            ));
        }
        problems
    }

    /// The log lines that show a plugin problem: the launcher's crash lines (panic, trap,
    /// uncaught exception, runtime error), any critical line, and any error line of the
    /// plugin's log component (`wasm` or `dynamic_modules`).
    pub fn bad_log_lines(&self) -> Vec<String> {
        let mut lines = self.envoy.crash_lines();
        let component = self.envoy.build().log_component();
        for l in self.envoy.log().lines() {
            let low = l.to_ascii_lowercase();
            if (l.contains("[critical]") || (l.contains("[error]") && low.contains(component)))
                && !lines.iter().any(|x| x == l)
            {
                lines.push(l.to_string());
            }
        }
        lines
    }
}

/// A loopback address where nothing listens: port 1 (tcpmux, privileged, unused), so that no
/// other test or Envoy can take it between here and Envoy's first connection, as a freed
/// ephemeral port can. Checked: a connection to it must be refused.
fn dead_addr() -> SocketAddr {
    let addr = SocketAddr::from(([127, 0, 0, 1], 1));
    if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!("something listens on {addr} ({s:?}); the dead upstream needs a closed port");
    }
    addr
}
