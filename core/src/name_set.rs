//! A set of exact names (origins, header names) as one sorted boxed slice:
//! a rule lists a handful, where a hash set would hold a table of empty
//! slots for each; a look-up is a binary search, a few compares.

/// Sorted, deduplicated names.
#[derive(Debug, Default)]
pub(crate) struct NameSet(Box<[Box<str>]>);

impl NameSet {
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| (**n).cmp(name)).is_ok()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|n| &**n)
    }
}

impl From<Vec<Box<str>>> for NameSet {
    fn from(mut names: Vec<Box<str>>) -> Self {
        names.sort_unstable();
        names.dedup();
        NameSet(names.into_boxed_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_exactly_the_names_it_was_given() {
        let s = NameSet::from(Vec::from(["b", "a", "c", "a", "ab"].map(Box::from)));
        for n in ["a", "ab", "b", "c"] {
            assert!(s.contains(n), "{n}");
        }
        for n in ["", "abc", "A", "d", "aa"] {
            assert!(!s.contains(n), "{n}");
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), ["a", "ab", "b", "c"]);
        assert!(!NameSet::default().contains("a"));
    }
}
