//! Rule changes that drain nothing: the plugin configuration comes through ECDS (a watched
//! extension-config file) while kept-alive clients send a steady mix, and the same run goes
//! through LDS (the listener rewritten) for comparison. Under ECDS the new rules reach the very
//! connections that are open, and no connection is closed; under LDS Envoy drains the old
//! listener, so its clients are moved by closing their connections. Both must refuse an invalid
//! configuration while the previous one keeps serving, and neither may fail a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::{Conn, Envoy, EnvoyOptions, Response};

use crate::reload::{
    classify, counter_of, load_request, wait_until_allowed, Epoch, BODY, CONFIG_FINAL,
    CONFIG_INVALID, CONFIG_NEW, CONFIG_OLD, FINAL_ORIGIN, KINDS, NEW_ORIGIN, PACE,
};
use crate::support::*;
use bucket_cors_testkit::spec::counters;

/// How the new plugin configuration reaches Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// The filter's extension configuration alone, from its watched ECDS file.
    Ecds,
    /// The whole listener, from its watched LDS file.
    Lds,
}

impl Delivery {
    /// The `/stats` name of one of the subscription's stats (`update_success`,
    /// `update_rejected`, `version_text`).
    fn stat(self, name: &str) -> String {
        match self {
            Delivery::Ecds => Envoy::ecds_stat(name),
            Delivery::Lds => format!("listener_manager.lds.{name}"),
        }
    }
}

/// Kept-alive clients; each keeps its connection until Envoy closes it.
const CLIENTS: usize = 4;
/// Envoy workers: the new rules must reach every one.
const WORKERS: u32 = 2;
/// Upper bound of requests per client (the load stops earlier, when told).
const MAX_PER_CLIENT: usize = 3000;
/// `--drain-time-s` of both runs. Envoy's default, 600 s, would leave the LDS run's kept-alive
/// clients on the old rules for ten minutes; 2 s lets its drain finish within the run.
const DRAIN_TIME_S: &str = "2";
/// Load on the old rules before the switch, and after each update.
const BEFORE: Duration = Duration::from_secs(2);
/// After the valid update: longer than the drain, so that LDS has closed what it closes.
const AFTER_SWITCH: Duration = Duration::from_secs(3);
const AFTER_INVALID: Duration = Duration::from_secs(2);

/// What one client saw.
#[derive(Default)]
struct Client {
    /// Every answer: when it was sent and which configuration it showed.
    answers: Vec<(Instant, Epoch)>,
    /// Requests that failed or got an answer of neither configuration.
    failures: Vec<String>,
    /// Connections opened (the first one included).
    opened: u64,
    /// Answers with `Connection: close`.
    closed_by_envoy: u64,
    /// The counters the answers imply.
    counts: Counts,
}

fn client(stop: &AtomicBool, addr: std::net::SocketAddr, offset: usize, t0: Instant) -> Client {
    let mut me = Client::default();
    let mut hint = Epoch::Old;
    let mut conn: Option<Conn> = None;
    for i in 0..MAX_PER_CLIENT {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr) {
                Ok(c) => {
                    me.opened += 1;
                    conn.insert(c)
                }
                Err(e) => {
                    me.failures
                        .push(format!("+{:?}: connect failed: {e}", t0.elapsed()));
                    thread::sleep(PACE);
                    continue;
                }
            },
        };
        let kind = (i + offset) % KINDS;
        let at = Instant::now();
        match c.send(&load_request(kind)) {
            Err(e) => {
                me.failures
                    .push(format!("+{:?} kind {kind}: request failed: {e}", at - t0));
                conn = None;
            }
            Ok(resp) => {
                match classify(kind, &resp, hint) {
                    Ok(epoch) => {
                        hint = epoch;
                        me.answers.push((at, epoch));
                        me.counts.add(counter_of(kind, epoch), 1);
                    }
                    Err(why) => me
                        .failures
                        .push(format!("+{:?} kind {kind}: {why}\n{resp}", at - t0)),
                }
                if closes(&resp) {
                    me.closed_by_envoy += 1;
                    conn = None;
                }
            }
        }
        thread::sleep(PACE);
    }
    me
}

fn closes(resp: &Response) -> bool {
    resp.header_all("connection")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("close"))
}

/// Envoy's count of the listener's downstream connections.
#[derive(Debug, Clone, Copy)]
struct Cx {
    /// `http.ingress.downstream_cx_total`: connections accepted.
    total: u64,
    /// `http.ingress.downstream_cx_destroy`: connections closed, by either side.
    destroyed: u64,
    /// `listener.<address>.downstream_cx_destroy`: the same, counted by the listener.
    listener_destroyed: u64,
}

fn cx(envoy: &Envoy) -> Cx {
    let listener = format!(
        "listener.127.0.0.1_{}.downstream_cx_destroy",
        envoy.addr().port()
    );
    let read = |name: &str| {
        envoy
            .counter(name)
            .expect("read /stats")
            .unwrap_or_else(|| panic!("/stats has no {name}"))
    };
    Cx {
        total: read("http.ingress.downstream_cx_total"),
        destroyed: read("http.ingress.downstream_cx_destroy"),
        listener_destroyed: read(&listener),
    }
}

/// One run's figures, for the side-by-side report.
#[derive(Debug)]
struct Run {
    requests: usize,
    failures: usize,
    /// Connections Envoy closed between just before the valid update and [`AFTER_SWITCH`]
    /// later (HCM count, listener count), and those it accepted in that time.
    closed_by_switch: (u64, u64),
    accepted_during_switch: u64,
    /// The same for the invalid update.
    closed_by_refusal: u64,
    /// Connections the clients opened beyond their first.
    reconnects: u64,
    /// Answers with `Connection: close`.
    told_to_close: u64,
    /// From the rename of the file to `update_success`.
    applied_after: Duration,
    /// From the rename of the file until every client had an answer of the new rules.
    effect_after: Duration,
    /// From the rename of the invalid file to `update_rejected`.
    refused_after: Duration,
    /// Answers after the refusal (all of them the valid new rules').
    served_after_refusal: usize,
}

fn run(delivery: Delivery) -> Run {
    let name = format!("rule switch through {delivery:?}");
    let mut opts = EnvoyOptions {
        ecds_from_file: delivery == Delivery::Ecds,
        lds_from_file: delivery == Delivery::Lds,
        concurrency: WORKERS,
        ..quick_log_opts()
    };
    opts.extra_args
        .extend(["--drain-time-s".to_string(), DRAIN_TIME_S.to_string()]);
    let (store, envoy) = start(&name, CONFIG_OLD, &opts);
    store.put_object("photos", "obj", BODY.as_bytes());
    assert_eq!(envoy.is_ecds_from_file(), delivery == Delivery::Ecds);
    assert_eq!(envoy.is_lds_from_file(), delivery == Delivery::Lds);
    let version = || stat_text(&envoy, &delivery.stat("version_text"));
    assert_eq!(version().as_deref(), Some("1"));
    assert_eq!(
        envoy.counter(&delivery.stat("update_success")).unwrap(),
        Some(1)
    );
    assert_eq!(counters(&envoy), Counts::default(), "nothing counted yet");

    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let addr = envoy.addr();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let stop = stop.clone();
            thread::spawn(move || client(&stop, addr, i, t0))
        })
        .collect();
    let since = |t: Instant| t - t0;

    thread::sleep(BEFORE);
    let before = cx(&envoy);
    let switch_at = Instant::now();
    assert_eq!(envoy.update_plugin_config(CONFIG_NEW).unwrap(), 2);
    wait_stat_at_least(
        &envoy,
        &delivery.stat("update_success"),
        2,
        Duration::from_secs(30),
    );
    let applied_at = Instant::now();
    assert_eq!(version().as_deref(), Some("2"));
    thread::sleep(AFTER_SWITCH);
    let after_switch = cx(&envoy);

    let invalid_at = Instant::now();
    assert_eq!(envoy.update_plugin_config(CONFIG_INVALID).unwrap(), 3);
    wait_stat_at_least(
        &envoy,
        &delivery.stat("update_rejected"),
        1,
        Duration::from_secs(30),
    );
    let rejected_at = Instant::now();
    thread::sleep(AFTER_INVALID);
    let after_invalid = cx(&envoy);
    stop.store(true, Ordering::SeqCst);
    let clients: Vec<Client> = clients
        .into_iter()
        .map(|c| c.join().expect("client thread"))
        .collect();

    let failures: Vec<&String> = clients.iter().flat_map(|c| &c.failures).collect();
    let requests = clients.iter().map(|c| c.answers.len()).sum::<usize>() + failures.len();
    let firsts_new: Vec<Option<Instant>> = clients
        .iter()
        .map(|c| {
            c.answers
                .iter()
                .find(|(_, e)| *e == Epoch::New)
                .map(|(at, _)| *at)
        })
        .collect();
    let run = Run {
        requests,
        failures: failures.len(),
        closed_by_switch: (
            after_switch.destroyed - before.destroyed,
            after_switch.listener_destroyed - before.listener_destroyed,
        ),
        accepted_during_switch: after_switch.total - before.total,
        closed_by_refusal: after_invalid.destroyed - after_switch.destroyed,
        reconnects: clients.iter().map(|c| c.opened).sum::<u64>() - CLIENTS as u64,
        told_to_close: clients.iter().map(|c| c.closed_by_envoy).sum(),
        applied_after: applied_at - switch_at,
        effect_after: firsts_new
            .iter()
            .map(|f| f.map_or(Duration::MAX, |at| at.saturating_duration_since(switch_at)))
            .max()
            .unwrap_or(Duration::MAX),
        refused_after: rejected_at - invalid_at,
        served_after_refusal: clients
            .iter()
            .flat_map(|c| &c.answers)
            .filter(|(at, _)| *at > rejected_at)
            .count(),
    };
    let summary = format!("[{name}] {run:?}");
    eprintln!("{summary}");

    // No request failed; every answer was the old or the new (never the invalid) rules'.
    assert!(
        failures.is_empty(),
        "{summary}\n{} failed or unexpected answers, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(requests >= 500, "{summary}\nthe load was too thin");
    // The new rules took effect on every client, and for good: nothing new before the rename,
    // nothing old on a client after its first new answer.
    for (i, c) in clients.iter().enumerate() {
        let first_new = firsts_new[i]
            .unwrap_or_else(|| panic!("{summary}\nclient {i} never saw the new rules"));
        assert!(
            first_new >= switch_at,
            "{summary}\nclient {i}: new too early"
        );
        let late_old = c
            .answers
            .iter()
            .filter(|(at, e)| *e == Epoch::Old && *at > first_new)
            .count();
        assert_eq!(
            late_old, 0,
            "{summary}\nclient {i}: old answers after new ones"
        );
    }
    // The invalid configuration was refused, and the new rules kept serving.
    assert!(run.served_after_refusal > 0, "{summary}");
    assert_eq!(
        envoy.counter(&delivery.stat("update_rejected")).unwrap(),
        Some(1)
    );
    assert_eq!(
        envoy.counter(&delivery.stat("update_success")).unwrap(),
        Some(2)
    );
    assert_eq!(version().as_deref(), Some("2"), "{summary}");
    if delivery == Delivery::Ecds {
        assert_eq!(
            envoy.counter(&Envoy::ecds_stat("config_fail")).unwrap(),
            Some(1),
            "the filter refused the configuration"
        );
    }
    wait_log_lines(
        &envoy,
        "naming the refused rule",
        Duration::from_secs(20),
        |l| l.contains("invalid plugin configuration: bucket \"photos\" rule 1 (ID \"everyone\")"),
    );
    // The counters match the answers, and count the refused configuration once.
    let mut want = Counts::default();
    for c in &clients {
        for (i, n) in c.counts.0.iter().enumerate() {
            want.0[i] += n;
        }
    }
    want.add(counters::CONFIG_INVALID, 1);
    expect_counters(&envoy, &want, &name);
    // A refused file does not stop the watch.
    assert_eq!(envoy.update_plugin_config(CONFIG_FINAL).unwrap(), 4);
    wait_stat_at_least(
        &envoy,
        &delivery.stat("update_success"),
        3,
        Duration::from_secs(30),
    );
    wait_until_allowed(&envoy, FINAL_ORIGIN, Duration::from_secs(10));
    let r = bucket_cors_testkit::send(envoy.addr(), &preflight("/photos/k", NEW_ORIGIN, "GET"))
        .expect("preflight");
    assert_eq!(r.status, 403, "the new origin is no longer allowed:\n{r}");
    assert_no_crash(&envoy);
    eprintln!(
        "[{name}] load from +0 to +{:?}; switch at +{:?}, invalid file at +{:?}",
        since(rejected_at + AFTER_INVALID),
        since(switch_at),
        since(invalid_at)
    );
    run
}

/// A line of the side-by-side report: what, and its value in a run.
type Row = (&'static str, fn(&Run) -> String);

fn ms(d: Duration) -> String {
    if d == Duration::MAX {
        "never".into()
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// An ECDS switch under load fails no request and closes no connection; the
/// LDS switch, run the same way, closes every kept-alive connection (which also shows that
/// the connection counts would catch a closure).
#[test]
fn ecds_switch_under_load_closes_no_connection_unlike_lds() {
    let ecds = run(Delivery::Ecds);
    let lds = run(Delivery::Lds);
    let rows: [Row; 12] = [
        ("requests", |r| r.requests.to_string()),
        ("failed requests", |r| r.failures.to_string()),
        ("connections closed by the switch (http.ingress)", |r| {
            r.closed_by_switch.0.to_string()
        }),
        ("connections closed by the switch (listener)", |r| {
            r.closed_by_switch.1.to_string()
        }),
        ("connections accepted during the switch", |r| {
            r.accepted_during_switch.to_string()
        }),
        ("client reconnects", |r| r.reconnects.to_string()),
        ("answers with Connection: close", |r| {
            r.told_to_close.to_string()
        }),
        ("file renamed -> update_success", |r| ms(r.applied_after)),
        ("file renamed -> new rules on every client", |r| {
            ms(r.effect_after)
        }),
        ("invalid file renamed -> update_rejected", |r| {
            ms(r.refused_after)
        }),
        ("connections closed by the refusal", |r| {
            r.closed_by_refusal.to_string()
        }),
        ("answers after the refusal (all v2)", |r| {
            r.served_after_refusal.to_string()
        }),
    ];
    let mut table = format!(
        "{CLIENTS} kept-alive clients, {WORKERS} workers, --drain-time-s {DRAIN_TIME_S}; rules v1 -> v2 -> invalid v3\n{:<50} {:>8} {:>8}\n",
        "", "ECDS", "LDS"
    );
    for (what, value) in rows {
        table.push_str(&format!(
            "{what:<50} {:>8} {:>8}\n",
            value(&ecds),
            value(&lds)
        ));
    }
    eprintln!("{table}");
    // ECDS: not one connection closed or opened by the switch or by the refusal, on either
    // side's count.
    assert_eq!(ecds.closed_by_switch, (0, 0), "{table}");
    assert_eq!(ecds.accepted_during_switch, 0, "{table}");
    assert_eq!(ecds.closed_by_refusal, 0, "{table}");
    assert_eq!(ecds.reconnects, 0, "{table}");
    assert_eq!(ecds.told_to_close, 0, "{table}");
    // LDS: the drain closed every kept-alive connection and the clients reconnected.
    assert!(lds.closed_by_switch.0 >= CLIENTS as u64, "{table}");
    assert!(lds.reconnects >= CLIENTS as u64, "{table}");
    assert_eq!(
        lds.closed_by_refusal, 0,
        "a refused listener drains nothing\n{table}"
    );
}
