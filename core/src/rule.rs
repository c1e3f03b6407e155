//! One compiled `CORSRule` and the one check of a request against it, used
//! by both `decide` and `explain`.

use crate::header_names::{BadRequestHeaders, HeaderMatcher, RequestedHeaders};
use crate::method::MethodSet;
use crate::origin::{OriginMatch, OriginMatcher};
use crate::request::Single;
use std::sync::Arc;

/// One compiled `CORSRule`: its origins, and the rest of it shared with
/// every rule that writes the rest alike (configurations generated for many
/// buckets differ mostly in their origins).
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) origins: OriginMatcher,
    pub(crate) terms: Arc<RuleTerms>,
}

/// A rule's `ID`, methods and headers, with its constant header values
/// pre-rendered; held once for every rule that writes them alike.
#[derive(Debug)]
pub(crate) struct RuleTerms {
    pub(crate) id: Option<Box<str>>,
    pub(crate) methods: MethodSet,
    pub(crate) headers: HeaderMatcher,
    /// `AllowedMethod` joined with `, `.
    pub(crate) allow_methods: Box<str>,
    /// `ExposeHeader` joined with `, `, if any.
    pub(crate) expose_headers: Option<Box<str>>,
    /// `MaxAgeSeconds` as text, if set.
    pub(crate) max_age: Option<Box<str>>,
}

/// The first condition of a rule a request fails (spec §3.4, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss<'h> {
    Origin,
    Method,
    /// The first requested header no `AllowedHeader` matches.
    Header(&'h str),
    /// The requested-header list itself is refused (spec §5).
    HeaderList(BadRequestHeaders),
}

/// A preflight's requested headers, parsed once for every rule.
pub(crate) type Requested = Result<RequestedHeaders, BadRequestHeaders>;

impl Rule {
    /// Whether this rule matches: the Origin (`parsed`, lower case, when well
    /// formed), then `method`, then, for a preflight, every requested header.
    /// Several method lines (a preflight's ACRM) match no method (spec §6),
    /// so such a request still gets as far as its Origin takes it.
    pub(crate) fn check<'h>(
        &self,
        parsed: Option<&str>,
        method: Single<'_>,
        requested: Option<&'h Requested>,
    ) -> Result<OriginMatch, Miss<'h>> {
        let matched = self.origins.matches(parsed).ok_or(Miss::Origin)?;
        match method {
            Single::One(m) if self.terms.methods.contains(m) => {}
            _ => return Err(Miss::Method),
        }
        match requested {
            None => Ok(matched),
            Some(Err(bad)) => Err(Miss::HeaderList(*bad)),
            Some(Ok(names)) => match names.names().find(|h| !self.terms.headers.allows(h)) {
                Some(h) => Err(Miss::Header(h)),
                None => Ok(matched),
            },
        }
    }
}
