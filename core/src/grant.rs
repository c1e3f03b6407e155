//! The headers a matched rule grants (spec §3.6, §4.2), rendered in this one
//! place for both the preflight answer and the actual response: one small
//! function per header.

use crate::names;
use crate::rule::Rule;
use std::borrow::Cow;

/// The `Access-Control-Allow-Origin` a matched rule grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowOrigin {
    /// `*`, without credentials.
    Any,
    /// The request's Origin, byte for byte, with `ACAC: true`.
    Echo(String),
}

/// The rule that won and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Index of the winning rule in the bucket's `CORSRule` list.
    pub rule: usize,
    pub allow_origin: AllowOrigin,
}

/// One response header line: a name the filter owns and its value.
pub(crate) type Line<'a> = (&'static str, Cow<'a, str>);

impl Grant {
    /// The granted headers in the order the spec lists them. `requested` is
    /// the preflight's normalised ACRH (`None` on an actual response, which
    /// never carries ACAH).
    pub(crate) fn headers<'a>(
        &'a self,
        rule: &'a Rule,
        requested: Option<&[String]>,
    ) -> impl Iterator<Item = Line<'a>> {
        [
            Some(allow_origin(&self.allow_origin)),
            allow_credentials(&self.allow_origin),
            Some(allow_methods(rule)),
            requested.and_then(allow_headers),
            expose_headers(rule),
            max_age(rule),
        ]
        .into_iter()
        .flatten()
    }
}

/// ACAO: `*`, or the Origin echoed.
fn allow_origin(origin: &AllowOrigin) -> Line<'_> {
    match origin {
        AllowOrigin::Any => (names::ACAO, Cow::Borrowed("*")),
        AllowOrigin::Echo(o) => (names::ACAO, Cow::Borrowed(o)),
    }
}

/// ACAC: `true` exactly when the Origin is echoed, never with `*`.
fn allow_credentials(origin: &AllowOrigin) -> Option<Line<'static>> {
    matches!(origin, AllowOrigin::Echo(_)).then_some((names::ACAC, Cow::Borrowed("true")))
}

/// ACAM: the rule's methods, rendered at configure time.
fn allow_methods(rule: &Rule) -> Line<'_> {
    (names::ACAM, Cow::Borrowed(&rule.terms.allow_methods))
}

/// ACAH: the requested headers, normalised; absent when none were asked for.
fn allow_headers(requested: &[String]) -> Option<Line<'static>> {
    (!requested.is_empty()).then(|| (names::ACAH, Cow::Owned(requested.join(", "))))
}

/// ACEH: the rule's `ExposeHeader`, if any.
fn expose_headers(rule: &Rule) -> Option<Line<'_>> {
    rule.terms
        .expose_headers
        .as_deref()
        .map(|v| (names::ACEH, Cow::Borrowed(v)))
}

/// ACMA: `MaxAgeSeconds`, when set.
fn max_age(rule: &Rule) -> Option<Line<'_>> {
    rule.terms
        .max_age
        .as_deref()
        .map(|v| (names::ACMA, Cow::Borrowed(v)))
}
