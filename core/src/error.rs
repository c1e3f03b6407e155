//! Configuration errors: each names where it is (bucket, rule index and ID,
//! field and value) and why; all of them are reported at once.

use std::fmt;

/// One problem in the plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: e.g. `bucket "photos" rule 0 (ID "web") AllowedOrigin[1] "https://*"`.
    pub at: String,
    /// Why, and what to write instead when that is known.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
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

/// Renders a serde path (`buckets.photos.CORSRule[0].AllowedOrign`) in the
/// words the semantic errors use (`bucket "photos" rule 0 AllowedOrign`).
pub(crate) fn describe_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        match (segments[i], segments.get(i + 1)) {
            (Segment::Map { key }, Some(Segment::Map { key: bucket })) if key == "buckets" => {
                out.push(format!("bucket {bucket:?}"));
                i += 2;
                continue;
            }
            (Segment::Map { key }, Some(Segment::Seq { index }))
                if key == "CORSRule" || key == "CORSRules" =>
            {
                out.push(format!("rule {index}"));
                i += 2;
                continue;
            }
            (Segment::Map { key }, Some(Segment::Seq { index })) => {
                out.push(format!("{key}[{index}]"));
                i += 2;
                continue;
            }
            (Segment::Map { key }, _) => out.push(key.clone()),
            (Segment::Seq { index }, _) => out.push(format!("[{index}]")),
            (Segment::Enum { variant }, _) => out.push(variant.clone()),
            (Segment::Unknown, _) => {}
        }
        i += 1;
    }
    out.join(" ")
}
