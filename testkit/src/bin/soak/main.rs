//! `soak` (`make soak`): one Envoy with the bucket-cors filter in front of the testkit object
//! store, N mixed requests (allowed, refused, preflight, no Origin) over keep-alive
//! connections, every answer checked (status, `Access-Control-Allow-Origin`, `Vary`).
//!
//! Envoy and the filter come from `ENVOY_BIN` and `BUCKET_CORS_WASM`, as for the tests; Envoy
//! runs with `--concurrency 1`. After a warm-up it reads Envoy's VmRSS, sends the N requests,
//! reads it again and prints a summary: req/s, unexpected answers (the first few quoted), RSS
//! and its growth, the requests of each kind and the filter's counters next to them.
//!
//! Exit status: 0 when every answer was as expected, the counters equal the requests sent of
//! each kind, Envoy is up with no Wasm crash in its log, and RSS grew by less than
//! `--max-growth` percent; 1 otherwise; 2 when the set-up failed. Traffic only to 127.0.0.1.

mod load;
mod mix;
mod report;

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::{Envoy, EnvoyOptions, ObjStore};
use clap::Parser;

use load::{Plan, Tally};
use mix::Kind;
use report::{kib, thousands, After, Outcome};

/// One Envoy with bucket-cors in front of the testkit object store, N mixed requests over
/// keep-alive connections, every answer checked. Envoy and the filter: ENVOY_BIN and
/// BUCKET_CORS_WASM (defaults as for the tests).
#[derive(Parser)]
#[command(name = "soak")]
struct Args {
    /// Requests after the warm-up (`_` or `,` may group digits).
    #[arg(long, value_name = "N", default_value = "1000000", value_parser = count)]
    requests: u64,
    /// Warm-up requests (default 2% of --requests, 2,000 to 50,000).
    #[arg(long, value_name = "N", value_parser = count)]
    warmup: Option<u64>,
    /// Keep-alive connections, one thread each.
    #[arg(long, value_name = "N", default_value_t = 8)]
    connections: usize,
    /// Fail when Envoy's RSS grows by this many percent or more.
    #[arg(long, value_name = "PERCENT", default_value_t = 5.0)]
    max_growth: f64,
    /// Give up after this many seconds.
    #[arg(long, value_name = "S", default_value_t = 3600)]
    max_seconds: u64,
    /// Keep Envoy's directory (bootstrap, log).
    #[arg(long)]
    keep: bool,
}

/// A count, digits optionally grouped by `_` or `,` (`1_000_000`).
fn count(v: &str) -> Result<u64, String> {
    v.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("not a count: {v}"))
}

/// The object store with the objects the mix reads, and Envoy in front of it.
fn start(keep: bool) -> Result<(ObjStore, Envoy), String> {
    let store = ObjStore::start().map_err(|e| format!("object store: {e}"))?;
    for (bucket, key, data) in mix::OBJECTS {
        store.put_object(bucket, key, data);
    }
    if keep {
        std::env::set_var("BUCKET_CORS_KEEP_TMP", "1");
    }
    let opts = EnvoyOptions {
        log_level: "warning".into(),
        plugin_log_level: "warning".into(),
        ready_timeout: Duration::from_secs(120),
        concurrency: 1,
        ..EnvoyOptions::default()
    };
    let envoy = Envoy::start_with(mix::PLUGIN_CONFIG, store.addr(), &opts)
        .map_err(|e| format!("Envoy: {e}"))?;
    Ok((store, envoy))
}

/// The warm-up: requests before the first RSS reading, so that what the filter allocates once
/// is not counted as growth.
/// An unreadable RSS (Envoy gone) reads 0; the verdict fails on the dead Envoy.
fn warm_up(plan: &Plan, envoy: &Envoy, count: u64) -> (Tally, u64) {
    let (tally, elapsed) = load::run(plan, count, Duration::from_secs(5), |_| {});
    thread::sleep(Duration::from_secs(1));
    let rss = envoy.rss_kib().unwrap_or(0);
    println!(
        "soak: warm-up {} requests in {:.1} s, {} unexpected; RSS after warm-up {}",
        thousands(tally.done),
        elapsed.as_secs_f64(),
        tally.unexpected,
        kib(rss)
    );
    (tally, rss)
}

/// The run itself, with Envoy's RSS sampled every 5 s (printed about every 30 s).
fn soak(plan: &Plan, envoy: &Envoy, count: u64) -> (Tally, Duration, Vec<u64>) {
    let mut samples = Vec::new();
    let (tally, elapsed) = load::run(plan, count, Duration::from_secs(5), |at| {
        if let Ok(rss) = envoy.rss_kib() {
            samples.push(rss);
            if samples.len() % 6 == 1 {
                println!("soak:   {:6.0} s  RSS {}", at.as_secs_f64(), kib(rss));
            }
        }
    });
    (tally, elapsed, samples)
}

/// Envoy's state after the run: alive, `/ready`, crash lines, RSS and the filter's counters.
fn inspect(envoy: &mut Envoy) -> After {
    thread::sleep(Duration::from_secs(1));
    let alive = envoy.is_running();
    let ready = alive && matches!(envoy.admin_get("/ready"), Ok((200, b)) if b == "LIVE\n");
    let rss = if alive {
        envoy.rss_kib().unwrap_or(0)
    } else {
        0
    };
    let counters = envoy.admin().filter_counters().unwrap_or_default();
    let mut crashes = envoy.crash_lines();
    crashes.extend(
        envoy
            .log()
            .lines()
            .filter(|l| l.contains("[critical]"))
            .map(str::to_string),
    );
    After {
        alive,
        ready,
        crashes,
        rss,
        counters,
    }
}

fn run(a: &Args) -> Result<bool, String> {
    let warmup = a.warmup.unwrap_or((a.requests / 50).clamp(2_000, 50_000));
    let deadline = Instant::now() + Duration::from_secs(a.max_seconds);
    let (store, mut envoy) = start(a.keep)?;
    let kinds: Vec<Kind> = mix::kinds();
    let order = mix::mix(&kinds);
    println!(
        "soak: Envoy pid {} on {} (admin {}), started in {:.2} s; object store on {}",
        envoy.pid(),
        envoy.addr(),
        envoy.admin_addr(),
        envoy.startup_time().as_secs_f64(),
        store.addr()
    );
    println!(
        "soak: mix of {} slots: {}",
        order.len(),
        report::mix_shares(&kinds, &order)
    );
    println!(
        "soak: {} keep-alive connections; {} requests after {} warm-up",
        a.connections,
        thousands(a.requests),
        thousands(warmup)
    );
    let plan = Plan {
        addr: envoy.addr(),
        kinds: &kinds,
        mix: &order,
        connections: a.connections,
        deadline,
    };
    let (warmup, rss_before) = warm_up(&plan, &envoy, warmup);
    let (run, elapsed, samples) = soak(&plan, &envoy, a.requests);
    let outcome = Outcome {
        kinds: &kinds,
        warmup,
        run,
        elapsed,
        rss_before,
        samples,
        after: inspect(&mut envoy),
        max_growth: a.max_growth,
    };
    outcome.print();
    if a.keep {
        println!("soak: keeping {}", envoy.dir().display());
    }
    Ok(outcome.passed())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::from(2)
        }
    }
}
