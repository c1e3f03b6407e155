//! Rules from the store (docs/spec.md §8), the module's side: one cache of store rules for the
//! whole process, owned by the configuration. A stream whose bucket is being read pauses and
//! leaves its scheduler with the cache; the main thread sends the reads (callouts of the
//! configuration, which no stream's end cancels), hands each answer to the cache and commits
//! the scheduler of every stream that waited for it. The core decides everything else.

use crate::host::{ConfigHost, ConfigScheduler, FilterHost, FilterScheduler, Headers};
use crate::metrics::Metrics;
use bucket_cors_core::{Lookup, ReadAnswer, RulesCache, RulesSource, Stream};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

/// The configuration's event: reads are queued.
const SEND_READS: u64 = 1;
/// A paused stream's event: the read it waited for ended.
const READ_ENDED: u64 = 1;

/// The cache's clock: monotonic milliseconds since the process first asked.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A lock whose holder panicked still guards consistent data: the cache is changed only by
/// its own methods, which do not panic halfway (and the hooks' guard catches any panic).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A paused stream's scheduler, shared between the stream and the cache; the stream empties it
/// when it goes, under the lock every commit takes, so nothing commits to a deleted scheduler.
type Slot = Arc<Mutex<Option<FilterScheduler>>>;

/// How the cache wakes a stream that waits for a read.
pub struct Waker(Slot);

impl Waker {
    fn wake(&self) {
        if let Some(scheduler) = &*lock(&self.0) {
            scheduler.commit(READ_ENDED);
        }
    }
}

/// The cache and the reads out, under one lock.
struct Reads {
    cache: RulesCache<Waker>,
    /// The bucket of each callout out, by callout id.
    sent: HashMap<u64, Box<str>>,
}

/// The process's store rules: the cache, and the means to read.
pub struct Store {
    source: RulesSource,
    reads: Mutex<Reads>,
    scheduler: ConfigScheduler,
}

impl Store {
    /// `None` (logged) when Envoy gives the configuration no scheduler.
    pub fn new(source: &RulesSource, host: &ConfigHost) -> Option<Store> {
        let Some(scheduler) = host.scheduler() else {
            log::error!("Envoy gave no configuration scheduler: rules_source cannot read");
            return None;
        };
        Some(Store {
            source: source.clone(),
            reads: Mutex::new(Reads {
                cache: RulesCache::new(source),
                sent: HashMap::new(),
            }),
            scheduler,
        })
    }

    /// A stream's lookup of `bucket` (worker thread): when it must wait, `pause` gives the
    /// cache its waker; when the queue of reads stops being empty, the main thread is asked to
    /// send them (it sends every queued read when it runs).
    pub fn lookup(
        &self,
        bucket: &str,
        pause: &mut Pause,
        host: &FilterHost,
        metrics: Option<&Metrics>,
    ) -> Lookup {
        let (lookup, queued) = {
            let mut reads = lock(&self.reads);
            // A queue already holding reads has its event committed already.
            let was_queued = reads.cache.has_reads();
            let lookup = reads.cache.lookup(
                bucket,
                now_ms(),
                || pause.waker(host),
                |counter| {
                    if let Some(metrics) = metrics {
                        metrics.increment(host, counter);
                    }
                },
            );
            (lookup, !was_queued && reads.cache.has_reads())
        };
        if queued {
            self.scheduler.commit(SEND_READS);
        }
        lookup
    }

    /// Sends every queued read (main thread, the configuration's scheduled hook).
    pub fn send_reads(&self, host: &ConfigHost, metrics: Option<&Metrics>) {
        let timeout_ms = u64::from(self.source.timeout_ms);
        loop {
            // The lock is released before the callout: Envoy may answer it inline.
            let Some(bucket) = lock(&self.reads).cache.next_read() else {
                return;
            };
            let path = RulesSource::read_path(&bucket);
            let headers = [
                (":method", "GET"),
                (":path", path.as_str()),
                (":authority", &*self.source.authority),
            ];
            match host.http_callout(&self.source.cluster, &headers, timeout_ms) {
                Ok(id) => {
                    lock(&self.reads).sent.insert(id, bucket);
                }
                Err(code) => {
                    log::debug!(
                        "Envoy refused the read of bucket {bucket:?} on cluster {:?}: {code:?}",
                        self.source.cluster
                    );
                    self.answer(host, metrics, &bucket, ReadAnswer::Failed);
                }
            }
        }
    }

    /// A callout's end (main thread): `answer` is its status and body, `None` when it ended
    /// without a response. A timeout is Envoy's 504, which the cache counts as a failed read.
    pub fn callout_done(
        &self,
        host: &ConfigHost,
        metrics: Option<&Metrics>,
        id: u64,
        answer: Option<(u32, Vec<u8>)>,
    ) {
        let Some(bucket) = lock(&self.reads).sent.remove(&id) else {
            return;
        };
        let answer = match &answer {
            Some((status, body)) => ReadAnswer::Status(*status, body),
            None => ReadAnswer::Failed,
        };
        self.answer(host, metrics, &bucket, answer);
    }

    /// Gives the cache `bucket`'s answer and wakes the streams that waited for it.
    fn answer(
        &self,
        host: &ConfigHost,
        metrics: Option<&Metrics>,
        bucket: &str,
        answer: ReadAnswer<'_>,
    ) {
        let waiters = lock(&self.reads)
            .cache
            .answered(bucket, answer, now_ms(), |counter| {
                if let Some(metrics) = metrics {
                    metrics.increment_on_config(host, counter);
                }
            });
        for waiter in waiters {
            waiter.wake();
        }
    }

    /// The response to a request forwarded by `stream`: a change of a bucket's rules the
    /// store accepted drops its cached answer (spec §8).
    pub fn on_response(&self, stream: &Stream, headers: &Headers<'_>) {
        if let Some(bucket) = stream.changed_bucket(headers.pairs()) {
            lock(&self.reads).cache.forget(bucket);
        }
    }
}

/// What a stream remembers of its pause.
#[derive(Default)]
pub struct Pause {
    /// The stream's scheduler, made the first time it waits.
    slot: Option<Slot>,
    /// Paused until the bucket's read ends.
    pub waiting: bool,
    /// Paused until the whole body of a `PUT ?cors` has arrived.
    pub reading_body: bool,
    /// Envoy has passed the request's end (headers or body).
    pub ended: bool,
}

impl Pause {
    /// The waker the cache keeps while this stream waits.
    fn waker(&mut self, host: &FilterHost) -> Waker {
        let slot = self.slot.get_or_insert_with(|| {
            let scheduler = host.scheduler();
            if scheduler.is_none() {
                log::warn!("Envoy gave no stream scheduler: the paused request cannot resume");
            }
            Arc::new(Mutex::new(scheduler))
        });
        Waker(Arc::clone(slot))
    }
}

impl Drop for Pause {
    /// The stream goes: its scheduler is deleted under the lock wakers commit under.
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            *lock(slot) = None;
        }
    }
}
