//! Helpers of the operations tests: starting Envoy, reading the filter's counters from
//! `/stats`, waiting on Envoy's log, and checking the CORS headers of one response.

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::case::{self, PS};
use bucket_cors_testkit::spec::counters::ALL;
use bucket_cors_testkit::{Bench, Build, Envoy, EnvoyOptions, ObjStore, RawRequest, Response};

/// A counter of the filter, by its name in `bucket_cors_spec::counters`.
pub type Counter = &'static str;

/// Envoy's `/stats` name of a counter for the build under test (Envoy puts `wasmcustom.` or
/// `dynamicmodulescustom.` before the name the plugin defines).
pub fn stats_name(c: Counter) -> String {
    Build::from_env().stats_name(c)
}

/// Where a counter sits in `counters::ALL` (and so in [`Counts`]), found by its name.
fn index(c: Counter) -> usize {
    ALL.iter()
        .position(|n| *n == c)
        .unwrap_or_else(|| panic!("{c} is not one of spec::counters::ALL"))
}

/// A value for each counter of `counters::ALL`, in its order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts(pub [u64; ALL.len()]);

impl Counts {
    pub fn add(&mut self, c: Counter, n: u64) {
        self.0[index(c)] += n;
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
        for (name, v) in ALL.iter().zip(self.0) {
            writeln!(f, "  {}: {v}", stats_name(name))?;
        }
        Ok(())
    }
}

/// Starts an object store and an Envoy in front of it (the shared fixture); panics with
/// Envoy's log when it does not come up (tests fail, they never skip).
pub fn start(name: &str, plugin_config: &str, opts: &EnvoyOptions) -> (ObjStore, Envoy) {
    let b = Bench::start_with(name, plugin_config, opts, false);
    (b.store, b.envoy)
}

/// Options for tests that read Envoy's log while it runs: the log file is flushed every
/// 100 ms instead of every 10 s.
pub fn quick_log_opts() -> EnvoyOptions {
    EnvoyOptions {
        extra_args: vec!["--file-flush-interval-msec".into(), "100".into()],
        ..EnvoyOptions::default()
    }
}

/// Every `<prefix>bucket_cors.*` line of `/stats`, as Envoy prints it.
pub fn stats_lines(envoy: &Envoy) -> Vec<String> {
    envoy
        .stats(Some("bucket_cors"))
        .expect("read /stats")
        .into_iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect()
}

/// The filter's counters from `/stats`. Panics when one is missing, is not a number, or when
/// `/stats` shows a `bucket_cors` stat that is not one of `counters::ALL`.
pub fn counters(envoy: &Envoy) -> Counts {
    let admin = envoy.admin();
    let values = admin
        .filter_counters()
        .unwrap_or_else(|e| panic!("{e}; its bucket_cors lines are:\n{:#?}", stats_lines(envoy)));
    let mut out = Counts::default();
    for (i, c) in ALL.iter().enumerate() {
        out.0[i] = values[*c];
    }
    let names: Vec<String> = ALL.iter().map(|c| stats_name(c)).collect();
    let stats = admin.stats(Some("bucket_cors")).expect("read /stats");
    let unknown: Vec<&String> = stats.keys().filter(|k| !names.contains(k)).collect();
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
            for (i, name) in ALL.iter().enumerate() {
                if got.0[i] != want.0[i] {
                    let name = stats_name(name);
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
                "no log line {what} after {timeout:?}; plugin log lines:\n{}",
                envoy.plugin_log()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
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

/// A preflight to the path-style host.
pub fn preflight(target: &str, origin: &str, method: &str) -> RawRequest {
    case::preflight(PS, target, origin, method)
}

/// A request to the path-style host, with an `Origin` when given.
pub fn actual(method: &str, target: &str, origin: Option<&str>) -> RawRequest {
    case::request(method, PS, target, origin)
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
