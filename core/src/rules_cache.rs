//! The cache of rules read from the store (docs/spec.md §8): one per Wasm
//! VM, one per process for the module. It decides when a bucket is read,
//! who waits for the read, and what an answer means; the glue only sends
//! the reads it hands out and brings back their answers.
//!
//! `W` is how the glue wakes a request that waits for a read (a context id,
//! a scheduler): the cache keeps it and gives it back when the read ends.

use crate::compile::BucketCors;
use crate::outcome::Counter;
use crate::rules_source::{is_s3_bucket_name, RulesSource};
use foldhash::fast::{FixedState, RandomState};
use lru::LruCache;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::Arc;

/// What the store holds for a bucket, as far as the cache knows.
#[derive(Debug, Clone)]
enum Known {
    /// Never answered.
    Unknown,
    /// No rules (404): the bucket gets `default`.
    NoRules,
    /// The bucket's compiled rules (none when its document was refused).
    Rules(Arc<BucketCors>),
}

/// One cached bucket.
#[derive(Debug)]
struct Slot<W> {
    known: Known,
    /// No read starts before this time (ms): the answer's refresh, or a
    /// failed read's retry.
    next_read_at: u64,
    /// A read of the bucket is queued or outstanding.
    reading: bool,
    /// The last refresh failed: `known` is older than `refresh_seconds`.
    stale: bool,
    /// The bucket was dropped (`PUT`/`DELETE ?cors`) while a read was out:
    /// its answer may predate the change, so the next request reads again.
    reread: bool,
    /// The hash of the last refused document, logged once.
    refused_digest: Option<u64>,
    /// Requests paused until the bucket's first answer.
    waiters: Vec<W>,
}

/// A bucket's rules for the decision.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Decide now: the store's rules, or `default` when it holds none.
    Known(KnownRules),
    /// Pause the request; the glue wakes it when the read ends.
    Wait,
    /// The rules cannot be known now (a failed first read, or too many
    /// reads out): the answer of spec §8 for unknown rules.
    Unavailable,
}

/// The store's rules of one bucket (opaque to the glue).
#[derive(Debug, Clone)]
pub struct KnownRules(pub(crate) Option<Arc<BucketCors>>);

/// How a read ended, as the glue saw it.
#[derive(Debug, Clone, Copy)]
pub enum ReadAnswer<'a> {
    /// The store answered with this status and body.
    Status(u32, &'a [u8]),
    /// No answer: timeout, reset, refused connection, or the host refused
    /// to send the read.
    Failed,
}

/// At most one warning line a second about failed reads; the next line
/// says how many were left out.
#[derive(Debug, Default)]
struct LogGate {
    last_ms: Option<u64>,
    left_out: u64,
}

impl LogGate {
    /// `Some(n)`: write the line now, `n` lines having been left out.
    fn admit(&mut self, now_ms: u64) -> Option<u64> {
        match self.last_ms {
            Some(last) if now_ms.saturating_sub(last) < 1_000 => {
                self.left_out += 1;
                None
            }
            _ => {
                self.last_ms = Some(now_ms);
                Some(std::mem::take(&mut self.left_out))
            }
        }
    }
}

/// Every bucket read from the store, least recently used evicted first.
pub struct RulesCache<W> {
    source: RulesSource,
    slots: LruCache<Box<str>, Slot<W>, RandomState>,
    /// Reads handed out or queued and not yet answered.
    in_flight: usize,
    /// Reads to send, oldest first.
    queue: VecDeque<Box<str>>,
    failures: LogGate,
    /// The configuration of a bucket whose document was refused: no rules.
    no_rules: Arc<BucketCors>,
}

impl<W> RulesCache<W> {
    pub fn new(source: &RulesSource) -> Self {
        RulesCache {
            source: source.clone(),
            slots: LruCache::unbounded_with_hasher(RandomState::default()),
            in_flight: 0,
            queue: VecDeque::new(),
            failures: LogGate::default(),
            no_rules: Arc::new(BucketCors::no_rules()),
        }
    }

    /// The number of cached buckets.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// `bucket`'s rules at `now_ms`. Starts a read when the bucket is not
    /// cached, or its answer is older than `refresh_seconds` (served
    /// meanwhile), or its last read failed `retry_seconds` ago; `waiter()`
    /// is kept when the request must wait. Counts reads queued, evictions and
    /// stale answers through `count`.
    pub fn lookup(
        &mut self,
        bucket: &str,
        now_ms: u64,
        waiter: impl FnOnce() -> W,
        mut count: impl FnMut(Counter),
    ) -> Lookup {
        if !is_s3_bucket_name(bucket) {
            return Lookup::Known(KnownRules(None));
        }
        let has_room = self.in_flight < self.source.max_reads_in_flight;
        let Some(slot) = self.slots.get_mut(bucket) else {
            if !has_room {
                return Lookup::Unavailable;
            }
            self.make_room(&mut count);
            let slot = Slot {
                known: Known::Unknown,
                next_read_at: now_ms,
                reading: true,
                stale: false,
                reread: false,
                refused_digest: None,
                waiters: vec![waiter()],
            };
            self.slots.push(bucket.into(), slot);
            self.queue_read(bucket, &mut count);
            return Lookup::Wait;
        };
        let start = !slot.reading && now_ms >= slot.next_read_at && has_room;
        if start {
            slot.reading = true;
        }
        let lookup = match &slot.known {
            Known::Unknown if slot.reading => {
                slot.waiters.push(waiter());
                Lookup::Wait
            }
            Known::Unknown => Lookup::Unavailable,
            Known::NoRules => Lookup::Known(KnownRules(None)),
            Known::Rules(cors) => Lookup::Known(KnownRules(Some(Arc::clone(cors)))),
        };
        if slot.stale && matches!(lookup, Lookup::Known(_)) {
            count(Counter::StoreStale);
        }
        if start {
            self.queue_read(bucket, &mut count);
        }
        lookup
    }

    /// The next read to send: the bucket whose rules to `GET` (spec §8).
    /// The glue sends it to [`RulesSource::cluster`] and brings the result
    /// back to [`RulesCache::answered`], a read it could not send too.
    pub fn next_read(&mut self) -> Option<Box<str>> {
        self.queue.pop_front()
    }

    /// Whether reads wait to be sent.
    pub fn has_reads(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Takes `bucket`'s queued read for the caller to send at once: a
    /// request that waits for it sends it itself, sparing the tick's delay.
    pub fn take_read(&mut self, bucket: &str) -> bool {
        match self.queue.iter().position(|b| &**b == bucket) {
            Some(at) => self.queue.remove(at).is_some(),
            None => false,
        }
    }

    /// A read handed out and never answered (its sender went away, and the
    /// host dropped the read with it): queued again for someone else.
    pub fn requeue(&mut self, bucket: &str) {
        if self.slots.peek(bucket).is_some_and(|slot| slot.reading) {
            self.queue.push_back(bucket.into());
        }
    }

    /// Records how `bucket`'s read ended at `now_ms`; returns the requests
    /// that waited for it, to be woken (each looks its bucket up again).
    /// Counts failed reads and refused documents through `count`, and logs
    /// them (spec §8).
    pub fn answered(
        &mut self,
        bucket: &str,
        answer: ReadAnswer<'_>,
        now_ms: u64,
        mut count: impl FnMut(Counter),
    ) -> Vec<W> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let (refresh_ms, retry_ms) = (self.source.refresh_ms, self.source.retry_ms);
        let outcome = self.judge(answer);
        let Some(slot) = self.slots.peek_mut(bucket) else {
            return Vec::new();
        };
        slot.reading = false;
        let known = match outcome {
            Judged::Known(known) => {
                slot.refused_digest = None;
                Some(known)
            }
            Judged::Refused(errors, digest) => {
                count(Counter::StoreDocumentRefused);
                if slot.refused_digest != Some(digest) {
                    log::warn!(
                        "bucket {bucket:?}: its rules document in the store is refused, so the bucket gets no CORS grants; errors ({}): {}",
                        errors.len(),
                        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
                    );
                }
                slot.refused_digest = Some(digest);
                Some(Known::Rules(Arc::clone(&self.no_rules)))
            }
            Judged::Failed(why) => {
                count(Counter::StoreReadFailed);
                slot.stale = !matches!(slot.known, Known::Unknown);
                slot.next_read_at = now_ms.saturating_add(retry_ms);
                if let Some(left_out) = self.failures.admit(now_ms) {
                    let kept = if slot.stale {
                        "its cached rules keep serving"
                    } else {
                        "its rules are unknown"
                    };
                    log::warn!(
                        "bucket {bucket:?}: reading its rules from cluster {:?} failed ({why}); {kept}, read again in {} s{}",
                        self.source.cluster,
                        retry_ms / 1_000,
                        if left_out > 0 {
                            format!(" ({left_out} such lines left out)")
                        } else {
                            String::new()
                        }
                    );
                }
                None
            }
        };
        if let Some(known) = known {
            slot.known = known;
            slot.stale = false;
            slot.next_read_at = now_ms.saturating_add(refresh_ms);
        }
        if std::mem::take(&mut slot.reread) {
            slot.next_read_at = now_ms;
        }
        std::mem::take(&mut slot.waiters)
    }

    /// Drops `bucket`'s answer (its rules were changed through the
    /// gateway): its next request reads the store again (spec §8).
    pub fn forget(&mut self, bucket: &str) {
        match self.slots.peek_mut(bucket) {
            Some(slot) if slot.reading => slot.reread = true,
            Some(_) => {
                self.slots.pop(bucket);
            }
            None => {}
        }
    }

    fn queue_read(&mut self, bucket: &str, count: &mut impl FnMut(Counter)) {
        self.in_flight += 1;
        self.queue.push_back(bucket.into());
        count(Counter::StoreRead);
    }

    /// Evicts least recently used buckets until one more fits. A bucket
    /// being read is kept (its waiters need its answer): there are at most
    /// `max_reads_in_flight` of those, so the cache exceeds `max_buckets`
    /// by at most that many.
    fn make_room(&mut self, count: &mut impl FnMut(Counter)) {
        let mut reading = Vec::new();
        while self.slots.len() >= self.source.max_buckets {
            let Some((name, slot)) = self.slots.pop_lru() else {
                break;
            };
            if slot.reading {
                reading.push((name, slot));
            } else {
                count(Counter::StoreEvicted);
            }
        }
        for (name, slot) in reading {
            self.slots.push(name, slot);
        }
    }

    /// What an answer means (spec §8).
    fn judge(&self, answer: ReadAnswer<'_>) -> Judged {
        let (status, body) = match answer {
            ReadAnswer::Failed => return Judged::Failed("no answer".into()),
            ReadAnswer::Status(status, body) => (status, body),
        };
        match status {
            200 => match self.source.read_document(body) {
                Ok(rules) => Judged::Known(Known::Rules(Arc::new(rules.into_cors()))),
                // Hashed only when refused: to log each refused document once.
                Err(errors) => Judged::Refused(errors.0, FixedState::with_seed(0).hash_one(body)),
            },
            404 => Judged::Known(Known::NoRules),
            other => Judged::Failed(format!("status {other}")),
        }
    }
}

/// An answer, judged.
enum Judged {
    Known(Known),
    Refused(Vec<crate::error::ConfigError>, u64),
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[u8] = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";

    fn source(json: &str) -> RulesSource {
        let raw: crate::rules_source::RawRulesSource = serde_json::from_str(json).unwrap();
        let mut errors = Vec::new();
        let s = raw.compile(&mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        s
    }

    /// A cache with refresh 10 s, retry 2 s, and what it counted.
    fn cache(extra: &str) -> RulesCache<u32> {
        RulesCache::new(&source(&format!(
            r#"{{"cluster": "store", "refresh_seconds": 10, "retry_seconds": 2{extra}}}"#
        )))
    }

    fn look(
        c: &mut RulesCache<u32>,
        bucket: &str,
        now: u64,
        id: u32,
        counted: &mut Vec<Counter>,
    ) -> &'static str {
        match c.lookup(bucket, now, || id, |x| counted.push(x)) {
            Lookup::Known(KnownRules(Some(_))) => "rules",
            Lookup::Known(KnownRules(None)) => "default",
            Lookup::Wait => "wait",
            Lookup::Unavailable => "unavailable",
        }
    }

    #[test]
    fn first_requests_share_one_read_and_are_woken_by_its_answer() {
        let mut c = cache("");
        let mut n = Vec::new();
        assert_eq!(look(&mut c, "photos", 0, 1, &mut n), "wait");
        assert_eq!(look(&mut c, "photos", 1, 2, &mut n), "wait");
        assert_eq!(n, [Counter::StoreRead], "one read for both");
        assert_eq!(c.next_read().as_deref(), Some("photos"));
        assert_eq!(c.next_read(), None);
        let woken = c.answered("photos", ReadAnswer::Status(200, RULES), 5, |x| n.push(x));
        assert_eq!(woken, [1, 2]);
        assert_eq!(look(&mut c, "photos", 6, 3, &mut n), "rules");
    }

    #[test]
    fn an_answer_is_used_for_refresh_seconds_then_served_while_one_read_refreshes_it() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        c.answered("photos", ReadAnswer::Status(200, RULES), 0, |_| {});
        assert_eq!(look(&mut c, "photos", 9_999, 2, &mut n), "rules");
        assert!(!c.has_reads());
        assert_eq!(
            look(&mut c, "photos", 10_000, 3, &mut n),
            "rules",
            "served from the cache"
        );
        assert_eq!(look(&mut c, "photos", 10_001, 4, &mut n), "rules");
        assert_eq!(c.next_read().as_deref(), Some("photos"));
        assert_eq!(c.next_read(), None, "one background read");
    }

    #[test]
    fn no_rules_and_no_such_bucket_get_default_and_are_cached() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "empty", 0, 1, &mut n);
        c.next_read();
        c.answered(
            "empty",
            ReadAnswer::Status(404, b"<Error><Code>NoSuchCORSConfiguration</Code></Error>"),
            0,
            |_| {},
        );
        assert_eq!(look(&mut c, "empty", 1, 2, &mut n), "default");
        assert!(!c.has_reads());
    }

    #[test]
    fn a_failed_first_read_leaves_the_rules_unknown_until_a_retry_succeeds() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        let woken = c.answered("photos", ReadAnswer::Status(503, b""), 0, |x| n.push(x));
        assert_eq!(woken, [1], "woken to be answered as unavailable");
        assert_eq!(look(&mut c, "photos", 1_999, 2, &mut n), "unavailable");
        assert_eq!(look(&mut c, "photos", 2_000, 3, &mut n), "wait", "retried");
        c.next_read();
        c.answered("photos", ReadAnswer::Status(200, RULES), 2_100, |_| {});
        assert_eq!(look(&mut c, "photos", 2_200, 4, &mut n), "rules");
        assert_eq!(
            n,
            [
                Counter::StoreRead,
                Counter::StoreReadFailed,
                Counter::StoreRead
            ]
        );
    }

    #[test]
    fn a_failed_refresh_keeps_serving_the_cached_rules_counted_stale() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        c.answered("photos", ReadAnswer::Status(200, RULES), 0, |_| {});
        look(&mut c, "photos", 10_000, 2, &mut n);
        c.next_read();
        c.answered("photos", ReadAnswer::Failed, 10_001, |x| n.push(x));
        n.clear();
        assert_eq!(look(&mut c, "photos", 10_002, 3, &mut n), "rules");
        assert_eq!(n, [Counter::StoreStale]);
        assert!(!c.has_reads(), "not read again before retry_seconds");
        n.clear();
        assert_eq!(look(&mut c, "photos", 12_001, 4, &mut n), "rules");
        assert_eq!(n, [Counter::StoreStale, Counter::StoreRead]);
    }

    #[test]
    fn a_refused_document_gives_the_bucket_no_rules_and_is_counted() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        let bad = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://*example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
        c.answered("photos", ReadAnswer::Status(200, bad), 0, |x| n.push(x));
        assert_eq!(n.last(), Some(&Counter::StoreDocumentRefused));
        assert_eq!(
            look(&mut c, "photos", 1, 2, &mut n),
            "rules",
            "a configuration with no rules"
        );
        let mut c = cache(r#", "max_document_bytes": 16"#);
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        n.clear();
        c.answered("photos", ReadAnswer::Status(200, RULES), 0, |x| n.push(x));
        assert_eq!(
            n,
            [Counter::StoreDocumentRefused],
            "larger than max_document_bytes"
        );
    }

    #[test]
    fn names_s3_refuses_are_never_read() {
        let mut c = cache("");
        let mut n = Vec::new();
        assert_eq!(look(&mut c, "a_b", 0, 1, &mut n), "default");
        assert!(n.is_empty() && c.is_empty());
    }

    #[test]
    fn reads_in_flight_are_capped_and_the_least_recently_used_bucket_is_evicted() {
        let mut c = cache(r#", "max_buckets": 2, "max_reads_in_flight": 1"#);
        let mut n = Vec::new();
        assert_eq!(look(&mut c, "b-1", 0, 1, &mut n), "wait");
        assert_eq!(
            look(&mut c, "b-2", 0, 2, &mut n),
            "unavailable",
            "one read out already"
        );
        c.next_read();
        c.answered("b-1", ReadAnswer::Status(404, b""), 0, |_| {});
        for (i, b) in ["b-2", "b-3"].iter().enumerate() {
            look(&mut c, b, 1, 3, &mut n);
            c.next_read();
            c.answered(b, ReadAnswer::Status(404, b""), 1, |_| {});
            assert!(c.len() <= 2, "after {i}");
        }
        assert_eq!(n.iter().filter(|x| **x == Counter::StoreEvicted).count(), 1);
        assert_eq!(
            look(&mut c, "b-1", 2, 4, &mut n),
            "wait",
            "b-1 was evicted: read again"
        );
    }

    #[test]
    fn a_bucket_being_read_is_never_evicted() {
        let mut c = cache(r#", "max_buckets": 1"#);
        let mut n = Vec::new();
        look(&mut c, "b-1", 0, 1, &mut n);
        look(&mut c, "b-2", 0, 2, &mut n);
        assert_eq!(c.len(), 2, "b-1's read is out: kept beyond max_buckets");
        assert_eq!(
            c.answered("b-1", ReadAnswer::Status(404, b""), 0, |_| {}),
            [1]
        );
    }

    #[test]
    fn a_change_through_the_gateway_drops_the_answer_even_while_a_read_is_out() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        c.next_read();
        c.answered("photos", ReadAnswer::Status(200, RULES), 0, |_| {});
        c.forget("photos");
        assert_eq!(look(&mut c, "photos", 1, 2, &mut n), "wait");
        c.forget("photos");
        c.next_read();
        c.answered("photos", ReadAnswer::Status(404, b""), 2, |_| {});
        assert_eq!(look(&mut c, "photos", 3, 3, &mut n), "default");
        assert_eq!(
            c.next_read().as_deref(),
            Some("photos"),
            "the answer may predate the change: read again"
        );
    }

    #[test]
    fn a_waiting_request_may_send_its_read_itself_and_an_abandoned_read_is_queued_again() {
        let mut c = cache("");
        let mut n = Vec::new();
        look(&mut c, "photos", 0, 1, &mut n);
        look(&mut c, "other", 0, 2, &mut n);
        assert!(c.take_read("photos"));
        assert!(!c.take_read("photos"), "taken once");
        assert_eq!(c.next_read().as_deref(), Some("other"));
        assert_eq!(c.next_read(), None);
        c.requeue("photos");
        assert_eq!(c.next_read().as_deref(), Some("photos"));
        assert_eq!(
            c.answered("photos", ReadAnswer::Status(200, RULES), 1, |_| {}),
            [1]
        );
        c.requeue("photos");
        assert_eq!(c.next_read(), None, "answered: nothing to send again");
    }

    #[test]
    fn failed_reads_are_logged_at_most_once_a_second() {
        let mut gate = LogGate::default();
        assert_eq!(gate.admit(0), Some(0));
        assert_eq!(gate.admit(500), None);
        assert_eq!(gate.admit(999), None);
        assert_eq!(gate.admit(1_000), Some(2));
    }
}
