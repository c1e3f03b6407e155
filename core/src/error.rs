//! Configuration errors: each names where it is (bucket, rule index and ID,
//! field and value) and what is wrong, as a kind that tests and tools can
//! match; the message text is derived from the kind. All of them are
//! reported at once.

use std::fmt;

/// One problem in the plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: e.g. `bucket "photos" rule 0 (ID "web") AllowedOrigin[1] "https://*"`.
    pub at: String,
    pub kind: ErrorKind,
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The JSON is not of the configuration's shape (serde's own words).
    Shape(String),
    /// Bytes follow the configuration object.
    TrailingCharacters(String),
    /// An `endpoints` entry is not a bare lower-case host name.
    Endpoint,
    /// A `buckets` key is not a bucket name.
    BucketName,
    /// A bucket is listed twice (JSON would silently keep one of them).
    BucketListedTwice,
    /// A `policies` key is not a policy name.
    PolicyName,
    /// A bucket or `default` names a policy that `policies` does not have.
    UnknownPolicy(String),
    /// A CORS configuration with this many rules (allowed: 1 to 100).
    RuleCount(usize),
    /// `AllowedOrigin` is an empty list.
    NoOrigins,
    /// An `AllowedOrigin` entry is refused.
    Origin(OriginError),
    /// `AllowedMethod` is an empty list.
    NoMethods,
    /// An `AllowedMethod` entry is not one of the five methods.
    Method,
    /// An `AllowedHeader` entry is not a token with at most one `*`.
    AllowedHeader,
    /// An `ExposeHeader` entry is not a token without `*`.
    ExposeHeader,
    /// `MaxAgeSeconds` is out of range.
    MaxAge,
    /// `MaxAgeSeconds` is a fraction or written with an exponent.
    MaxAgeNotWhole,
    /// `MaxAgeSeconds` is `-0`, which JSON parsers read as a fraction.
    MaxAgeNegativeZero,
    /// `unmatched_preflight: forward` with `upstream_cors: strip`: the
    /// forwarded preflight's answer would lose its CORS headers.
    ForwardedPreflightStripped,
    /// A rules document of this many bytes, over the limit (spec §7).
    DocumentTooLarge(usize),
    /// A rules document that is not well-formed XML (or not UTF-8): the
    /// reader's words and where. Reported alone: nothing after it is read.
    Xml(String),
    /// The root element is not `<CORSConfiguration>`.
    NotCorsConfiguration,
    /// An element its parent does not have; the parent's name.
    UnknownElement(&'static str),
    /// An element inside a field that holds text; the element's name.
    ElementInText(String),
    /// Text beside the elements of `<CORSConfiguration>` or `<CORSRule>`.
    TextBesideElements,
    /// An element given twice where it is allowed once.
    GivenTwice,
    /// `ResponseVary` other than `true` or `false`.
    NotBool,
    /// A rules document read from the store, larger than
    /// `rules_source.max_document_bytes` (its size, the limit).
    DocumentLargerThan(usize, usize),
    /// A `rules_source` setting outside its range (low, high; spec §8).
    OutOfRange(u64, u64),
    /// `rules_source.cluster` or `.authority` empty or with whitespace.
    ClusterOrAuthority,
}

/// Why an `AllowedOrigin` entry is refused (spec §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginError {
    Empty,
    WhitespaceOrControl,
    /// The origin `null`.
    Null,
    /// Not `scheme://host[:port]`.
    NotAnOrigin,
    Scheme,
    /// A path, query, fragment or userinfo.
    PathOrUserinfo,
    Host,
    Port,
    /// The scheme's default port, written out (browsers never send it).
    DefaultPort(String),
    /// A port that browsers never send: a leading zero or above 65535.
    UnmatchablePort,
    /// A wildcard whose fixed labels name no domain: it reaches every host
    /// (empty), or every name anyone can register under this public suffix.
    TooBroad(String),
    /// A wildcard over an IP address (`https://*.1.1.1`, `http://[::1*]`):
    /// an address has no subdomains, so it reaches other owners' addresses.
    WildcardOverIpAddress,
    SeveralStars,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Shape(m) => f.write_str(m),
            ErrorKind::TrailingCharacters(m) => {
                write!(f, "trailing characters after the configuration: {m}")
            }
            ErrorKind::Endpoint => f.write_str(
                "is not a bare lower-case host name (no scheme, port, path or leading dot)",
            ),
            ErrorKind::BucketName => {
                f.write_str("is not a bucket name: 1 to 255 characters of a-z 0-9 . - _")
            }
            ErrorKind::BucketListedTwice => f.write_str(
                "is listed twice; JSON would keep one of them silently, so list each bucket once",
            ),
            ErrorKind::PolicyName => f.write_str(
                "is not a policy name: 1 to 255 characters of letters, digits, . - _",
            ),
            ErrorKind::UnknownPolicy(name) => write!(
                f,
                "names the policy {name:?}, which is not under policies"
            ),
            ErrorKind::RuleCount(n) => {
                write!(
                    f,
                    "has {n} rules; a configuration has 1 to {}",
                    crate::config::MAX_RULES
                )
            }
            ErrorKind::NoOrigins => f.write_str("is empty; at least one origin is required"),
            ErrorKind::Origin(e) => e.fmt(f),
            ErrorKind::NoMethods => f.write_str("is empty; at least one method is required"),
            ErrorKind::Method => write!(
                f,
                "is not one of {} (upper case)",
                crate::method::METHODS.join(", ")
            ),
            ErrorKind::AllowedHeader => {
                f.write_str("is not a header name (an RFC 9110 token) with at most one \"*\"")
            }
            ErrorKind::ExposeHeader => {
                f.write_str("is not a header name (an RFC 9110 token without \"*\")")
            }
            ErrorKind::MaxAge => {
                write!(f, "is out of range 0 to {}", crate::config::MAX_AGE_LIMIT)
            }
            ErrorKind::MaxAgeNotWhole => write!(
                f,
                "is not a whole number of seconds; write one from 0 to {}",
                crate::config::MAX_AGE_LIMIT
            ),
            ErrorKind::ForwardedPreflightStripped => f.write_str(
                "a forwarded preflight's answer would lose the upstream's CORS headers, which upstream_cors \"strip\" (the default) removes from every response; set \"upstream_cors\": \"pass\" to keep the backend's own CORS, or leave unmatched_preflight at \"reject\"",
            ),
            ErrorKind::MaxAgeNegativeZero => {
                f.write_str("is -0, which JSON reads as a fraction, not a whole number; write 0")
            }
            ErrorKind::DocumentTooLarge(n) => write!(
                f,
                "the document is {n} bytes; a rules document has at most {}",
                crate::document::MAX_DOCUMENT_BYTES
            ),
            ErrorKind::Xml(m) => write!(f, "not well-formed XML: {m}"),
            ErrorKind::NotCorsConfiguration => f.write_str(
                "is the root element; a rules document is a <CORSConfiguration> (PutBucketCors, GetBucketCors)",
            ),
            ErrorKind::UnknownElement(parent) => write!(
                f,
                "is not an element of <{parent}> (it has {})",
                crate::document_xml::children_of(parent)
            ),
            ErrorKind::ElementInText(name) => {
                write!(f, "holds the element <{name}>, where it holds text only")
            }
            ErrorKind::TextBesideElements => f.write_str("holds text beside its elements"),
            ErrorKind::GivenTwice => f.write_str("is given more than once; it is allowed once"),
            ErrorKind::NotBool => f.write_str("is not true or false"),
            ErrorKind::DocumentLargerThan(n, max) => write!(
                f,
                "the document is {n} bytes; rules_source.max_document_bytes is {max}"
            ),
            ErrorKind::OutOfRange(low, high) => write!(f, "is out of range {low} to {high}"),
            ErrorKind::ClusterOrAuthority => f.write_str(
                "is not an Envoy cluster or host name (empty, or with whitespace or control characters)",
            ),
        }
    }
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginError::Empty => f.write_str(
                "is empty; write an origin such as \"https://www.example.com\" or \"*\"",
            ),
            OriginError::WhitespaceOrControl => {
                f.write_str("contains whitespace or a control character")
            }
            OriginError::Null => f.write_str("the origin \"null\" is shared by sandboxed frames, files and redirects, so trusting it trusts everyone; it is refused"),
            OriginError::NotAnOrigin => f.write_str("is not of the form scheme://host[:port]"),
            OriginError::Scheme => f.write_str("has an invalid scheme"),
            OriginError::PathOrUserinfo => f.write_str(
                "has a path, query, fragment or userinfo; an origin is only scheme://host[:port]",
            ),
            OriginError::Host => f.write_str("has an invalid host (letters, digits, '-' and '.', or an IPv6 literal in brackets; Punycode for international names)"),
            OriginError::Port => f.write_str("has an invalid port (1 to 5 digits)"),
            OriginError::DefaultPort(port) => write!(
                f,
                "has the default port, which browsers never send; write it without \":{port}\""
            ),
            OriginError::UnmatchablePort => f.write_str(
                "has a port that browsers never send (a leading zero, or above 65535), so it could never match",
            ),
            OriginError::TooBroad(reach) if reach.is_empty() => f.write_str("would match every host, and a matched origin is echoed with credentials allowed; write \"*\" to allow every origin without credentials"),
            OriginError::TooBroad(reach) => write!(f, "would match hosts that anyone can register: the labels after the one holding \"*\" stop at the public suffix {reach:?} instead of naming a domain, and a matched origin is echoed with credentials allowed; name your domain (\"https://*.example.com\"), or write \"*\" to allow every origin without credentials"),
            OriginError::WildcardOverIpAddress => f.write_str("puts \"*\" over an IP address, which has no subdomains: the wildcard would match other owners' addresses (\"https://*.1.1.1\" matches \"https://8.1.1.1\"), and a matched origin is echoed with credentials allowed; list each address you mean (\"https://192.0.2.10\"), or write \"*\" to allow every origin without credentials"),
            OriginError::SeveralStars => {
                f.write_str("has more than one \"*\"; at most one is allowed")
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            self.kind.fmt(f)
        } else {
            write!(f, "{}: {}", self.at, self.kind)
        }
    }
}

/// Every problem found in one configuration; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
