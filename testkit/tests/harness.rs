//! Self-tests of the harness that need no Envoy: the object store and the raw client.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use bucket_cors_testkit::case::{self, case, CASE_HEADER};
use bucket_cors_testkit::http;
use bucket_cors_testkit::spec::names::{ACAC, ACAH, ACAM, ACAO, ACEH, ACMA, VARY};
use bucket_cors_testkit::{send, send_bytes, ObjStore, RawRequest};

#[test]
fn objstore_put_get_head_delete_roundtrip() {
    let store = ObjStore::start().unwrap();
    let a = store.addr();
    let put = send(
        a,
        &RawRequest::new("PUT", "localhost", "/photos/cat.jpg").body("meow"),
    )
    .unwrap();
    assert_eq!(put.status, 200);
    let etag = put.header("etag").expect("ETag on PUT").to_string();
    assert_eq!(
        store.get_object("photos", "cat.jpg").as_deref(),
        Some(&b"meow"[..])
    );

    let get = send(a, &RawRequest::new("GET", "localhost", "/photos/cat.jpg")).unwrap();
    assert_eq!((get.status, get.body_str().as_str()), (200, "meow"));
    assert_eq!(get.header("ETag"), Some(etag.as_str()));
    assert_eq!(get.header("content-length"), Some("4"));

    let head = send(a, &RawRequest::new("HEAD", "localhost", "/photos/cat.jpg")).unwrap();
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(head.header("content-length"), Some("4"));

    let del = send(
        a,
        &RawRequest::new("DELETE", "localhost", "/photos/cat.jpg"),
    )
    .unwrap();
    assert_eq!(del.status, 204);
    let gone = send(a, &RawRequest::new("GET", "localhost", "/photos/cat.jpg")).unwrap();
    assert_eq!(gone.status, 404);
    assert_eq!(gone.header("content-type"), Some("application/xml"));
    assert!(gone.body_str().contains("<Code>NoSuchKey</Code>"), "{gone}");

    let log = store.requests();
    let methods: Vec<&str> = log.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "GET", "HEAD", "DELETE", "GET"]);
    assert_eq!(log[0].body, b"meow");
    assert_eq!(log[0].path(), "/photos/cat.jpg");
    assert_eq!(store.hits(), 5);
    assert_eq!(gone.header("x-objstore-hits"), Some("5"));
}

#[test]
fn objstore_controls_and_options_marker() {
    let store = ObjStore::start().unwrap();
    let a = store.addr();
    let opt = send(
        a,
        &RawRequest::new("OPTIONS", "localhost", "/photos/x").header("Origin", "https://a.com"),
    )
    .unwrap();
    assert_eq!(opt.status, 200);
    assert_eq!(opt.header("x-objstore-options"), Some("reached"));

    let r = send(
        a,
        &RawRequest::new("GET", "localhost", "/photos/x")
            .header("x-objstore-status", "503")
            .header("x-objstore-cors", "1")
            .header("x-objstore-vary", "Accept-Encoding")
            .header("x-objstore-vary", "User-Agent"),
    )
    .unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.header_all(ACAO), ["*"]);
    assert_eq!(r.header_all(ACEH), ["x-upstream-only"]);
    assert_eq!(r.header_all(ACAC), ["true"]);
    assert_eq!(r.header_all(VARY), ["Accept-Encoding", "User-Agent"]);
    assert_eq!(r.count("VARY"), 2);

    let nm = send(
        a,
        &RawRequest::new("GET", "localhost", "/photos/x").header("x-objstore-status", "304"),
    )
    .unwrap();
    assert_eq!((nm.status, nm.body.len()), (304, 0));
    assert_eq!(nm.count("content-length"), 0);

    let tagged = store.requests_with("x-objstore-status", "503");
    assert_eq!(tagged.len(), 1);
    assert_eq!(
        tagged[0].header_all("x-objstore-vary"),
        ["Accept-Encoding", "User-Agent"]
    );
}

#[test]
fn objstore_keeps_connections_alive_and_reads_chunked_bodies() {
    let store = ObjStore::start().unwrap();
    let s = TcpStream::connect(store.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    // Two requests pipelined on one connection: a chunked PUT, then a GET.
    w.write_all(
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n\
          GET /b/k HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    for (want_status, want_body) in [(200u16, ""), (200, "abcde")] {
        let head = http::read_head(&mut r).unwrap().expect("a response");
        assert!(
            head.start_line
                .starts_with(&format!("HTTP/1.1 {want_status}")),
            "{}",
            head.start_line
        );
        let f = http::framing(&head.headers, true).unwrap();
        let body = http::read_body(&mut r, f).unwrap();
        assert_eq!(String::from_utf8(body).unwrap(), want_body);
    }
    // A third request on the same connection still works.
    w.write_all(b"DELETE /b/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let head = http::read_head(&mut r).unwrap().expect("a response");
    assert!(
        head.start_line.starts_with("HTTP/1.1 204"),
        "{}",
        head.start_line
    );
    assert_eq!(store.hits(), 3);
}

#[test]
fn client_keeps_duplicate_headers_in_order_and_decodes_chunked() {
    // A one-shot server that answers with duplicate headers and a chunked body.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let head = http::read_head(&mut r).unwrap().unwrap();
        w.write_all(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nVary: A\r\nX-Dup: 1\r\nvary: B\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
        )
        .unwrap();
        head
    });
    let req = RawRequest::new("GET", "h", "/p")
        .header("A", "1")
        .header("a", "2");
    let resp = send(addr, &req).unwrap();
    let head = server.join().unwrap();
    assert_eq!(
        head.headers,
        vec![
            ("Host".into(), "h".into()),
            ("A".into(), "1".into()),
            ("a".into(), "2".into())
        ]
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header_all("VARY"), ["A", "B"]);
    assert_eq!(resp.count("vary"), 2);
    assert_eq!(resp.header("x-dup"), Some("1"));
    assert_eq!(resp.duplicated_headers(), ["vary"]);
    assert_eq!(resp.body_str(), "Wikipedia");
}

#[test]
fn client_reads_to_eof_without_framing() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        http::read_head(&mut r).unwrap();
        w.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil eof")
            .unwrap();
    });
    let resp = send_bytes(addr, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", false).unwrap();
    server.join().unwrap();
    assert_eq!(resp.body_str(), "until eof");
}

#[test]
fn objstore_all_cors_chunked_and_conn_reuse() {
    let store = ObjStore::start().unwrap();
    store.put_object("b", "k", b"hello world");
    let mut conn = bucket_cors_testkit::Conn::open(store.addr()).unwrap();
    let r = conn
        .send(
            &RawRequest::new("GET", "h", "/b/k")
                .header("x-objstore-cors", "all")
                .header("x-objstore-chunked", "1")
                .header("x-objstore-add", "X-One: a: b")
                .header("x-objstore-add", "x-two:2"),
        )
        .unwrap();
    assert_eq!(r.body_str(), "hello world");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header_all(ACAO), ["*", "https://upstream.example"]);
    for h in [ACAM, ACAH, ACMA] {
        assert_eq!(r.count(h), 1, "{h}");
    }
    assert_eq!(r.header_all("x-one"), ["a: b"]);
    assert_eq!(r.header_all("x-two"), ["2"]);
    let again = conn.send(&RawRequest::new("HEAD", "h", "/b/k")).unwrap();
    assert_eq!((again.status, again.body.len()), (200, 0));
    assert_eq!(again.header("x-objstore-hits"), Some("2"));
}

#[test]
fn raw_request_sends_any_byte_and_describes_it_readably() {
    let req = RawRequest::new("OPTIONS", "h", b"/p\xff")
        .header("Origin", b"https://a\x00b")
        .header(CASE_HEADER, "tag")
        .body("xy");
    assert_eq!(
        req.to_bytes(),
        b"OPTIONS /p\xff HTTP/1.1\r\nHost: h\r\nOrigin: https://a\x00b\r\nx-test-case: tag\r\nContent-Length: 2\r\n\r\nxy"
    );
    assert_eq!(req.target_str(), "/p\u{fffd}");
    assert_eq!(
        case::describe(&req),
        "OPTIONS /p\\xff | Host: h | Origin: https://a\\x00b | body 2 bytes"
    );
    let long = case::shown(&[b'a'; 130]);
    assert!(long.ends_with("…(130 bytes)"), "{long}");
}

#[test]
fn the_case_builder_sets_what_a_preflight_answer_must_be() {
    let c = case("n", "3.6", case::preflight("h", "/b/k", "https://o", "GET"))
        .echo("https://o", "GET", Some("ETag"), None)
        .preflight_ok();
    assert_eq!((c.status, c.no_duplicates), (200, true));
    assert_eq!(c.upstream, case::Upstream::NotReached);
    let names: Vec<&str> = c.acx.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, [ACAO, ACAC, ACAM, ACEH]);
    let refused = c.preflight_403("m", "rid", "h");
    assert!(refused.acx.is_empty());
    assert_eq!(refused.status, 403);
}
