//! The bucket names of a compiled configuration, compact: every name in one
//! arena, an end offset and a policy index per bucket, and an open-addressing
//! table of bucket indices. About 16 bytes per bucket beyond its name, where
//! a hash map of `String` to `Arc` costs a node, a heap string and a pointer
//! each; a look-up hashes the name once and compares one or two names, with
//! no allocation.

use std::hash::BuildHasher;

/// Bucket name → index of its compiled configuration.
#[derive(Debug, Default)]
pub(crate) struct BucketTable {
    names: Box<str>,
    /// `ends[i]`: where name `i` ends in `names` (it starts where `i - 1` ends).
    ends: Box<[u32]>,
    /// `targets[i]`: the configuration of bucket `i`.
    targets: Box<[u32]>,
    /// Bucket index + 1 per slot, 0 for an empty slot; a power of two, at
    /// most half full, so a probe sequence ends quickly.
    slots: Box<[u32]>,
}

/// The hasher: keys come from the configuration and requests only look up,
/// so a fixed seed is safe (no HashDoS) and keeps builds reproducible.
fn hash(name: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x6275_636b_6574_7321).hash_one(name)
}

impl BucketTable {
    /// Builds the table from names laid end to end. `Err` lists each name
    /// listed again after its first time.
    pub(crate) fn new(
        names: String,
        ends: Vec<u32>,
        targets: Vec<u32>,
    ) -> Result<BucketTable, Vec<String>> {
        let mut table = BucketTable {
            names: names.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            targets: targets.into_boxed_slice(),
            slots: Box::new([]),
        };
        let capacity = (table.ends.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![0u32; capacity].into_boxed_slice();
        let mask = capacity - 1;
        let mut repeated = Vec::new();
        for i in 0..table.ends.len() {
            let name = table.name(i);
            let mut slot = hash(name) as usize & mask;
            loop {
                match slots[slot] {
                    0 => {
                        // `i + 1` fits: there are fewer than 2^32 buckets (the reader checked).
                        slots[slot] = i as u32 + 1;
                        break;
                    }
                    taken if table.name(taken as usize - 1) == name => {
                        repeated.push(name.to_owned());
                        break;
                    }
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        table.slots = slots;
        if repeated.is_empty() {
            Ok(table)
        } else {
            Err(repeated)
        }
    }

    fn name(&self, i: usize) -> &str {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        self.names
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    /// The configuration index of `name`, if it is listed.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = hash(name) as usize & mask;
        loop {
            match self.slots[slot] {
                0 => return None,
                i if self.name(i as usize - 1) == name => {
                    return self.targets.get(i as usize - 1).copied();
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every bucket and its configuration index, in the configuration's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        (0..self.ends.len()).map(|i| {
            (
                self.name(i),
                self.targets.get(i).copied().unwrap_or(u32::MAX),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str]) -> Result<BucketTable, Vec<String>> {
        let mut arena = String::new();
        let mut ends = Vec::new();
        for n in names {
            arena.push_str(n);
            ends.push(arena.len() as u32);
        }
        let targets = (0..names.len() as u32).map(|i| i * 10).collect();
        BucketTable::new(arena, ends, targets)
    }

    #[test]
    fn every_name_finds_its_target_and_nothing_else_is_found() {
        let names: Vec<String> = (0..5000).map(|i| format!("bucket-{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let t = table(&refs).unwrap();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.get(n), Some(i as u32 * 10), "{n}");
        }
        for n in ["bucket-5000", "bucket-", "", "bucket-00", "Bucket-1"] {
            assert_eq!(t.get(n), None, "{n}");
        }
        assert_eq!(t.len(), 5000);
    }

    #[test]
    fn names_that_are_prefixes_of_each_other_stay_apart() {
        let t = table(&["a", "ab", "abc", "b"]).unwrap();
        assert_eq!(t.get("a"), Some(0));
        assert_eq!(t.get("ab"), Some(10));
        assert_eq!(t.get("abc"), Some(20));
        assert_eq!(t.get("b"), Some(30));
        assert_eq!(t.get("abcd"), None);
    }

    #[test]
    fn a_name_listed_again_is_reported_each_time() {
        assert_eq!(
            table(&["a", "b", "a", "c", "b", "a"]).err(),
            Some(vec!["a".to_string(), "b".into(), "a".into()])
        );
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        let t = table(&[]).unwrap();
        assert_eq!(t.get("a"), None);
        assert_eq!(BucketTable::default().get("a"), None);
    }
}
