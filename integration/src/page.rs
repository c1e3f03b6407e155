//! The SDK suite's side of testkit's page server ([`PageServer`]): the counters its snapshots
//! read, the filter's and the upstream cluster's.

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bucket_cors_testkit::http;
pub use bucket_cors_testkit::page::{delta, Counters, PageServer};

/// Envoy's counters that the suites read: the filter's (`wasmcustom.bucket_cors.*`) and the
/// upstream cluster's requests (`cluster.objstore.upstream_rq_total`, the testkit's cluster).
pub fn read_counters(admin: SocketAddr) -> io::Result<Counters> {
    let s = TcpStream::connect_timeout(&admin, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut w = s.try_clone()?;
    write!(
        w,
        "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut r = BufReader::new(s);
    let head = http::read_head(&mut r)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no /stats response"))?;
    let body = http::read_body(&mut r, http::framing(&head.headers, true)?)?;
    let mut out = Counters::new();
    for line in String::from_utf8_lossy(&body).lines() {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        let wanted = name.starts_with(bucket_cors_spec::counters::WASM_STATS_PREFIX)
            || name == UPSTREAM_RQ_TOTAL;
        if let (true, Ok(v)) = (wanted, value.trim().parse()) {
            out.insert(name.to_string(), v);
        }
    }
    Ok(out)
}

/// Requests Envoy sent to the store (the testkit launcher's cluster is `objstore`).
pub const UPSTREAM_RQ_TOTAL: &str = "cluster.objstore.upstream_rq_total";

/// The filter's counter `name` (a `spec::counters` constant) as `/stats` shows it.
pub fn stat(name: &str) -> String {
    format!("{}{name}", bucket_cors_spec::counters::WASM_STATS_PREFIX)
}
