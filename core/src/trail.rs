//! Where in the configuration a shape error happened. The readers note
//! nothing while all goes well: a [`Tracked`] value or list element adds its
//! key or index only when an error passes through it on its way out, so a
//! valid configuration of 100,000 buckets is read without recording a path
//! (tracking every key cost an allocation per key).

use serde::de::{DeserializeSeed, Deserializer};
use std::cell::Cell;

/// One step of a path: a map key, or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The path of the error being reported, innermost step first.
#[derive(Default)]
pub(crate) struct Trail(Cell<Vec<Segment>>);

impl Trail {
    fn push(&self, segment: Segment) {
        let mut path = self.0.take();
        path.push(segment);
        self.0.set(path);
    }

    /// A key whose own reading failed (an unknown field).
    pub(crate) fn key(&self, key: &str) {
        self.push(Segment::Key(key.to_owned()));
    }

    /// The path in the words the semantic errors use, outermost first:
    /// `buckets.photos.CORSRule[0].AllowedOrign` is
    /// `bucket "photos" rule 0 AllowedOrign`.
    pub(crate) fn describe(self) -> String {
        let mut path = self.0.into_inner();
        path.reverse();
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < path.len() {
            match (&path[i], path.get(i + 1)) {
                (Segment::Key(key), Some(Segment::Key(bucket))) if key == "buckets" => {
                    out.push(format!("bucket {bucket:?}"));
                    i += 2;
                    continue;
                }
                (Segment::Key(key), Some(Segment::Key(policy))) if key == "policies" => {
                    out.push(format!("policy {policy:?}"));
                    i += 2;
                    continue;
                }
                (Segment::Key(key), Some(Segment::Index(index)))
                    if key == "CORSRule" || key == "CORSRules" =>
                {
                    out.push(format!("rule {index}"));
                    i += 2;
                    continue;
                }
                (Segment::Key(key), Some(Segment::Index(index))) => {
                    out.push(format!("{key}[{index}]"));
                    i += 2;
                    continue;
                }
                (Segment::Key(key), _) => out.push(key.clone()),
                (Segment::Index(index), _) => out.push(format!("[{index}]")),
            }
            i += 1;
        }
        out.join(" ")
    }
}

/// A map value or a list element whose key or index joins the [`Trail`]
/// when reading it fails (and not when the document around it is malformed,
/// say a missing `:` before it, which belongs to the enclosing value).
pub(crate) struct Tracked<'t, 'k, S> {
    seed: S,
    trail: &'t Trail,
    step: Step<'k>,
}

#[derive(Clone, Copy)]
enum Step<'k> {
    Key(&'k str),
    Index(usize),
}

impl<'t, 'k, S> Tracked<'t, 'k, S> {
    /// The value of `key`.
    pub(crate) fn value(key: &'k str, trail: &'t Trail, seed: S) -> Self {
        Tracked {
            seed,
            trail,
            step: Step::Key(key),
        }
    }

    /// Element `index` of a list.
    pub(crate) fn element(index: usize, trail: &'t Trail, seed: S) -> Self {
        Tracked {
            seed,
            trail,
            step: Step::Index(index),
        }
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Tracked<'_, '_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        let Tracked { seed, trail, step } = self;
        seed.deserialize(deserializer).inspect_err(|_| {
            trail.push(match step {
                Step::Key(key) => Segment::Key(key.to_owned()),
                Step::Index(index) => Segment::Index(index),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[Segment]) -> String {
        let trail = Trail::default();
        for s in steps.iter().rev() {
            trail.push(s.clone());
        }
        trail.describe()
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn paths_read_as_the_semantic_errors_do() {
        use Segment::Index;
        assert_eq!(
            path(&[
                key("buckets"),
                key("photos"),
                key("CORSRule"),
                Index(0),
                key("AllowedOrign")
            ]),
            r#"bucket "photos" rule 0 AllowedOrign"#
        );
        assert_eq!(
            path(&[key("policies"), key("web"), key("CORSRules"), Index(2)]),
            r#"policy "web" rule 2"#
        );
        assert_eq!(
            path(&[
                key("default"),
                key("CORSRule"),
                Index(0),
                key("AllowedMethod"),
                Index(1)
            ]),
            "default rule 0 AllowedMethod[1]"
        );
        assert_eq!(path(&[key("endpoints"), Index(3)]), "endpoints[3]");
        assert_eq!(path(&[key("buckets")]), "buckets");
        assert_eq!(path(&[Index(1)]), "[1]");
        assert_eq!(path(&[]), "");
    }
}
