//! Shared helpers for the table tests: request builders, expected outcomes
//! written from the spec (`shared/spec/semantics.md`), and a case runner
//! that reports every failing case by name instead of stopping at the first.

#![allow(dead_code)]

pub mod seeds;

use bucket_cors_core::{Action, AllowOrigin, Grant, HeaderOp, Policy, Request};
use std::collections::BTreeSet;
use std::fmt::Debug;

pub const ACAO: &str = "access-control-allow-origin";
pub const ACAC: &str = "access-control-allow-credentials";
pub const ACAM: &str = "access-control-allow-methods";
pub const ACAH: &str = "access-control-allow-headers";
pub const ACEH: &str = "access-control-expose-headers";
pub const ACMA: &str = "access-control-max-age";
pub const VARY: &str = "vary";
pub const CONTENT_TYPE: &str = "content-type";

/// Spec §3.7.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
/// Spec §3.5, OSS's text with its spelling.
pub const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";
/// Spec §3.2.
pub const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";

/// The host used by path-style requests unless a case says otherwise.
pub const HOST: &str = "s3.test";

/// Parses a configuration that must be valid.
pub fn policy(json: &str) -> Policy {
    let p = Policy::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("configuration refused:\n{e}\nconfiguration:\n{json}"));
    seeds::remember(json, &p);
    p
}

/// A request as Envoy hands it over: pseudo-headers and lower-case names,
/// possibly repeated. Turned into a [`Request`] by `Request::from_headers`,
/// as the glue does.
#[derive(Debug, Clone)]
pub struct Req {
    headers: Vec<(String, Vec<u8>)>,
}

impl Req {
    pub fn new(method: &str, authority: &str, path: &str) -> Self {
        Req {
            headers: vec![
                (":method".into(), method.as_bytes().to_vec()),
                (":authority".into(), authority.as_bytes().to_vec()),
                (":path".into(), path.as_bytes().to_vec()),
            ],
        }
    }

    /// A path-style request to `/<bucket>/key` on [`HOST`].
    pub fn to(method: &str, bucket: &str) -> Self {
        Req::new(method, HOST, &format!("/{bucket}/key.jpg"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
        self
    }

    pub fn origin(self, origin: &str) -> Self {
        self.header("origin", origin)
    }

    pub fn acrm(self, method: &str) -> Self {
        self.header("access-control-request-method", method)
    }

    pub fn acrh(self, headers: &str) -> Self {
        self.header("access-control-request-headers", headers)
    }

    pub fn request_id(self, id: &str) -> Self {
        self.header("x-request-id", id)
    }

    pub fn request(&self) -> Request<'_> {
        Request::from_headers(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
    }
}

/// `OPTIONS /<bucket>/key.jpg` with `Origin` and ACRM: a preflight (spec §2.3).
pub fn preflight(bucket: &str, origin: &str, method: &str) -> Req {
    Req::to("OPTIONS", bucket).origin(origin).acrm(method)
}

/// A reply of the filter, with the body as text for readable failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What `decide` did, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ignore,
    Reply(Reply),
    Forward(Option<Grant>),
}

pub fn outcome(policy: &Policy, req: &Req) -> Outcome {
    seeds::write(policy, req);
    match policy.decide(&req.request()).action {
        Action::Ignore => Outcome::Ignore,
        Action::Reply(r) => Outcome::Reply(Reply {
            status: r.status,
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
            body: String::from_utf8(r.body.clone())
                .unwrap_or_else(|_| format!("(not UTF-8) {:?}", r.body)),
        }),
        Action::Forward(plan) => Outcome::Forward(plan.grant.clone()),
    }
}

/// A successful preflight (spec §3.6): 200, these headers in this order, no body.
pub fn ok(headers: &[(&str, &str)]) -> Outcome {
    Outcome::Reply(Reply {
        status: 200,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: String::new(),
    })
}

/// OSS's `AccessForbidden` document (spec §3), values given already escaped.
pub fn xml_403(message: &str, request_id: &str, host: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessForbidden</Code>\n  <Message>{message}</Message>\n  <RequestId>{request_id}</RequestId>\n  <HostId>{host}</HostId>\n</Error>\n"
    )
}

/// A 403 of the filter: `Content-Type: application/xml`, the preflight `Vary`
/// (spec §3.7), no `Access-Control-*` header, OSS's body.
pub fn forbidden(message: &str, request_id: &str, host: &str) -> Outcome {
    Outcome::Reply(Reply {
        status: 403,
        headers: vec![
            (CONTENT_TYPE.to_string(), "application/xml".to_string()),
            (VARY.to_string(), PREFLIGHT_VARY.to_string()),
        ],
        body: xml_403(message, request_id, host),
    })
}

/// The usual refusal: no rule allows the preflight, no `x-request-id`, [`HOST`].
pub fn refused() -> Outcome {
    forbidden(NOT_ALLOWED, "", HOST)
}

pub fn echo(rule: usize, origin: &str) -> Option<Grant> {
    Some(Grant {
        rule,
        allow_origin: AllowOrigin::Echo(origin.to_string()),
    })
}

pub fn any(rule: usize) -> Option<Grant> {
    Some(Grant {
        rule,
        allow_origin: AllowOrigin::Any,
    })
}

/// A header op as readable text: `set name: value` / `remove name`.
pub fn op_text(op: &HeaderOp<'_>) -> String {
    match op {
        HeaderOp::Remove(n) => format!("remove {n}"),
        HeaderOp::Set(n, v) => format!("set {n}: {v}"),
    }
}

/// Expected `Set` op.
pub fn set(name: &str, value: &str) -> String {
    format!("set {name}: {value}")
}

/// Expected `Remove` op.
pub fn remove(name: &str) -> String {
    format!("remove {name}")
}

/// Runs table cases and reports every failure by case name at the end.
#[derive(Default)]
pub struct Cases {
    names: BTreeSet<String>,
    failures: Vec<String>,
}

impl Cases {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one expectation of case `name`.
    pub fn check<T: PartialEq + Debug>(&mut self, name: &str, what: &str, got: &T, want: &T) {
        self.names.insert(name.to_string());
        if got != want {
            self.failures.push(format!(
                "case `{name}` ({what}):\n    got:  {got:?}\n    want: {want:?}"
            ));
        }
    }

    /// Records a failure of case `name` found otherwise.
    pub fn fail(&mut self, name: &str, message: String) {
        self.names.insert(name.to_string());
        self.failures.push(format!("case `{name}`: {message}"));
    }

    /// Panics listing every failed case; returns how many cases ran.
    pub fn finish(self) -> usize {
        if !self.failures.is_empty() {
            panic!(
                "{} failed expectations in {} cases:\n{}",
                self.failures.len(),
                self.names.len(),
                self.failures.join("\n")
            );
        }
        println!("{} cases passed", self.names.len());
        self.names.len()
    }
}
