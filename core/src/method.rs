//! `AllowedMethod`: the five methods OSS accepts, compared case-sensitively.

/// The methods a rule may allow, in OSS's order.
pub(crate) const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// A set of [`METHODS`] as a bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MethodSet(u8);

fn bit(method: &[u8]) -> Option<u8> {
    METHODS
        .iter()
        .position(|m| m.as_bytes() == method)
        .map(|i| 1 << i)
}

impl MethodSet {
    /// Adds `method`; false when it is not one of [`METHODS`] (exact case).
    pub(crate) fn insert(&mut self, method: &str) -> bool {
        match bit(method.as_bytes()) {
            Some(b) => {
                self.0 |= b;
                true
            }
            None => false,
        }
    }

    pub(crate) fn contains(&self, method: &[u8]) -> bool {
        bit(method).is_some_and(|b| self.0 & b != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_compare_case_sensitively() {
        let mut s = MethodSet::default();
        assert!(s.insert("PUT"));
        assert!(!s.insert("put"));
        assert!(!s.insert("PATCH"));
        assert!(s.contains(b"PUT"));
        assert!(!s.contains(b"put"));
        assert!(!s.contains(b"GET"));
        assert!(!s.contains(b"OPTIONS"));
    }
}
