#![allow(dead_code)]
//! Helpers of the operations tests: starting Envoy, reading the filter's counters from
//! `/stats`, waiting on Envoy's log, and checking the CORS headers of one response.

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::{Envoy, EnvoyOptions, ObjStore, RawRequest, Response};

pub const ACAO: &str = "access-control-allow-origin";
pub const ACAC: &str = "access-control-allow-credentials";
pub const ACAM: &str = "access-control-allow-methods";
pub const ACAH: &str = "access-control-allow-headers";
pub const ACEH: &str = "access-control-expose-headers";
pub const ACMA: &str = "access-control-max-age";

/// Spec 3.7: the Vary of every preflight answer of the filter.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// A host that matches no endpoint: path-style addressing.
pub const PS: &str = "objects.local";

/// The filter's counters as Envoy's `/stats` shows them (proxy-wasm's metric API puts
/// `wasmcustom.` before the name the plugin defines), in the order of [`Counts`].
pub const COUNTERS: [&str; 8] = [
    "wasmcustom.bucket_cors.preflight.allowed",
    "wasmcustom.bucket_cors.preflight.refused.no_configuration",
    "wasmcustom.bucket_cors.preflight.refused.origin",
    "wasmcustom.bucket_cors.preflight.refused.method",
    "wasmcustom.bucket_cors.preflight.refused.header",
    "wasmcustom.bucket_cors.actual.matched",
    "wasmcustom.bucket_cors.actual.unmatched",
    "wasmcustom.bucket_cors.config.invalid",
];

/// Which counter a request (or a configuration) moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    PreflightAllowed = 0,
    RefusedNoConfiguration = 1,
    RefusedOrigin = 2,
    RefusedMethod = 3,
    RefusedHeader = 4,
    ActualMatched = 5,
    ActualUnmatched = 6,
    ConfigInvalid = 7,
}

impl Counter {
    pub fn name(self) -> &'static str {
        COUNTERS[self as usize]
    }
}

/// A value for each of [`COUNTERS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts(pub [u64; 8]);

impl Counts {
    pub fn add(&mut self, c: Counter, n: u64) {
        self.0[c as usize] += n;
    }
    pub fn get(&self, c: Counter) -> u64 {
        self.0[c as usize]
    }
    pub fn minus(&self, base: &Counts) -> Counts {
        let mut out = *self;
        for (o, b) in out.0.iter_mut().zip(base.0) {
            *o = o.wrapping_sub(b);
        }
        out
    }
    pub fn times(&self, k: u64) -> Counts {
        let mut out = *self;
        for o in out.0.iter_mut() {
            *o *= k;
        }
        out
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, v) in COUNTERS.iter().zip(self.0) {
            writeln!(f, "  {name}: {v}")?;
        }
        Ok(())
    }
}

/// Starts an object store and an Envoy in front of it; panics with Envoy's log when it does
/// not come up (tests fail, they never skip). Waits up to a minute for Envoy to be ready:
/// compiling the wasm in V8 takes seconds, many more on a busy machine.
pub fn start(name: &str, plugin_config: &str, opts: &EnvoyOptions) -> (ObjStore, Envoy) {
    let store = ObjStore::start().expect("start the object store");
    let opts = EnvoyOptions {
        ready_timeout: opts.ready_timeout.max(Duration::from_secs(60)),
        ..opts.clone()
    };
    let envoy = match Envoy::start_with(plugin_config, store.addr(), &opts) {
        Ok(e) => e,
        Err(e) if e.is_missing_prerequisite() => panic!("[{name}] {e}\n=> run `make test`"),
        Err(e) => panic!(
            "[{name}] Envoy did not start with this plugin configuration:\n{plugin_config}\n{e}"
        ),
    };
    (store, envoy)
}

/// Options for tests that read Envoy's log while it runs: the log file is flushed every
/// 100 ms instead of every 10 s.
pub fn quick_log_opts() -> EnvoyOptions {
    EnvoyOptions {
        extra_args: vec!["--file-flush-interval-msec".into(), "100".into()],
        ..EnvoyOptions::default()
    }
}

/// Every `wasmcustom.bucket_cors.*` line of `/stats`, as Envoy prints it.
pub fn stats_lines(envoy: &Envoy) -> Vec<String> {
    envoy
        .stats(Some("bucket_cors"))
        .expect("read /stats")
        .into_iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect()
}

/// The filter's counters from `/stats`. Panics when one is missing, is not a number, or when
/// `/stats` shows a `bucket_cors` stat that is not one of [`COUNTERS`].
pub fn counters(envoy: &Envoy) -> Counts {
    let stats = envoy.stats(Some("bucket_cors")).expect("read /stats");
    let mut out = Counts::default();
    for (i, name) in COUNTERS.iter().enumerate() {
        let v = stats.get(*name).unwrap_or_else(|| {
            panic!("/stats has no {name}; its bucket_cors lines are:\n{stats:#?}")
        });
        out.0[i] = v
            .parse()
            .unwrap_or_else(|_| panic!("/stats {name} = {v:?} is not a counter"));
    }
    let unknown: Vec<&String> = stats
        .keys()
        .filter(|k| !COUNTERS.contains(&k.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "/stats shows bucket_cors stats nobody expects: {unknown:?}"
    );
    out
}

/// Waits (bounded) until the counters equal `want`, then returns them; panics with both sets
/// otherwise. Counters are read straight from Envoy's store, so this normally returns at once.
pub fn expect_counters(envoy: &Envoy, want: &Counts, context: &str) -> Counts {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = counters(envoy);
        if got == *want {
            return got;
        }
        if Instant::now() >= deadline {
            let mut diff = String::new();
            for (i, name) in COUNTERS.iter().enumerate() {
                if got.0[i] != want.0[i] {
                    let _ = writeln!(diff, "  {name}: got {} want {}", got.0[i], want.0[i]);
                }
            }
            panic!("[{context}] /stats counters differ:\n{diff}all of them:\n{got}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until a numeric stat reaches at least `min`; returns it.
pub fn wait_stat_at_least(envoy: &Envoy, name: &str, min: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let v = envoy.counter(name).expect("read /stats").unwrap_or(0);
        if v >= min {
            return v;
        }
        if Instant::now() >= deadline {
            panic!(
                "{name} stayed at {v} (want >= {min}) for {timeout:?}; Envoy log tail:\n{}",
                log_tail(envoy, 40)
            );
        }
        thread::sleep(Duration::from_millis(25));
    }
}

/// The text value of one stat (a text readout such as `listener_manager.lds.version_text`).
pub fn stat_text(envoy: &Envoy, name: &str) -> Option<String> {
    envoy.stats(Some(name)).expect("read /stats").remove(name)
}

/// Waits (bounded) until some log line satisfies `pred`; returns the matching lines.
pub fn wait_log_lines(
    envoy: &Envoy,
    what: &str,
    timeout: Duration,
    pred: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let lines: Vec<String> = envoy
            .log()
            .lines()
            .filter(|l| pred(l))
            .map(str::to_string)
            .collect();
        if !lines.is_empty() {
            return lines;
        }
        if Instant::now() >= deadline {
            panic!(
                "no log line {what} after {timeout:?}; wasm log lines:\n{}",
                wasm_log(envoy)
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The plugin's own log lines (`wasm log ...`) and every error line.
pub fn wasm_log(envoy: &Envoy) -> String {
    envoy
        .log()
        .lines()
        .filter(|l| l.contains("wasm log") || l.contains("[error]") || l.contains("[critical]"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn log_tail(envoy: &Envoy, n: usize) -> String {
    let log = envoy.log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Panics when the log shows that the plugin crashed.
pub fn assert_no_crash(envoy: &Envoy) {
    let crashes = envoy.crash_lines();
    assert!(
        crashes.is_empty(),
        "plugin crashed (Envoy log):\n{}",
        crashes.join("\n")
    );
}

pub fn preflight(target: &str, origin: &str, method: &str) -> RawRequest {
    RawRequest::new("OPTIONS", PS, target)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
}

pub fn actual(method: &str, target: &str, origin: Option<&str>) -> RawRequest {
    let r = RawRequest::new(method, PS, target);
    match origin {
        Some(o) => r.header("Origin", o),
        None => r,
    }
}

/// The `Access-Control-*` lines of a response, names lower-cased, in order.
pub fn acx_lines(resp: &Response) -> Vec<(String, String)> {
    resp.headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect()
}

/// Checks that the `Access-Control-*` lines are exactly `want` (in any order, each once) and
/// that `Vary` is exactly `vary` (`None`: no `Vary` line). Returns the problems.
pub fn check_cors(resp: &Response, want: &[(&str, &str)], vary: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut got = acx_lines(resp);
    got.sort();
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    want.sort();
    if got != want {
        problems.push(format!("Access-Control-* lines {got:?}, want {want:?}"));
    }
    let got_vary = resp.header_all("vary");
    match vary {
        None if !got_vary.is_empty() => problems.push(format!("Vary {got_vary:?}, want none")),
        Some(v) if got_vary != [v] => problems.push(format!("Vary {got_vary:?}, want [{v:?}]")),
        _ => {}
    }
    problems
}
