//! Minimal HTTP/1.1 message framing shared by the object store and the client.

use std::io::{self, BufRead, Read};

/// Largest message head (start line + headers) either side accepts.
pub const MAX_HEAD: usize = 1 << 20;
/// Largest body either side accepts.
pub const MAX_BODY: usize = 64 << 20;

/// A parsed message head: the start line and the header lines, in order, as received.
#[derive(Debug, Clone)]
pub struct Head {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one line ending in LF (CRLF or bare LF), without the line ending.
/// `Ok(None)` means a clean end of stream before any byte of the line.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(invalid("message head too large"));
    }
    *budget -= n;
    if line.last() != Some(&b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed inside a line",
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// Reads a message head. `Ok(None)`: the peer closed the connection before sending anything
/// (the normal end of a keep-alive connection).
pub fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut budget = MAX_HEAD;
    // Tolerate empty lines before a request line (RFC 9112 section 2.2).
    let start_line = loop {
        match read_line(r, &mut budget)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break String::from_utf8_lossy(&l).into_owned(),
        }
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(r, &mut budget)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the head",
            )
        })?;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| invalid(format!("header line without a colon: {text:?}")))?;
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
    Ok(Some(Head {
        start_line,
        headers,
    }))
}

/// All values of a header, case-insensitive on the name, in order.
pub fn header_all<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first value of a header, case-insensitive on the name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// Framing of a message from its headers; `until_close_default` is used when neither
/// Transfer-Encoding nor Content-Length is present (responses read to EOF, requests have none).
pub fn framing(headers: &[(String, String)], until_close_default: bool) -> io::Result<Framing> {
    let te = header_all(headers, "transfer-encoding");
    if !te.is_empty() {
        let last = te.join(",");
        let last = last
            .rsplit(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        return Ok(if last == "chunked" {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let cl = header_all(headers, "content-length");
    if let Some(first) = cl.first() {
        if cl.iter().any(|v| v != first) {
            return Err(invalid("conflicting Content-Length headers"));
        }
        let n: usize = first
            .trim()
            .parse()
            .map_err(|_| invalid(format!("bad Content-Length {first:?}")))?;
        if n > MAX_BODY {
            return Err(invalid("body too large"));
        }
        return Ok(Framing::Length(n));
    }
    Ok(if until_close_default {
        Framing::UntilClose
    } else {
        Framing::None
    })
}

/// Reads a body with the given framing. Trailers of a chunked body are read and dropped.
pub fn read_body(r: &mut impl BufRead, framing: Framing) -> io::Result<Vec<u8>> {
    match framing {
        Framing::None => Ok(Vec::new()),
        Framing::Length(n) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body)?;
            Ok(body)
        }
        Framing::UntilClose => {
            let mut body = Vec::new();
            r.take(MAX_BODY as u64 + 1).read_to_end(&mut body)?;
            if body.len() > MAX_BODY {
                return Err(invalid("body too large"));
            }
            Ok(body)
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            let mut budget = MAX_HEAD;
            loop {
                let line = read_line(r, &mut budget)?.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside chunked body")
                })?;
                let text = String::from_utf8_lossy(&line);
                let size = text.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| invalid(format!("bad chunk size {text:?}")))?;
                if size == 0 {
                    // Trailers, then the final empty line.
                    loop {
                        let t = read_line(r, &mut budget)?.ok_or_else(|| {
                            io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside trailers")
                        })?;
                        if t.is_empty() {
                            return Ok(body);
                        }
                    }
                }
                if body.len() + size > MAX_BODY {
                    return Err(invalid("body too large"));
                }
                let start = body.len();
                body.resize(start + size, 0);
                r.read_exact(&mut body[start..])?;
                let crlf = read_line(r, &mut budget)?;
                if crlf.as_deref() != Some(&[][..]) {
                    return Err(invalid("chunk not followed by CRLF"));
                }
            }
        }
    }
}

/// Whether a connection header list asks to close the connection.
pub fn wants_close(headers: &[(String, String)]) -> bool {
    header_all(headers, "connection")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("close"))
}
