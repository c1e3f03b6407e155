//! A raw HTTP/1.1 client: the request is written exactly as built (header order, case and
//! repetitions kept), and the response keeps every header line in order, duplicates included.
//! One connection per request; bounded timeouts.

use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::http::{self, Framing};

/// Timeout for connect, each read and each write.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// A request to send byte for byte. Target and header values are bytes, so a test can send
/// what no well-behaved client would (non-UTF-8, control bytes).
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub target: Vec<u8>,
    /// Header lines in order, written as given. `Host` is not added: put it here.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Add `Content-Length` when the body is not empty and no Content-Length/Transfer-Encoding
    /// header is given (default true).
    pub auto_content_length: bool,
}

impl RawRequest {
    /// A request with a `Host` header.
    pub fn new(method: &str, host: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> RawRequest {
        RawRequest::without_host(method, target).header("Host", host)
    }

    /// A request without any `Host` line.
    pub fn without_host(method: &str, target: impl AsRef<[u8]>) -> RawRequest {
        RawRequest {
            method: method.into(),
            target: target.as_ref().to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
            auto_content_length: true,
        }
    }

    /// Appends a header line (repeat the call for repeated headers).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> RawRequest {
        self.headers.push((name.into(), value.as_ref().to_vec()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RawRequest {
        self.body = body.into();
        self
    }

    /// The target as text (bytes that are not UTF-8 replaced), as the upstream log shows it.
    pub fn target_str(&self) -> String {
        String::from_utf8_lossy(&self.target).into_owned()
    }

    /// Every value sent under this name (case-insensitive), as text, in order.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The exact bytes that [`send`] writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        let framed = self.headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        });
        if self.auto_content_length && !framed && !self.body.is_empty() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A response: status, every header line in order (names as received), and the body
/// (chunked bodies decoded), with the interim (1xx) responses that came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The interim responses (`100 Continue`, `103 Early Hints`, ...) received first, in order.
    pub interim: Vec<Interim>,
}

/// An interim (1xx) response: its status and header lines, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interim {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// Every value of the header, case-insensitive on the name, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        http::header_all(&self.headers, name)
    }
    /// The first value of the header.
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
    /// How many header lines carry this name.
    pub fn count(&self, name: &str) -> usize {
        self.header_all(name).len()
    }
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Header names (lower-cased) that appear more than once.
    pub fn duplicated_headers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        let mut dups: Vec<String> = names
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0].clone())
            .collect();
        dups.dedup();
        dups
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.interim {
            writeln!(f, "HTTP/1.1 {}", i.status)?;
            for (n, v) in &i.headers {
                writeln!(f, "{n}: {v}")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "HTTP/1.1 {} {}", self.status, self.reason)?;
        for (n, v) in &self.headers {
            writeln!(f, "{n}: {v}")?;
        }
        let body = self.body_str();
        if body.len() > 600 {
            write!(
                f,
                "\n{}… ({} bytes)",
                &body[..body
                    .char_indices()
                    .nth(600)
                    .map(|(i, _)| i)
                    .unwrap_or(body.len())],
                self.body.len()
            )
        } else {
            write!(f, "\n{body}")
        }
    }
}

/// Sends a request on a new connection and reads one response.
pub fn send(addr: SocketAddr, req: &RawRequest) -> io::Result<Response> {
    send_raw(
        addr,
        &req.to_bytes(),
        req.method.eq_ignore_ascii_case("HEAD"),
    )
}

/// Sends exact bytes (one request) on a new connection and reads one response.
/// `head_request` tells the reader that the response has no body.
pub fn send_bytes(addr: SocketAddr, bytes: &[u8], head_request: bool) -> io::Result<Response> {
    send_raw(addr, bytes, head_request)
}

fn send_raw(addr: SocketAddr, bytes: &[u8], head_request: bool) -> io::Result<Response> {
    let mut conn = Conn::open(addr)?;
    conn.send_bytes(bytes, head_request)
}

/// A persistent (keep-alive) connection: several requests, one after the other, on one TCP
/// connection.
pub struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            w: stream.try_clone()?,
            r: BufReader::new(stream),
        })
    }

    /// Sends a request and reads its response, keeping the connection open.
    pub fn send(&mut self, req: &RawRequest) -> io::Result<Response> {
        self.send_bytes(&req.to_bytes(), req.method.eq_ignore_ascii_case("HEAD"))
    }

    /// Sends exact bytes and reads one response.
    pub fn send_bytes(&mut self, bytes: &[u8], head_request: bool) -> io::Result<Response> {
        self.w.write_all(bytes)?;
        self.w.flush()?;
        read_response(&mut self.r, head_request)
    }
}

fn read_response(r: &mut BufReader<TcpStream>, head_request: bool) -> io::Result<Response> {
    let mut interim = Vec::new();
    loop {
        let head = http::read_head(r)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            )
        })?;
        let mut parts = head.start_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {:?}", head.start_line),
            ));
        }
        let status: u16 = parts.next().unwrap_or("").parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {:?}", head.start_line),
            )
        })?;
        let reason = parts.next().unwrap_or("").to_string();
        if (100..200).contains(&status) {
            interim.push(Interim {
                status,
                headers: head.headers,
            });
            continue;
        }
        let framing = if head_request || status == 204 || status == 304 {
            Framing::None
        } else {
            http::framing(&head.headers, true)?
        };
        let body = http::read_body(r, framing)?;
        return Ok(Response {
            status,
            reason,
            headers: head.headers,
            body,
            interim,
        });
    }
}
