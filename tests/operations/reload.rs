//! Live reload: Envoy takes its listener from a watched LDS file; the plugin configuration is
//! replaced (write a new file, rename it over the watched one) while a bounded background load
//! runs on fresh and kept-alive connections. Every answer must be exactly the old or the new
//! configuration's; an invalid configuration must be refused while the previous one serves.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::{send, Build, Conn, Envoy, EnvoyOptions, RawRequest, Response};

use crate::support::*;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::{counters, PREFLIGHT_VARY};

pub(crate) const OLD_ORIGIN: &str = "https://old.example";
pub(crate) const NEW_ORIGIN: &str = "https://new.example";
pub(crate) const FINAL_ORIGIN: &str = "https://final.example";

/// Version 1: only the old origin, methods GET and PUT, `x-old` exposed.
pub(crate) const CONFIG_OLD: &str = r#"{"buckets": {"photos": {"CORSRule": [
  {"ID": "old", "AllowedOrigin": ["https://old.example"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"], "ExposeHeader": ["x-old"], "MaxAgeSeconds": 100}
]}}}"#;

/// Version 2: only the new origin, methods GET, PUT, DELETE, `x-new` exposed.
pub(crate) const CONFIG_NEW: &str = r#"{"buckets": {"photos": {"CORSRule": [
  {"ID": "new", "AllowedOrigin": ["https://new.example"], "AllowedMethod": ["GET", "PUT", "DELETE"], "ExposeHeader": ["x-new"], "MaxAgeSeconds": 200}
]}}}"#;

/// Version 3, invalid: the new configuration plus a rule whose origin matches every host.
/// Were it applied, `https://evil.example` would be allowed.
pub(crate) const CONFIG_INVALID: &str = r#"{"buckets": {"photos": {"CORSRule": [
  {"ID": "new", "AllowedOrigin": ["https://new.example"], "AllowedMethod": ["GET", "PUT", "DELETE"], "ExposeHeader": ["x-new"], "MaxAgeSeconds": 200},
  {"ID": "everyone", "AllowedOrigin": ["https://*"], "AllowedMethod": ["GET"]}
]}}}"#;

/// Version 4, after the load: the watch still works after a refused file.
pub(crate) const CONFIG_FINAL: &str = r#"{"buckets": {"photos": {"CORSRule": [
  {"AllowedOrigin": ["https://final.example"], "AllowedMethod": ["GET"]}
]}}}"#;

/// Which configuration an answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Epoch {
    Old,
    New,
}

/// The five requests of the load, in turn (see [`load_request`]).
pub(crate) const KINDS: usize = 5;

pub(crate) fn load_request(kind: usize) -> RawRequest {
    match kind {
        0 => preflight("/photos/k", OLD_ORIGIN, "PUT")
            .header("Access-Control-Request-Headers", "content-type"),
        1 => preflight("/photos/k", NEW_ORIGIN, "DELETE"),
        2 => actual("GET", "/photos/obj", Some(OLD_ORIGIN)).header("x-objstore-cors", "1"),
        3 => actual("GET", "/photos/obj", Some(NEW_ORIGIN)).header("x-objstore-cors", "1"),
        // Refused by both valid configurations; the invalid one would allow it.
        _ => preflight("/photos/k", "https://evil.example", "GET"),
    }
}

/// The counter an answer moved.
pub(crate) fn counter_of(kind: usize, epoch: Epoch) -> Counter {
    use bucket_cors_testkit::spec::counters::*;
    match (kind, epoch) {
        (0, Epoch::Old) | (1, Epoch::New) => PREFLIGHT_ALLOWED,
        (0, Epoch::New) | (1, Epoch::Old) => PREFLIGHT_REFUSED_ORIGIN,
        (2, Epoch::Old) | (3, Epoch::New) => ACTUAL_MATCHED,
        (2, Epoch::New) | (3, Epoch::Old) => ACTUAL_UNMATCHED,
        _ => PREFLIGHT_REFUSED_ORIGIN,
    }
}

pub(crate) const BODY: &str = "photos object";

fn allowed_old() -> Vec<(&'static str, &'static str)> {
    vec![
        (ACAO, OLD_ORIGIN),
        (ACAC, "true"),
        (ACAM, "GET, PUT"),
        (ACEH, "x-old"),
        (ACMA, "100"),
    ]
}

fn allowed_new() -> Vec<(&'static str, &'static str)> {
    vec![
        (ACAO, NEW_ORIGIN),
        (ACAC, "true"),
        (ACAM, "GET, PUT, DELETE"),
        (ACEH, "x-new"),
        (ACMA, "200"),
    ]
}

/// Problems of `resp` as the answer to `kind` under `epoch` (empty: it is that answer).
fn problems_under(kind: usize, epoch: Epoch, resp: &Response) -> Vec<String> {
    let mut p = Vec::new();
    let preflight = kind <= 1 || kind == 4;
    let allowed = matches!((kind, epoch), (0, Epoch::Old) | (1, Epoch::New));
    if preflight {
        let want_status = if allowed { 200 } else { 403 };
        if resp.status != want_status {
            p.push(format!("status {} (want {want_status})", resp.status));
        }
        if resp.header("x-objstore-method").is_some() {
            p.push("the preflight reached the upstream".into());
        }
        let mut acx = if !allowed {
            vec![]
        } else if epoch == Epoch::Old {
            allowed_old()
        } else {
            allowed_new()
        };
        if allowed && kind == 0 {
            acx.push((ACAH, "content-type"));
        }
        p.extend(check_cors(resp, &acx, Some(PREFLIGHT_VARY)));
    } else {
        if resp.status != 200 || resp.body_str() != BODY {
            p.push(format!(
                "status {} body {:?} (want 200 {BODY:?})",
                resp.status,
                resp.body_str()
            ));
        }
        let acx = match (kind, epoch) {
            (2, Epoch::Old) => allowed_old(),
            (3, Epoch::New) => allowed_new(),
            // The upstream's own `x-objstore-cors: 1` headers must never pass.
            _ => vec![],
        };
        p.extend(check_cors(resp, &acx, Some("Origin")));
    }
    p
}

/// Which configuration the answer shows; `None` when it is neither one's answer. Kind 4 is
/// the same under both: it counts as the `hint` (the epoch the connection last showed).
pub(crate) fn classify(kind: usize, resp: &Response, hint: Epoch) -> Result<Epoch, String> {
    if kind == 4 {
        let p = problems_under(kind, hint, resp);
        return if p.is_empty() {
            Ok(hint)
        } else {
            Err(p.join("; "))
        };
    }
    let old = problems_under(kind, Epoch::Old, resp);
    if old.is_empty() {
        return Ok(Epoch::Old);
    }
    let new = problems_under(kind, Epoch::New, resp);
    if new.is_empty() {
        return Ok(Epoch::New);
    }
    Err(format!(
        "neither the old answer ({}) nor the new one ({})",
        old.join("; "),
        new.join("; ")
    ))
}

/// What the load saw, shared by its threads.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    answered_old: AtomicU64,
    answered_new: AtomicU64,
    fresh: AtomicU64,
    kept_alive: AtomicU64,
    reconnects: AtomicU64,
    /// Answers with `Connection: close` (Envoy draining a kept-alive connection).
    closed_by_envoy: AtomicU64,
    /// Every request that failed or got an answer of neither configuration.
    failures: Mutex<Vec<String>>,
    /// The counters the answers imply.
    counts: Mutex<Counts>,
    /// Every answer: (sent at, connection opened at, fresh?, epoch).
    answers: Mutex<Vec<(Instant, Instant, bool, Epoch)>>,
}

struct Load {
    stop: AtomicBool,
    /// Requests per kept-alive connection before the client opens a new one.
    per_connection: usize,
    tally: Tally,
    t0: Instant,
}

const FRESH_THREADS: usize = 2;
const KEPT_ALIVE_THREADS: usize = 2;
/// Requests per kept-alive connection before the client opens a new one.
const PER_CONNECTION: usize = 40;
/// Upper bound of requests per thread (the load stops earlier, when told).
const MAX_PER_THREAD: u64 = 2500;
/// Pause between two requests of one thread: a few hundred requests a second in all, enough
/// to hit the switch, without starving the other tests on a small machine.
pub(crate) const PACE: Duration = Duration::from_millis(8);

fn record(
    load: &Load,
    kind: usize,
    opened: Instant,
    sent_at: Instant,
    fresh: bool,
    res: std::io::Result<Response>,
    hint: &mut Epoch,
) -> bool {
    let t = &load.tally;
    t.sent.fetch_add(1, Ordering::SeqCst);
    let resp = match res {
        Ok(r) => r,
        Err(e) => {
            t.failures.lock().unwrap().push(format!(
                "+{:?} kind {kind} ({}): request failed: {e}",
                sent_at - load.t0,
                if fresh { "fresh" } else { "kept-alive" }
            ));
            return false;
        }
    };
    match classify(kind, &resp, *hint) {
        Ok(epoch) => {
            *hint = epoch;
            match epoch {
                Epoch::Old => t.answered_old.fetch_add(1, Ordering::SeqCst),
                Epoch::New => t.answered_new.fetch_add(1, Ordering::SeqCst),
            };
            t.counts.lock().unwrap().add(counter_of(kind, epoch), 1);
            t.answers
                .lock()
                .unwrap()
                .push((sent_at, opened, fresh, epoch));
        }
        Err(why) => t.failures.lock().unwrap().push(format!(
            "+{:?} kind {kind} ({}): {why}\n{resp}",
            sent_at - load.t0,
            if fresh { "fresh" } else { "kept-alive" }
        )),
    }
    let close = resp
        .header_all("connection")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("close"));
    if close {
        t.closed_by_envoy.fetch_add(1, Ordering::SeqCst);
    }
    !close
}

fn fresh_loop(load: &Load, addr: std::net::SocketAddr, offset: usize) {
    let mut hint = Epoch::Old;
    for i in 0..MAX_PER_THREAD as usize {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        let kind = (i + offset) % KINDS;
        let at = Instant::now();
        let res = send(addr, &load_request(kind));
        load.tally.fresh.fetch_add(1, Ordering::SeqCst);
        record(load, kind, at, at, true, res, &mut hint);
        thread::sleep(PACE);
    }
}

fn kept_alive_loop(load: &Load, addr: std::net::SocketAddr, offset: usize) {
    let mut hint = Epoch::Old;
    let mut conn: Option<(Conn, Instant, usize)> = None;
    for i in 0..MAX_PER_THREAD as usize {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        if conn
            .as_ref()
            .is_none_or(|(_, _, n)| *n >= load.per_connection)
        {
            let opened = Instant::now();
            match Conn::open(addr) {
                Ok(c) => conn = Some((c, opened, 0)),
                Err(e) => {
                    load.tally.sent.fetch_add(1, Ordering::SeqCst);
                    load.tally
                        .failures
                        .lock()
                        .unwrap()
                        .push(format!("+{:?}: connect failed: {e}", opened - load.t0));
                    conn = None;
                    thread::sleep(PACE);
                    continue;
                }
            }
            load.tally.reconnects.fetch_add(1, Ordering::SeqCst);
        }
        let (c, opened, n) = conn.as_mut().expect("a connection");
        let kind = (i + offset) % KINDS;
        let at = Instant::now();
        let res = c.send(&load_request(kind));
        *n += 1;
        load.tally.kept_alive.fetch_add(1, Ordering::SeqCst);
        let keep = record(load, kind, *opened, at, false, res, &mut hint);
        if !keep {
            conn = None;
        }
        thread::sleep(PACE);
    }
}

/// How long after `update_success` a newly opened connection may still get the old filter
/// chain (the main thread hands the new one to the worker; generous for a busy machine).
const PROPAGATION: Duration = Duration::from_secs(2);

/// The plugin configuration (JSON text) of a listener in Envoy's config dump: the wasm
/// filter's `configuration` or the dynamic module's `filter_config`.
fn plugin_config_of(listener: &serde_json::Value) -> Option<&str> {
    let filter = &listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
        .as_array()?
        .iter()
        .find(|f| {
            f["name"] == "envoy.filters.http.wasm"
                || f["name"] == "envoy.filters.http.dynamic_modules"
        })?["typed_config"];
    filter["config"]["configuration"]["value"]
        .as_str()
        .or_else(|| filter["filter_config"]["value"].as_str())
}

/// Polls a fresh preflight until `origin` is allowed (bounded); returns how long it took.
pub(crate) fn wait_until_allowed(envoy: &Envoy, origin: &str, timeout: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let r = send(envoy.addr(), &preflight("/photos/probe", origin, "GET"));
        if matches!(&r, Ok(r) if r.status == 200 && r.header(ACAO) == Some(origin)) {
            return t0.elapsed();
        }
        if t0.elapsed() > timeout {
            panic!(
                "{origin} not allowed after {timeout:?}: {r:?}\n{}",
                log_tail(envoy, 40)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// How Envoy drains the connections of the replaced filter chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// Envoy's default (`--drain-strategy gradual`, `--drain-time-s 600`): a kept-alive
    /// connection of the old chain is hardly ever told to close during the test; the client
    /// moves to the new chain by opening a new connection every [`PER_CONNECTION`] requests.
    Gradual,
    /// `--drain-strategy immediate`: every kept-alive connection of the old chain gets
    /// `Connection: close` on its next answer; the client keeps each connection until Envoy
    /// closes it, then opens another.
    Immediate,
}

pub fn live_reload_under_load(drain: Drain) {
    let mut opts = EnvoyOptions {
        lds_from_file: true,
        ..quick_log_opts()
    };
    if drain == Drain::Immediate {
        opts.extra_args
            .extend(["--drain-strategy".to_string(), "immediate".to_string()]);
    }
    let name = format!("live-reload, {drain:?} drain");
    let (store, envoy) = start(&name, CONFIG_OLD, &opts);
    store.put_object("photos", "obj", BODY.as_bytes());
    assert!(envoy.is_lds_from_file());
    assert_eq!(
        stat_text(&envoy, "listener_manager.lds.version_text").as_deref(),
        Some("1")
    );
    assert_eq!(
        envoy
            .counter("listener_manager.lds.update_success")
            .unwrap(),
        Some(1)
    );
    let base = counters(&envoy);
    assert_eq!(base, Counts::default(), "nothing counted before the load");

    let load = Arc::new(Load {
        stop: AtomicBool::new(false),
        per_connection: match drain {
            Drain::Gradual => PER_CONNECTION,
            Drain::Immediate => usize::MAX,
        },
        tally: Tally::default(),
        t0: Instant::now(),
    });
    let addr = envoy.addr();
    let mut workers = Vec::new();
    for i in 0..FRESH_THREADS {
        let l = load.clone();
        workers.push(thread::spawn(move || fresh_loop(&l, addr, i * 2)));
    }
    for i in 0..KEPT_ALIVE_THREADS {
        let l = load.clone();
        workers.push(thread::spawn(move || kept_alive_loop(&l, addr, i * 2 + 1)));
    }
    let since = |t: Instant| t - load.t0;

    // Old configuration under load for a while.
    thread::sleep(Duration::from_secs(3));
    let sent_before_switch = load.tally.sent.load(Ordering::SeqCst);

    // Switch to the new configuration.
    let switch_at = Instant::now();
    let v = envoy
        .update_plugin_config(CONFIG_NEW)
        .expect("write the new LDS file");
    assert_eq!(v, 2);
    wait_stat_at_least(
        &envoy,
        "listener_manager.lds.update_success",
        2,
        Duration::from_secs(30),
    );
    let applied_at = Instant::now();
    let sent_at_applied = load.tally.sent.load(Ordering::SeqCst);
    assert_eq!(
        stat_text(&envoy, "listener_manager.lds.version_text").as_deref(),
        Some("2")
    );

    // New configuration under load.
    thread::sleep(Duration::from_secs(3));

    // An invalid configuration: refused, the new one keeps serving.
    let invalid_at = Instant::now();
    let v = envoy
        .update_plugin_config(CONFIG_INVALID)
        .expect("write the invalid LDS file");
    assert_eq!(v, 3);
    wait_stat_at_least(
        &envoy,
        "listener_manager.lds.update_rejected",
        1,
        Duration::from_secs(30),
    );
    let rejected_at = Instant::now();

    // Keep the load running on the surviving configuration.
    thread::sleep(Duration::from_secs(4));
    load.stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("load thread");
    }
    let ended_at = Instant::now();
    let t = &load.tally;

    // 1. No request failed, every answer is the old or the new configuration's.
    let failures = t.failures.lock().unwrap().clone();
    let sent = t.sent.load(Ordering::SeqCst);
    let answers = t.answers.lock().unwrap().clone();
    let during_switch = answers
        .iter()
        .filter(|(at, _, _, _)| *at >= switch_at && *at <= applied_at)
        .count();
    let last_old = answers
        .iter()
        .filter(|(_, _, _, e)| *e == Epoch::Old)
        .map(|(at, _, _, _)| *at)
        .max();
    let first_new = answers
        .iter()
        .filter(|(_, _, _, e)| *e == Epoch::New)
        .map(|(at, _, _, _)| *at)
        .min();
    let overlap = answers
        .iter()
        .filter(|(at, _, _, _)| Some(*at) >= first_new && Some(*at) <= last_old)
        .count();
    let summary = format!(
        "[{name}] {sent} requests in {:?} ({} on fresh connections, {} on {} kept-alive connections, {} answers with Connection: close); \
         {} answered by the old configuration, {} by the new; failures: {}.\n\
         switch: file renamed at +{:?}, update_success seen at +{:?} ({} requests sent in between, {sent_before_switch} before the switch, {sent_at_applied} when applied); \
         first new answer at +{:?}, last old answer at +{:?} ({overlap} answers in that overlap).\n\
         invalid file renamed at +{:?}, update_rejected seen at +{:?}; load stopped at +{:?}.",
        since(ended_at),
        t.fresh.load(Ordering::SeqCst),
        t.kept_alive.load(Ordering::SeqCst),
        t.reconnects.load(Ordering::SeqCst),
        t.closed_by_envoy.load(Ordering::SeqCst),
        t.answered_old.load(Ordering::SeqCst),
        t.answered_new.load(Ordering::SeqCst),
        failures.len(),
        since(switch_at),
        since(applied_at),
        during_switch,
        first_new.map(since),
        last_old.map(since),
        since(invalid_at),
        since(rejected_at),
        since(ended_at),
    );
    eprintln!("{summary}");
    assert!(
        failures.is_empty(),
        "{summary}\n{} failed or unexpected answers, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        sent >= 300,
        "{summary}\nthe load was too thin to mean anything"
    );
    assert!(
        t.answered_old.load(Ordering::SeqCst) > 0 && t.answered_new.load(Ordering::SeqCst) > 0,
        "{summary}"
    );

    // 2. The new rules took effect: no new answer before the file was renamed, and no old one
    // on a connection opened once the update was applied (plus PROPAGATION).
    let early_new: Vec<_> = answers
        .iter()
        .filter(|(at, _, _, e)| *e == Epoch::New && *at < switch_at)
        .collect();
    assert!(
        early_new.is_empty(),
        "{summary}\n{} new answers before the switch",
        early_new.len()
    );
    let stale: Vec<_> = answers
        .iter()
        .filter(|(_, opened, _, e)| *e == Epoch::Old && *opened > applied_at + PROPAGATION)
        .map(|(at, opened, fresh, _)| {
            format!(
                "sent +{:?} on a {} connection opened +{:?}",
                since(*at),
                if *fresh { "fresh" } else { "kept-alive" },
                since(*opened)
            )
        })
        .collect();
    assert!(
        stale.is_empty(),
        "{summary}\nold answers on connections opened after the update:\n{}",
        stale.join("\n")
    );
    if drain == Drain::Immediate {
        // Every connection moved: no old answer at all once the update had time to reach the
        // worker, and each kept-alive connection of the old chain was closed by Envoy.
        let late_old = answers
            .iter()
            .filter(|(at, _, _, e)| *e == Epoch::Old && *at > applied_at + PROPAGATION)
            .count();
        assert_eq!(late_old, 0, "{summary}\nold answers after the update");
        let closed = t.closed_by_envoy.load(Ordering::SeqCst);
        assert!(
            closed >= KEPT_ALIVE_THREADS as u64,
            "{summary}\nEnvoy closed {closed} kept-alive connections (want one per thread at least)"
        );
    }
    let after_rejection = answers
        .iter()
        .filter(|(at, _, _, e)| *e == Epoch::New && *at > rejected_at)
        .count();
    assert!(
        after_rejection > 0,
        "{summary}\nno answer after the rejected update"
    );

    // 3. The invalid configuration was refused, the listener stays on version 2.
    assert_eq!(
        envoy
            .counter("listener_manager.lds.update_rejected")
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        envoy
            .counter("listener_manager.lds.update_success")
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        stat_text(&envoy, "listener_manager.lds.version_text").as_deref(),
        Some("2"),
        "the listener left version 2"
    );
    let (status, dump) = envoy
        .admin_get("/config_dump?resource=dynamic_listeners")
        .expect("config_dump");
    assert_eq!(status, 200);
    let dump: serde_json::Value = serde_json::from_str(&dump).expect("config_dump is JSON");
    let main = dump["configs"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|l| l["name"] == "main" && l["active_state"].is_object())
        })
        .unwrap_or_else(|| panic!("no active listener main in {dump:#}"));
    assert_eq!(
        plugin_config_of(&main["active_state"]["listener"]),
        Some(CONFIG_NEW),
        "the active listener does not run the last valid configuration: {main:#}"
    );
    assert_eq!(
        plugin_config_of(&main["error_state"]["failed_configuration"]),
        Some(CONFIG_INVALID),
        "Envoy does not record the refused configuration: {main:#}"
    );
    let details = main["error_state"]["details"].as_str().unwrap_or("");
    let refusal = match envoy.build() {
        Build::Wasm => "Wasm plugin bucket-cors",
        Build::Module => "Failed to initialize dynamic module",
    };
    assert!(
        details.contains(refusal),
        "error_state.details: {details:?}"
    );
    wait_log_lines(
        &envoy,
        "naming the refused rule",
        Duration::from_secs(20),
        |l| {
            l.contains("invalid plugin configuration: bucket \"photos\" rule 1 (ID \"everyone\") AllowedOrigin[0] \"https://*\"")
        },
    );

    // 4. The counters match the answers exactly, and count the refused configuration once.
    let mut want = *t.counts.lock().unwrap();
    want.add(counters::CONFIG_INVALID, 1);
    expect_counters(&envoy, &want, "after the load");
    eprintln!(
        "[{name}] /stats after the load:\n{}",
        stats_lines(&envoy).join("\n")
    );

    // 5. The watch survives a refused file: a later valid one applies.
    let v = envoy
        .update_plugin_config(CONFIG_FINAL)
        .expect("write the final LDS file");
    assert_eq!(v, 4);
    wait_stat_at_least(
        &envoy,
        "listener_manager.lds.update_success",
        3,
        Duration::from_secs(30),
    );
    let took = wait_until_allowed(&envoy, FINAL_ORIGIN, Duration::from_secs(10));
    assert_eq!(
        stat_text(&envoy, "listener_manager.lds.version_text").as_deref(),
        Some("4")
    );
    let r = send(envoy.addr(), &preflight("/photos/k", NEW_ORIGIN, "GET")).expect("preflight");
    assert_eq!(r.status, 403, "the new origin is no longer allowed:\n{r}");
    eprintln!("[{name}] version 4 served {took:?} after update_success");
    assert_no_crash(&envoy);
}
