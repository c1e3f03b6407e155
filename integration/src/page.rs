//! The SDK suite's side of testkit's page server ([`PageServer`]): the page that runs
//! `integration/browser/src/suite.js` in Chromium, and what its snapshots read through
//! testkit's one `/stats` reader, the filter's counters and the upstream cluster's requests.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

pub use bucket_cors_testkit::page::{delta, Counters, PageServer, ReadCounters};
use bucket_cors_testkit::spec::counters;
use bucket_cors_testkit::{Build, Envoy};
use serde_json::{json, Value};

use crate::chromium::{chromium_bin, Chromium};
use crate::garage::{Garage, REGION, ROOT_DOMAIN};
use crate::repo_root;

/// How long a page may take to report.
const RESULTS_TIMEOUT: Duration = Duration::from_secs(180);

/// `BUCKET_CORS_SDK_BUNDLE`, or what `make sdk-bundle` builds.
fn bundle() -> PathBuf {
    match std::env::var_os("BUCKET_CORS_SDK_BUNDLE") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => repo_root().join("integration/browser/dist/suite.js"),
    }
}

/// Serves the SDK page with `scenarios` (suite.js's) on `listener`, runs it in Chromium against
/// `envoy` with `garage`'s key, returns the page's results and the page server (for its
/// snapshots, which call `read`).
pub fn run_sdk_page(
    listener: TcpListener,
    envoy: &Envoy,
    garage: &Garage,
    scenarios: Vec<Value>,
    read: ReadCounters,
) -> (Value, PageServer) {
    let port = envoy.addr().port();
    let config = json!({
        "region": REGION,
        "pathEndpoint": format!("http://127.0.0.1:{port}"),
        "vhostEndpoint": format!("http://{ROOT_DOMAIN}:{port}"),
        "accessKeyId": garage.key().id,
        "secretAccessKey": garage.key().secret,
        "scenarios": scenarios,
    });
    let bundle = fs::read(bundle()).unwrap_or_else(|e| {
        panic!(
            "the SDK bundle {} is missing ({e}): run `make test-integration`",
            bundle().display()
        )
    });
    let index = fs::read(repo_root().join("integration/browser/index.html")).expect("index.html");
    let files = BTreeMap::from([
        ("/", ("text/html; charset=utf-8", index)),
        ("/suite.js", ("text/javascript", bundle)),
        (
            "/config.json",
            ("application/json", config.to_string().into_bytes()),
        ),
    ]);
    let page = PageServer::start(listener, files, read).expect("start the page server");
    let bin = chromium_bin();
    assert!(
        bin.is_file(),
        "Chromium not found at {} (set CHROMIUM_BIN, or run `make test-integration`, which installs Debian's chromium)",
        bin.display()
    );
    let mut browser = Chromium::launch(&bin, &format!("http://127.0.0.1:{}/", page.port()))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = page
        .wait_results(&mut browser, RESULTS_TIMEOUT)
        .unwrap_or_else(|e| {
            panic!(
                "{e}\npage progress:\n  {}\nChromium log (tail):\n{}",
                page.progress().join("\n  "),
                browser.log_tail(60)
            )
        });
    drop(browser);
    let results: Value = serde_json::from_str(&results).expect("the page's results are JSON");
    assert_eq!(results["ok"], true, "the page failed: {}", results["error"]);
    (results, page)
}

/// Requests Envoy sent to the store (the testkit launcher's upstream cluster).
pub fn upstream_rq_total() -> String {
    Envoy::upstream_stat("upstream_rq_total")
}

/// The filter's counter `name` (a `spec::counters` constant) as `/stats` shows it for the
/// build under test.
pub fn stat(name: &str) -> String {
    Build::from_env().stats_name(name)
}

/// What a snapshot reads from `envoy`: every filter counter and [`upstream_rq_total`], in one
/// `/stats`.
pub fn read_counters(envoy: &Envoy) -> ReadCounters {
    let admin = envoy.admin();
    let mut names: Vec<String> = counters::ALL.iter().map(|c| stat(c)).collect();
    names.push(upstream_rq_total());
    Box::new(move || admin.counters(&names))
}
