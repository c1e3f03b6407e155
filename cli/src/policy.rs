//! The tool's reading of a configuration or a rules document: the filter's
//! own parser, plus the Public Suffix List that the filter leaves out for
//! size (docs/spec.md §1), so `check` also refuses wildcards such as
//! `https://*.co.uk`.

use bucket_cors_core::{ConfigErrors, Policy, RulesDocument, StoreRules};

/// Parses and validates `bytes` as the filter does, judging wildcard origins
/// against the Public Suffix List too.
pub fn compile(bytes: &[u8]) -> Result<Policy, ConfigErrors> {
    Policy::from_json_checked(bytes, Some(is_public_suffix))
}

/// Reads and compiles a bucket's rules document in S3 or OSS XML
/// (docs/spec.md §7) as the filter does, judging wildcard origins against
/// the Public Suffix List too.
pub fn compile_xml(bytes: &[u8]) -> Result<StoreRules, ConfigErrors> {
    StoreRules::from_xml(bytes, Some(is_public_suffix))
}

/// [`compile_xml`] for the AWS CLI's JSON form of the document.
pub fn compile_s3_json(bytes: &[u8]) -> Result<StoreRules, ConfigErrors> {
    RulesDocument::from_s3_json(bytes)?.compile(Some(is_public_suffix))
}

/// A name with no registrable domain is a public suffix alone (`co.uk`,
/// `github.io`); private entries of the list count, since anyone can
/// register under them too.
fn is_public_suffix(host: &[u8]) -> bool {
    psl::domain(host).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes_are_told_from_domains() {
        for suffix in ["com", "co.uk", "github.io", "s3.amazonaws.com"] {
            assert!(is_public_suffix(suffix.as_bytes()), "{suffix}");
        }
        for domain in ["example.com", "a.example.com", "bbc.co.uk", "corp.internal"] {
            assert!(!is_public_suffix(domain.as_bytes()), "{domain}");
        }
    }
}
