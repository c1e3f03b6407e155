//! The loopback server the browser suite's page comes from: it serves the page, the bundled
//! SDK suite and the suite's configuration, records Envoy's counters when the page asks for a
//! snapshot (so each scenario's counters are read between its own requests), and takes the
//! page's progress lines and results. It judges nothing; the Rust test does.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_testkit::{http, Envoy};

use crate::chromium::Chromium;

/// Counter and gauge values by name.
pub type Counters = BTreeMap<String, u64>;

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

/// `after - before` of one counter (a missing counter counts 0).
pub fn delta(before: &Counters, after: &Counters, name: &str) -> i64 {
    let get = |c: &Counters| c.get(name).copied().unwrap_or(0) as i64;
    get(after) - get(before)
}

/// The filter's counter `name` (a `spec::counters` constant) as `/stats` shows it.
pub fn stat(name: &str) -> String {
    format!("{}{name}", bucket_cors_spec::counters::WASM_STATS_PREFIX)
}

struct State {
    files: BTreeMap<&'static str, (&'static str, Vec<u8>)>,
    admin: SocketAddr,
    snapshots: Mutex<BTreeMap<String, Result<Counters, String>>>,
    progress: Mutex<Vec<String>>,
    results: Mutex<Option<String>>,
    results_ready: Condvar,
    stop: AtomicBool,
}

/// The page server; stops on drop.
pub struct PageServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl PageServer {
    /// Serves `files` (path → content type, bytes) on `listener`; snapshots read `envoy`'s admin.
    pub fn start(
        listener: TcpListener,
        files: BTreeMap<&'static str, (&'static str, Vec<u8>)>,
        envoy: &Envoy,
    ) -> PageServer {
        let addr = listener.local_addr().expect("page server address");
        let state = Arc::new(State {
            files,
            admin: envoy.admin_addr(),
            snapshots: Mutex::default(),
            progress: Mutex::default(),
            results: Mutex::default(),
            results_ready: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let st = state.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                // One thread per connection: Chromium opens speculative connections.
                thread::spawn(move || {
                    let _ = serve(&st, conn);
                });
            }
        });
        PageServer { addr, state }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Waits (bounded) for the page's results.
    pub fn wait_results(
        &self,
        chromium: &mut Chromium,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut results = self.state.results.lock().unwrap();
        loop {
            if let Some(r) = results.take() {
                return Ok(r);
            }
            if let Some(status) = chromium.exited() {
                return Err(format!(
                    "Chromium exited before the page reported ({status})"
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("the page did not report within {timeout:?}"));
            }
            let wait = (deadline - now).min(Duration::from_millis(200));
            results = self
                .state
                .results_ready
                .wait_timeout(results, wait)
                .unwrap()
                .0;
        }
    }

    pub fn progress(&self) -> Vec<String> {
        self.state.progress.lock().unwrap().clone()
    }

    /// The counters recorded when the page asked for snapshot `label`.
    pub fn snapshot(&self, label: &str) -> Result<Counters, String> {
        match self.state.snapshots.lock().unwrap().get(label) {
            Some(r) => r.clone(),
            None => Err(format!("the page took no snapshot {label:?}")),
        }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(st: &State, conn: TcpStream) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    let Some(head) = http::read_head(&mut r)? else {
        return Ok(());
    };
    let body = http::read_body(&mut r, http::framing(&head.headers, false)?)?;
    let mut parts = head.start_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let ok = || (200, "application/json", b"{}".to_vec());
    let (status, content_type, reply): (u16, &str, Vec<u8>) = match (method, path) {
        ("GET", p) => match st.files.get(p) {
            Some((ct, bytes)) => (200, ct, bytes.clone()),
            None => (404, "text/plain", b"not found\n".to_vec()),
        },
        ("POST", "/snapshot") => {
            let label = query.strip_prefix("label=").unwrap_or(query).to_string();
            let counters = read_counters(st.admin).map_err(|e| e.to_string());
            let status = if counters.is_ok() { 200 } else { 500 };
            st.snapshots.lock().unwrap().insert(label, counters);
            (status, "application/json", b"{}".to_vec())
        }
        ("POST", "/progress") => {
            st.progress
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            ok()
        }
        ("POST", "/results") => {
            *st.results.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
            st.results_ready.notify_all();
            ok()
        }
        _ => (404, "text/plain", b"not found\n".to_vec()),
    };
    write!(
        w,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    w.write_all(&reply)?;
    w.flush()
}
