//! A tiny in-memory object store speaking HTTP/1.1 (keep-alive, Content-Length and chunked
//! request bodies), used as the upstream behind Envoy.
//!
//! Path-style addressing only: `/<bucket>/<key>`.
//! - `PUT` stores the body and answers `200` with an `ETag`.
//! - `GET` / `HEAD` answer the object (`200`, `Content-Type: application/octet-stream`, `ETag`),
//!   or `404` with an S3-like `NoSuchKey` XML body.
//! - `DELETE` removes the object and answers `204`.
//! - `OPTIONS` answers `200` with the marker header `x-objstore-options: reached`, so a test can
//!   tell that a preflight leaked upstream.
//! - `GET /` and `GET /<bucket>/` answer a small XML listing.
//!
//! Test controls, as request headers:
//! - `x-objstore-status: N` forces status N (a small text body unless N forbids a body);
//! - `x-objstore-cors: 1` adds `Access-Control-Allow-Origin: *`,
//!   `Access-Control-Expose-Headers: x-upstream-only` and `Access-Control-Allow-Credentials: true`;
//!   `x-objstore-cors: all` adds those and also `Access-Control-Allow-Methods: PATCH`,
//!   `Access-Control-Allow-Headers: x-upstream`, `Access-Control-Max-Age: 99999`,
//!   and a second, upper-case `ACCESS-CONTROL-ALLOW-ORIGIN: https://upstream.example`;
//! - `x-objstore-add: Name: value` adds that response header line (may be repeated);
//! - `x-objstore-chunked: 1` sends the body with `Transfer-Encoding: chunked`;
//! - `x-objstore-vary: V` adds `Vary: V` (may be repeated: one `Vary` line each);
//! - `x-objstore-interim: N` (100 to 199, not 101) sends an interim response of status N before
//!   the final one, carrying the `x-objstore-add` lines too (may be repeated: one interim
//!   response each, in order).
//!
//! [`ObjStore::start_reflecting_cors`] starts a store that answers CORS the way MinIO
//! community's default handler does (rs/cors with `AllowCredentials: true` and every origin
//! allowed): every response to a request with `Origin` reflects it with
//! `Access-Control-Allow-Credentials: true`, exposes headers and adds `Vary: Origin`; a
//! preflight is answered `204` by the store itself with the requested method and headers
//! allowed (and the marker `x-objstore-options: reached`).
//!
//! Every response carries `x-objstore-hits: N` (N counts requests, from 1) and
//! `x-objstore-method: M` (the method the store saw). Every request is recorded
//! ([`ObjStore::requests`]).

use std::collections::BTreeMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::http;

/// One request as the object store received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Sequence number, from 1.
    pub seq: u64,
    pub method: String,
    /// The request target as received (path and query).
    pub target: String,
    /// Header lines in order, names as received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        http::header_all(&self.headers, name)
    }
    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

#[derive(Default)]
struct State {
    objects: Mutex<BTreeMap<(String, String), Vec<u8>>>,
    log: Mutex<Vec<RecordedRequest>>,
    hits: AtomicU64,
    stop: AtomicBool,
    conns: Mutex<Vec<TcpStream>>,
    log_stderr: AtomicBool,
    /// Answer CORS like MinIO community's default handler.
    reflect_cors: bool,
}

/// A running object store; stops (listener and open connections) on drop.
pub struct ObjStore {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<thread::JoinHandle<()>>,
}

/// Idle time after which a keep-alive connection is dropped by the store.
const IDLE: Duration = Duration::from_secs(120);

impl ObjStore {
    /// Starts on a free loopback port.
    pub fn start() -> io::Result<ObjStore> {
        Self::start_on("127.0.0.1:0", false)
    }

    /// Starts on the given address; `log_stderr` prints one line per request to stderr.
    pub fn start_on(addr: impl ToSocketAddrs, log_stderr: bool) -> io::Result<ObjStore> {
        Self::start_with(addr, log_stderr, false)
    }

    /// Starts on a free loopback port, answering CORS like MinIO community's default
    /// handler: every Origin reflected with credentials, preflights answered by the store.
    pub fn start_reflecting_cors() -> io::Result<ObjStore> {
        Self::start_with("127.0.0.1:0", false, true)
    }

    /// Starts on the given address, optionally answering CORS like MinIO's default handler.
    pub fn start_with(
        addr: impl ToSocketAddrs,
        log_stderr: bool,
        reflect_cors: bool,
    ) -> io::Result<ObjStore> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            reflect_cors,
            ..State::default()
        });
        state.log_stderr.store(log_stderr, Ordering::Relaxed);
        let st = state.clone();
        let accept = thread::Builder::new()
            .name("objstore-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if st.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    if let Ok(clone) = conn.try_clone() {
                        let mut conns = lock(&st.conns);
                        conns.retain(|c| c.peer_addr().is_ok());
                        conns.push(clone);
                    }
                    let st = st.clone();
                    let _ = thread::Builder::new()
                        .name("objstore-conn".into())
                        .spawn(move || {
                            if let Err(e) = serve_connection(&st, conn) {
                                if st.log_stderr.load(Ordering::Relaxed)
                                    && !st.stop.load(Ordering::SeqCst)
                                {
                                    eprintln!("objstore: connection error: {e}");
                                }
                            }
                        });
                }
            })?;
        Ok(ObjStore {
            addr,
            state,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.log).clone()
    }

    /// The requests whose header `name` has the value `value` (case-sensitive value).
    pub fn requests_with(&self, name: &str, value: &str) -> Vec<RecordedRequest> {
        lock(&self.state.log)
            .iter()
            .filter(|r| r.header_all(name).contains(&value))
            .cloned()
            .collect()
    }

    /// Number of requests received so far.
    pub fn hits(&self) -> u64 {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Stores an object directly, without HTTP.
    pub fn put_object(&self, bucket: &str, key: &str, data: &[u8]) {
        lock(&self.state.objects).insert((bucket.into(), key.into()), data.to_vec());
    }

    /// Reads an object directly, without HTTP.
    pub fn get_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        lock(&self.state.objects)
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }

    /// Blocks the calling thread for as long as the store runs (for the binary).
    pub fn wait(mut self) {
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for ObjStore {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for c in lock(&self.state.conns).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve_connection(st: &State, conn: TcpStream) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE))?;
    conn.set_write_timeout(Some(Duration::from_secs(30)))?;
    let _ = conn.set_nodelay(true);
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let Some(head) = http::read_head(&mut reader)? else {
            return Ok(());
        };
        if st.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut parts = head.start_line.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let version = parts.next().unwrap_or("").to_string();
        let framing = http::framing(&head.headers, false)?;
        let body = http::read_body(&mut reader, framing)?;
        let seq = st.hits.fetch_add(1, Ordering::SeqCst) + 1;
        let req = RecordedRequest {
            seq,
            method,
            target,
            headers: head.headers,
            body,
        };
        lock(&st.log).push(req.clone());

        let resp = handle(st, &req);
        if st.log_stderr.load(Ordering::Relaxed) {
            eprintln!(
                "objstore: #{seq} {} {} host={:?} origin={:?} -> {} ({} bytes)",
                req.method,
                req.target,
                req.header("host").unwrap_or(""),
                req.header("origin").unwrap_or(""),
                resp.status,
                resp.body.len()
            );
        }
        let close = http::wants_close(&req.headers) || version.eq_ignore_ascii_case("HTTP/1.0");
        write_response(&mut writer, &req, seq, &resp, close)?;
        if close {
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// For HEAD: the Content-Length the GET would have had.
    head_length: Option<usize>,
}

impl Reply {
    fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            head_length: None,
        }
    }
    fn header(mut self, n: &str, v: impl Into<String>) -> Reply {
        self.headers.push((n.into(), v.into()));
        self
    }
    fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self.body = body.into();
        self
    }
}

fn etag(data: &[u8]) -> String {
    // FNV-1a 64, enough to tell objects apart in tests.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn s3_error(status: u16, code: &str, message: &str, resource: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n  <Resource>{}</Resource>\n</Error>\n",
        xml_escape(resource)
    );
    Reply::new(status).body("application/xml", body)
}

fn handle(st: &State, req: &RecordedRequest) -> Reply {
    let origin = req.header("origin").filter(|o| !o.is_empty());
    let reflect = origin.filter(|_| st.reflect_cors);
    let acrm = req.header("access-control-request-method");
    let mut reply = match (reflect, acrm) {
        (Some(origin), Some(method)) if req.method == "OPTIONS" => {
            return reflected_preflight(req, origin, method)
        }
        _ => route(st, req),
    };
    if let Some(forced) = req.header("x-objstore-status") {
        if let Ok(code) = forced.trim().parse::<u16>() {
            if (200..600).contains(&code) {
                reply =
                    Reply::new(code).body("text/plain", format!("objstore forced status {code}\n"));
            }
        }
    }
    let cors = req.header("x-objstore-cors");
    if cors == Some("1") || cors == Some("all") {
        reply = reply
            .header("Access-Control-Allow-Origin", "*")
            .header("Access-Control-Expose-Headers", "x-upstream-only")
            .header("Access-Control-Allow-Credentials", "true");
    }
    if cors == Some("all") {
        reply = reply
            .header("Access-Control-Allow-Methods", "PATCH")
            .header("Access-Control-Allow-Headers", "x-upstream")
            .header("Access-Control-Max-Age", "99999")
            .header("ACCESS-CONTROL-ALLOW-ORIGIN", "https://upstream.example");
    }
    for v in req.header_all("x-objstore-add") {
        if let Some((n, v)) = v.split_once(':') {
            reply = reply.header(n.trim(), v.trim());
        }
    }
    for v in req.header_all("x-objstore-vary") {
        reply = reply.header("Vary", v);
    }
    if let Some(origin) = reflect {
        reply = reflected(reply, origin);
    }
    reply
}

/// MinIO community's default CORS (rs/cors, every origin, credentials hard-coded): the store
/// answers a preflight itself, allowing what was asked.
fn reflected_preflight(req: &RecordedRequest, origin: &str, method: &str) -> Reply {
    let mut r = Reply::new(204)
        .header("x-objstore-options", "reached")
        .header(
            "Vary",
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        )
        .header("Access-Control-Allow-Origin", origin)
        .header("Access-Control-Allow-Methods", method.to_ascii_uppercase())
        .header("Access-Control-Allow-Credentials", "true");
    if let Some(h) = req.header("access-control-request-headers") {
        r = r.header("Access-Control-Allow-Headers", h);
    }
    r
}

/// MinIO community's default CORS on every other response: the Origin reflected with
/// credentials, its expose list, `Vary: Origin`.
fn reflected(reply: Reply, origin: &str) -> Reply {
    reply
        .header("Vary", "Origin")
        .header("Access-Control-Allow-Origin", origin)
        .header("Access-Control-Allow-Credentials", "true")
        .header(
            "Access-Control-Expose-Headers",
            "Date, Etag, Server, Connection, Accept-Ranges, Content-Range, Content-Encoding, Content-Length, Content-Type, Content-Disposition, Last-Modified, Content-Language, Cache-Control, Retry-After, X-Amz-Bucket-Region, Expires, X-Amz*, X-Amz-Request-Id",
        )
}

fn route(st: &State, req: &RecordedRequest) -> Reply {
    let path = req.path();
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b.to_string(), k.to_string()),
        None => (rest.to_string(), String::new()),
    };
    match req.method.as_str() {
        "OPTIONS" => Reply::new(200)
            .header("x-objstore-options", "reached")
            .header("Allow", "GET, HEAD, PUT, DELETE, OPTIONS"),
        _ if bucket.is_empty() => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>\n";
            let mut r = Reply::new(200).body("application/xml", body);
            if req.method == "HEAD" {
                r.head_length = Some(r.body.len());
                r.body.clear();
            }
            r
        }
        "PUT" if key.is_empty() => Reply::new(200),
        "PUT" => {
            let tag = etag(&req.body);
            lock(&st.objects).insert((bucket, key), req.body.clone());
            Reply::new(200).header("ETag", tag)
        }
        "GET" | "HEAD" if key.is_empty() => {
            let objects = lock(&st.objects);
            let mut body =
                String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>\n");
            body += &format!("  <Name>{}</Name>\n", xml_escape(&bucket));
            for ((b, k), v) in objects.iter() {
                if *b == bucket {
                    body += &format!(
                        "  <Contents><Key>{}</Key><Size>{}</Size></Contents>\n",
                        xml_escape(k),
                        v.len()
                    );
                }
            }
            body += "</ListBucketResult>\n";
            let mut r = Reply::new(200).body("application/xml", body);
            if req.method == "HEAD" {
                r.head_length = Some(r.body.len());
                r.body.clear();
            }
            r
        }
        "GET" | "HEAD" => match lock(&st.objects).get(&(bucket, key)) {
            Some(data) => {
                let mut r = Reply::new(200)
                    .header("ETag", etag(data))
                    .body("application/octet-stream", data.clone());
                if req.method == "HEAD" {
                    r.head_length = Some(data.len());
                    r.body.clear();
                }
                r
            }
            None => {
                let mut r = s3_error(404, "NoSuchKey", "The specified key does not exist.", path);
                if req.method == "HEAD" {
                    r.head_length = Some(r.body.len());
                    r.body.clear();
                }
                r
            }
        },
        "DELETE" => {
            lock(&st.objects).remove(&(bucket, key));
            Reply::new(204)
        }
        "POST" => Reply::new(200).body("text/plain", format!("posted {} bytes\n", req.body.len())),
        _ => s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            path,
        ),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        103 => "Early Hints",
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_response(
    w: &mut TcpStream,
    req: &RecordedRequest,
    seq: u64,
    r: &Reply,
    close: bool,
) -> io::Result<()> {
    let no_body = r.status == 204 || r.status == 304 || (100..200).contains(&r.status);
    let mut out = String::new();
    for code in req.header_all("x-objstore-interim") {
        let Ok(code) = code.trim().parse::<u16>() else {
            continue;
        };
        if (100..200).contains(&code) && code != 101 {
            out += &format!("HTTP/1.1 {code} {}\r\n", reason(code));
            for v in req.header_all("x-objstore-add") {
                if let Some((n, v)) = v.split_once(':') {
                    out += &format!("{}: {}\r\n", n.trim(), v.trim());
                }
            }
            out += "\r\n";
        }
    }
    out += &format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (n, v) in &r.headers {
        if no_body && n.eq_ignore_ascii_case("content-type") {
            continue;
        }
        out += &format!("{n}: {v}\r\n");
    }
    out += &format!("x-objstore-hits: {seq}\r\n");
    out += &format!("x-objstore-method: {}\r\n", req.method);
    let chunked = !no_body && req.method != "HEAD" && req.header("x-objstore-chunked") == Some("1");
    if chunked {
        out += "Transfer-Encoding: chunked\r\n";
    } else if !no_body {
        let len = r.head_length.unwrap_or(r.body.len());
        out += &format!("Content-Length: {len}\r\n");
    }
    if close {
        out += "Connection: close\r\n";
    }
    out += "\r\n";
    let mut bytes = out.into_bytes();
    if chunked {
        // Two chunks (when there is more than one byte), then the last chunk.
        let mid = r.body.len() / 2;
        for part in [&r.body[..mid], &r.body[mid..]] {
            if !part.is_empty() {
                bytes.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                bytes.extend_from_slice(part);
                bytes.extend_from_slice(b"\r\n");
            }
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
    } else if !no_body && req.method != "HEAD" {
        bytes.extend_from_slice(&r.body);
    }
    w.write_all(&bytes)?;
    w.flush()
}

/// A lock that survives a panicked holder: the store's maps stay valid, and
/// a test harness should report, not cascade, one failure.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
