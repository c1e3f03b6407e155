//! Why the filter decided what it did, and the counter each reason
//! increments: the one list of counter names the glue defines in Envoy.

use std::fmt;

/// Why the filter decided what it did; each kind is at most one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No bucket, or a bucket without CORS configuration (not a preflight).
    NotConfigured,
    PreflightAllowed,
    PreflightRefused(Refusal),
    /// An actual request whose Origin a rule matched.
    ActualMatched,
    /// An actual request with an Origin that no rule matched.
    ActualUnmatched,
    /// A request of a configured bucket without Origin: only `Vary`.
    NoOrigin,
    /// A bucket's rules could not be read from the store (spec §8).
    RulesUnavailable,
    /// A `PUT ?cors` body the filter refused (spec §8).
    PutRefused,
}

/// Why a preflight was refused: the furthest any rule got (ordered so the
/// larger is further).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// The bucket has no CORS configuration.
    NoConfiguration,
    /// No rule matches the Origin.
    Origin,
    /// Rules match the Origin, none allows the requested method.
    Method,
    /// Rules match the Origin and method, none allows every requested header
    /// (or the header list is malformed or too large).
    Header,
}

/// Every counter the filter defines in its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    PreflightAllowed,
    PreflightRefusedNoConfiguration,
    PreflightRefusedOrigin,
    PreflightRefusedMethod,
    PreflightRefusedHeader,
    ActualMatched,
    ActualUnmatched,
    /// A plugin configuration was refused.
    ConfigInvalid,
    /// Spec §8: a read of a bucket's rules sent to the store.
    StoreRead,
    StoreReadFailed,
    StoreDocumentRefused,
    /// A request served from cached rules whose refresh failed.
    StoreStale,
    /// A request decided while its bucket's rules are unknown.
    StoreUnavailable,
    StoreEvicted,
    StorePutRefused,
}

impl Counter {
    /// Every counter, each once; a glue may keep its host ids in this order
    /// and index them with [`Counter::index`].
    pub const ALL: [Counter; 15] = [
        Counter::PreflightAllowed,
        Counter::PreflightRefusedNoConfiguration,
        Counter::PreflightRefusedOrigin,
        Counter::PreflightRefusedMethod,
        Counter::PreflightRefusedHeader,
        Counter::ActualMatched,
        Counter::ActualUnmatched,
        Counter::ConfigInvalid,
        Counter::StoreRead,
        Counter::StoreReadFailed,
        Counter::StoreDocumentRefused,
        Counter::StoreStale,
        Counter::StoreUnavailable,
        Counter::StoreEvicted,
        Counter::StorePutRefused,
    ];

    /// The counter's name in the host (Envoy's `/stats` adds its prefix).
    pub const fn name(self) -> &'static str {
        match self {
            Counter::PreflightAllowed => "bucket_cors.preflight.allowed",
            Counter::PreflightRefusedNoConfiguration => {
                "bucket_cors.preflight.refused.no_configuration"
            }
            Counter::PreflightRefusedOrigin => "bucket_cors.preflight.refused.origin",
            Counter::PreflightRefusedMethod => "bucket_cors.preflight.refused.method",
            Counter::PreflightRefusedHeader => "bucket_cors.preflight.refused.header",
            Counter::ActualMatched => "bucket_cors.actual.matched",
            Counter::ActualUnmatched => "bucket_cors.actual.unmatched",
            Counter::ConfigInvalid => "bucket_cors.config.invalid",
            Counter::StoreRead => "bucket_cors.store.read",
            Counter::StoreReadFailed => "bucket_cors.store.read_failed",
            Counter::StoreDocumentRefused => "bucket_cors.store.document_refused",
            Counter::StoreStale => "bucket_cors.store.stale",
            Counter::StoreUnavailable => "bucket_cors.store.unavailable",
            Counter::StoreEvicted => "bucket_cors.store.evicted",
            Counter::StorePutRefused => "bucket_cors.store.put_refused",
        }
    }

    /// This counter's position in [`Counter::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A host's id of every counter, at [`Counter::index`]: the define loop and
/// the warnings both glues write, with the host call passed in.
#[derive(Debug)]
pub struct CounterIds<T>([T; Counter::ALL.len()]);

impl<T: Copy + Default> CounterIds<T> {
    /// Defines every counter through `define` (one host call each); `None`,
    /// logged, when the host refuses one: counting is then off.
    pub fn define<E: fmt::Debug>(
        mut define: impl FnMut(&'static str) -> Result<T, E>,
    ) -> Option<Self> {
        let mut ids = [T::default(); Counter::ALL.len()];
        for counter in Counter::ALL {
            match define(counter.name()) {
                Ok(id) => ids[counter.index()] = id,
                Err(status) => {
                    log::warn!(
                        "cannot define metric {}: {status:?}; counting is off",
                        counter.name()
                    );
                    return None;
                }
            }
        }
        Some(CounterIds(ids))
    }

    /// Adds one to `counter` through `increment` (the host call, given the
    /// counter's id); a refusal is logged, never fatal.
    pub fn increment<E: fmt::Debug>(
        &self,
        counter: Counter,
        increment: impl FnOnce(T) -> Result<(), E>,
    ) {
        if let Some(&id) = self.0.get(counter.index()) {
            if let Err(status) = increment(id) {
                log::warn!("cannot increment metric {}: {status:?}", counter.name());
            }
        }
    }
}

impl Outcome {
    /// The counter this outcome increments, if any.
    pub fn counter(self) -> Option<Counter> {
        match self {
            Outcome::PreflightAllowed => Some(Counter::PreflightAllowed),
            Outcome::PreflightRefused(Refusal::NoConfiguration) => {
                Some(Counter::PreflightRefusedNoConfiguration)
            }
            Outcome::PreflightRefused(Refusal::Origin) => Some(Counter::PreflightRefusedOrigin),
            Outcome::PreflightRefused(Refusal::Method) => Some(Counter::PreflightRefusedMethod),
            Outcome::PreflightRefused(Refusal::Header) => Some(Counter::PreflightRefusedHeader),
            Outcome::ActualMatched => Some(Counter::ActualMatched),
            Outcome::ActualUnmatched => Some(Counter::ActualUnmatched),
            Outcome::RulesUnavailable => Some(Counter::StoreUnavailable),
            Outcome::PutRefused => Some(Counter::StorePutRefused),
            Outcome::NotConfigured | Outcome::NoOrigin => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_sits_at_its_own_index_in_all() {
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{c:?}");
        }
    }

    #[test]
    fn counter_ids_are_defined_by_name_and_incremented_by_their_own_id() {
        let ids = CounterIds::define(|name| {
            let at = Counter::ALL.iter().position(|c| c.name() == name);
            at.map(|i| i * 10).ok_or("unknown")
        })
        .unwrap();
        for c in Counter::ALL {
            let mut got = None;
            ids.increment(c, |id| {
                got = Some(id);
                Ok::<(), ()>(())
            });
            assert_eq!(got, Some(c.index() * 10), "{c:?}");
        }
        // A refused counter turns counting off as a whole.
        let refused = CounterIds::<u32>::define(|name| {
            if name == Counter::ActualMatched.name() {
                Err("refused")
            } else {
                Ok(1)
            }
        });
        assert!(refused.is_none());
    }
}
