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
    /// The granted headers of an actual response, in the order the spec
    /// lists them (never ACAH).
    pub(crate) fn headers<'a>(&'a self, rule: &'a Rule) -> impl Iterator<Item = Line<'a>> {
        lines(Cow::Borrowed(&self.allow_origin), rule, String::new())
    }

    /// The granted headers of a preflight answer, in the order the spec
    /// lists them: the grant's echoed Origin and the normalised ACRH
    /// (`requested`, joined) move into the lines instead of being copied.
    pub(crate) fn into_preflight_headers(
        self,
        rule: &Rule,
        requested: String,
    ) -> impl Iterator<Item = Line<'_>> {
        lines(Cow::Owned(self.allow_origin), rule, requested)
    }
}

fn lines<'a>(
    origin: Cow<'a, AllowOrigin>,
    rule: &'a Rule,
    requested: String,
) -> impl Iterator<Item = Line<'a>> {
    let credentials = allow_credentials(&origin);
    [
        Some(allow_origin(origin)),
        credentials,
        Some(allow_methods(rule)),
        allow_headers(requested),
        expose_headers(rule),
        max_age(rule),
    ]
    .into_iter()
    .flatten()
}

/// ACAO: `*`, or the Origin echoed.
fn allow_origin(origin: Cow<'_, AllowOrigin>) -> Line<'_> {
    let value = match origin {
        Cow::Borrowed(AllowOrigin::Echo(o)) => Cow::Borrowed(o.as_str()),
        Cow::Owned(AllowOrigin::Echo(o)) => Cow::Owned(o),
        Cow::Borrowed(AllowOrigin::Any) | Cow::Owned(AllowOrigin::Any) => Cow::Borrowed("*"),
    };
    (names::ACAO, value)
}

/// ACAC: `true` exactly when the Origin is echoed, never with `*`.
fn allow_credentials(origin: &AllowOrigin) -> Option<Line<'static>> {
    matches!(origin, AllowOrigin::Echo(_)).then_some((names::ACAC, Cow::Borrowed("true")))
}

/// ACAM: the rule's methods, rendered at configure time.
fn allow_methods(rule: &Rule) -> Line<'_> {
    (names::ACAM, Cow::Borrowed(&rule.terms.allow_methods))
}

/// ACAH: the requested headers, normalised and joined; absent when none
/// were asked for.
fn allow_headers(requested: String) -> Option<Line<'static>> {
    (!requested.is_empty()).then_some((names::ACAH, Cow::Owned(requested)))
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
