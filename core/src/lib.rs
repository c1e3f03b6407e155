//! Host-free core of bucket-cors: the OSS/S3 per-bucket CORS behaviour of
//! `docs/spec.md`, with no proxy-wasm dependency.
//!
//! The flow is: [`Policy::from_json`] parses and validates the plugin
//! configuration once (every error reported at once) into a compiled form;
//! [`Policy::decide`] turns a [`Request`] into a [`Decision`]: an [`Action`]
//! (plain data the host glue applies) and an [`Outcome`] to count;
//! [`ResponsePlan::header_ops`] says how to edit the response headers.
//! Nothing here talks to a host, so it is tested natively.

mod bucket;
mod bucket_table;
mod compile;
mod config;
mod decision;
mod error;
mod error_body;
mod explain;
mod grant;
mod header_names;
mod lint;
mod method;
mod name_set;
mod origin;
mod outcome;
mod read;
mod request;
mod response;
mod rule;
mod trail;
mod wildcard;

pub use compile::{Policy, Source};
pub use decision::{Action, Decision, LocalReply};
pub use error::{ConfigError, ConfigErrors, ErrorKind, OriginError};
pub use explain::{Explanation, RuleCheck};
pub use grant::{AllowOrigin, Grant};
pub use lint::{Label, Lint, LintKind};
pub use outcome::{Counter, Outcome, Refusal};
pub use request::{Request, Single};
pub use response::{HeaderOp, ResponsePlan};

/// Whether a host name is a public suffix alone, one under which anyone can
/// register a name (`co.uk`, `github.io`). The core has no list of its own:
/// the Public Suffix List adds about 1 MB to the Wasm filter and 2 s to each
/// VM's start, so the filter judges wildcards by shape only and the CLI
/// passes the list to [`Policy::from_json_checked`] (docs/spec.md §1).
pub type PublicSuffix = fn(&[u8]) -> bool;

/// Response header names the filter owns on a configured bucket.
pub mod names {
    pub const ACAO: &str = "access-control-allow-origin";
    pub const ACAC: &str = "access-control-allow-credentials";
    pub const ACAM: &str = "access-control-allow-methods";
    pub const ACAH: &str = "access-control-allow-headers";
    pub const ACEH: &str = "access-control-expose-headers";
    pub const ACMA: &str = "access-control-max-age";
    /// Private Network Access (a draft browsers put on hold): never granted,
    /// but an upstream's copy is removed like the other allow headers.
    pub const ACAPN: &str = "access-control-allow-private-network";
    pub const VARY: &str = "vary";
    pub const CONTENT_TYPE: &str = "content-type";
    /// With `debug_headers`: why a preflight was refused (spec §6).
    pub const REFUSAL: &str = "x-bucket-cors-refusal";
    /// The CORS response headers an upstream may set and the filter replaces
    /// (every `Access-Control-Allow-*`, `-Expose-Headers` and `-Max-Age`).
    pub const OWNED: [&str; 7] = [ACAO, ACAC, ACAM, ACAH, ACAPN, ACEH, ACMA];
}
