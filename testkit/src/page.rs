//! The loopback server a browser suite's page comes from and reports to: it serves fixed
//! files, records Envoy's counters when the page asks for a snapshot (so each step's counters
//! are read between its own requests), and keeps the page's progress lines and results. It
//! judges nothing; the test does. Used by the browser suite and the SDK suite.
//!
//! The page's side of the protocol: `POST /snapshot?label=L` (reply 200, or 500 when the
//! counters could not be read), `POST /progress` (a line), `POST /results` (the results).

use std::collections::BTreeMap;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::chromium::Chromium;
use crate::http;

pub use crate::admin::Counters;

/// `after - before` of one counter (a missing counter counts 0).
pub fn delta(before: &Counters, after: &Counters, name: &str) -> i64 {
    let get = |c: &Counters| c.get(name).copied().unwrap_or(0) as i64;
    get(after) - get(before)
}

/// Reads the counters a snapshot records (each suite reads the ones it judges).
pub type ReadCounters = Box<dyn Fn() -> io::Result<Counters> + Send + Sync>;

/// Path → (content type, bytes).
pub type Files = BTreeMap<&'static str, (&'static str, Vec<u8>)>;

struct State {
    files: Files,
    read_counters: ReadCounters,
    snapshots: Mutex<BTreeMap<String, Result<Counters, String>>>,
    progress: Mutex<Vec<String>>,
    results: Mutex<Option<String>>,
    results_ready: Condvar,
    stop: AtomicBool,
}

/// A lock that survives a panicked holder: a harness reports one failure, not a cascade.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The page server; stops on drop.
pub struct PageServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl PageServer {
    /// Serves `files` on `listener`; a snapshot calls `read_counters`.
    pub fn start(
        listener: TcpListener,
        files: Files,
        read_counters: ReadCounters,
    ) -> io::Result<PageServer> {
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            files,
            read_counters,
            snapshots: Mutex::default(),
            progress: Mutex::default(),
            results: Mutex::default(),
            results_ready: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let st = state.clone();
        thread::Builder::new()
            .name("page-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if st.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let st = st.clone();
                    // One thread per connection: Chromium opens speculative connections that
                    // may never carry a request.
                    let _ = thread::Builder::new()
                        .name("page-conn".into())
                        .spawn(move || {
                            let _ = serve(&st, conn);
                        });
                }
            })?;
        Ok(PageServer { addr, state })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Waits (bounded) for the page's results, giving up early when Chromium exits; `Err`
    /// says which.
    pub fn wait_results(
        &self,
        chromium: &mut Chromium,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut results = lock(&self.state.results);
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
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The page's progress lines, as it posted them.
    pub fn progress(&self) -> Vec<String> {
        lock(&self.state.progress).clone()
    }

    /// The counters recorded when the page asked for snapshot `label`.
    pub fn snapshot(&self, label: &str) -> Result<Counters, String> {
        match lock(&self.state.snapshots).get(label) {
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
    conn.set_write_timeout(Some(Duration::from_secs(10)))?;
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
    let text = || String::from_utf8_lossy(&body).into_owned();
    let ok = || (200, "application/json", b"{}".to_vec());
    let (status, content_type, reply): (u16, &str, Vec<u8>) = match (method, path) {
        ("GET", p) => match st.files.get(p) {
            Some((ct, bytes)) => (200, ct, bytes.clone()),
            None => (404, "text/plain", b"not found\n".to_vec()),
        },
        ("POST", "/snapshot") => {
            let label = query.strip_prefix("label=").unwrap_or(query).to_string();
            let counters = (st.read_counters)().map_err(|e| e.to_string());
            let status = if counters.is_ok() { 200 } else { 500 };
            lock(&st.snapshots).insert(label, counters);
            (status, "application/json", b"{}".to_vec())
        }
        ("POST", "/progress") => {
            lock(&st.progress).push(text());
            ok()
        }
        ("POST", "/results") => {
            *lock(&st.results) = Some(text());
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
