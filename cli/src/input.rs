//! Reading a file argument, `-` meaning standard input.

use std::io::Read;

/// The name to print for a file argument.
pub fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// The bytes of `path`, or of standard input for `-`.
pub fn read(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

/// The first byte that is not a byte-order mark or whitespace.
pub fn first_significant(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// What a file given to `check` holds (README, "The `bucket-cors` tool";
/// docs/spec.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bucket's rules document in S3 or OSS XML: it starts with `<`.
    XmlDocument,
    /// The AWS CLI's JSON rules document: an object with `CORSRules` at its
    /// top, which a plugin configuration never has.
    JsonDocument,
    /// Anything else: a plugin configuration (JSON).
    Config,
}

/// Tells the kinds apart. A JSON file that does not parse is a
/// configuration, whose reading reports why.
pub fn kind(bytes: &[u8]) -> Kind {
    /// Only the top-level key that tells the kinds apart.
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(rename = "CORSRules")]
        rules: Option<serde::de::IgnoredAny>,
    }
    match first_significant(bytes) {
        Some(b'<') => Kind::XmlDocument,
        Some(b'{') if serde_json::from_slice::<Top>(bytes).is_ok_and(|t| t.rules.is_some()) => {
            Kind::JsonDocument
        }
        _ => Kind::Config,
    }
}
