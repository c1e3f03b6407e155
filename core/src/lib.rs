//! Host-free core of bucket-cors: the OSS/S3 per-bucket CORS behaviour of
//! `docs/spec.md`, with no proxy-wasm dependency.
//!
//! The flow is: [`Policy::from_json`] parses and validates the plugin
//! configuration once (every error reported at once) into a compiled form;
//! [`Policy::decide`] turns a [`Request`] into a [`Decision`]: an [`Action`]
//! (plain data the host glue applies) and an [`Outcome`] to count;
//! [`ResponsePlan::header_ops`] says how to edit the response headers.
//! Both glues run the same flow through [`configure`] (the configuration's
//! log lines and refusal count) and [`Stream`] (per stream: decide, count,
//! log, then the response edits), and only move bytes to and from their host.
//! A bucket's rules document (S3 or OSS XML, docs/spec.md §7) is read and
//! compiled by the same code into [`StoreRules`].
//! Nothing here talks to a host, so it is tested natively; log lines go
//! through the `log` facade, which each glue points at its host's log.
//!
//! Where each section of docs/spec.md lives:
//!
//! | spec | files |
//! |---|---|
//! | §1 configuration, validation | `config.rs` (shape), `read.rs` and `trail.rs` (reading), `compile.rs`, `error.rs`, `origin.rs` (patterns) |
//! | §2 which requests, bucket | `bucket.rs`, `bucket_table.rs`, `request.rs`, `decision.rs` (`decide`) |
//! | §3 preflight | `decision.rs`, `rule.rs`, `grant.rs`, `error_body.rs` |
//! | §4 actual requests, every response | `decision.rs` (`actual_grant`), `response.rs`, `grant.rs` |
//! | §5 matching details | `origin.rs`, `header_names.rs`, `method.rs`, `wildcard.rs`, `name_set.rs` |
//! | §6 extensions | `lint.rs`, `explain.rs`, `outcome.rs` (counters), `configure.rs`, `stream.rs` |
//! | §7 a bucket's rules document | `document.rs`, `document_xml.rs` |
//! | §8 rules from the store | `rules_source.rs` (settings), `rules_cache.rs` (reads, cache), `cors_api.rs` (`PUT`/`DELETE ?cors`), `decision.rs` (`decide_with_store`), `stream.rs` |

mod bucket;
mod bucket_table;
mod compile;
mod config;
mod configure;
mod cors_api;
mod decision;
mod document;
mod document_xml;
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
mod rules_cache;
mod rules_source;
mod stream;
mod trail;
mod wildcard;

pub use compile::{Policy, Source};
pub use configure::configure;
pub use decision::{Action, Decision, LocalReply, Verdict};
pub use document::{RulesDocument, StoreRules, MAX_DOCUMENT_BYTES};
pub use error::{ConfigError, ConfigErrors, ErrorKind, OriginError};
pub use explain::{Explanation, RuleCheck};
pub use grant::{AllowOrigin, Grant};
pub use lint::{Label, Lint, LintKind};
pub use outcome::{Counter, CounterIds, Outcome, Refusal};
pub use request::{Lines, Request, Single};
pub use response::{HeaderOp, ResponsePlan};
pub use rules_cache::{KnownRules, Lookup, ReadAnswer, RulesCache};
pub use rules_source::RulesSource;
pub use stream::{Step, Stream};

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
    pub const VARY: &str = "vary";
    pub const CONTENT_TYPE: &str = "content-type";
    /// With `debug_headers`: why a preflight was refused (spec §6).
    pub const REFUSAL: &str = "x-bucket-cors-refusal";
    /// The 503 of a preflight whose rules could not be read (spec §8).
    pub const RETRY_AFTER: &str = "retry-after";
    /// What every CORS response header name starts with.
    pub(crate) const CORS_PREFIX: &str = "access-control-";
    /// The `Access-Control-Allow-*` family, owned as a whole (spec §2.4):
    /// Private Network Access's `-Private-Network`, its successors and any
    /// name to come are the filter's too, never granted.
    pub const ALLOW_FAMILY: &str = "access-control-allow-";

    /// Whether the filter owns this response header (lower case, as Envoy
    /// gives names): every `Access-Control-Allow-*`, ACEH and ACMA. An
    /// upstream's copy is replaced or removed.
    pub fn is_owned(name: &str) -> bool {
        name.starts_with(ALLOW_FAMILY) || name == ACEH || name == ACMA
    }

    /// An owned name as a `'static` string when it is one the filter sets,
    /// so the common upstream headers cost no copy.
    pub(crate) fn set_by_the_filter(name: &str) -> Option<&'static str> {
        [ACAO, ACAC, ACAM, ACAH, ACEH, ACMA]
            .into_iter()
            .find(|n| *n == name)
    }
}
