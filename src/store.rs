//! The cache of store rules of one VM (docs/spec.md §8) and the host calls
//! around it. A request waiting for its bucket's first read sends it itself
//! (no delay); the root context sends every other read (background
//! refreshes, and a read whose sender went away: the host drops a context's
//! reads with it) on a one-millisecond tick armed when one is queued. Whoever
//! gets the answer wakes the requests that waited.

use crate::changes::ChangeFeed;
use crate::metrics::Metrics;
use bucket_cors_core::{Counter, Lookup, Policy, ReadAnswer, RulesCache, RulesSource};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

/// A request paused for its bucket's rules: what waking it needs.
pub type Waiter = Rc<RefCell<bucket_cors_core::Stream>>;

pub struct Store {
    /// Where and how reads go.
    source: RulesSource,
    cache: RefCell<RulesCache<u32>>,
    /// Paused requests by context id.
    waiting: RefCell<HashMap<u32, Waiter>>,
    /// Reads sent, by the host's token.
    reads: RefCell<HashMap<u32, Box<str>>>,
    /// The read each waiting request sent itself, by context id: the host
    /// drops it if the request goes away, and someone else must send it.
    own_reads: RefCell<HashMap<u32, u32>>,
    tick_armed: Cell<bool>,
    /// Changes through this gateway, to and from the other VMs.
    changes: Option<Rc<ChangeFeed>>,
}

/// The tick that sends queued reads: the shortest the host has.
const TICK: Duration = Duration::from_millis(1);

impl Store {
    pub fn new(source: &RulesSource, changes: Option<Rc<ChangeFeed>>) -> Self {
        Store {
            source: source.clone(),
            cache: RefCell::new(RulesCache::new(source)),
            waiting: RefCell::new(HashMap::new()),
            reads: RefCell::new(HashMap::new()),
            own_reads: RefCell::new(HashMap::new()),
            tick_armed: Cell::new(false),
            changes,
        }
    }

    /// The cache's answer for `bucket`, `context_id` (the host's current
    /// context) kept as the waiter. A request that waits for its bucket's
    /// first read sends it itself, at once; any other queued read (a
    /// background refresh) goes on the root context's tick.
    pub fn lookup(&self, bucket: &str, context_id: u32, metrics: Option<&Metrics>) -> Lookup {
        let mut cache = self.cache.borrow_mut();
        let lookup = cache.lookup(bucket, now_ms(), || context_id, |c| count(metrics, c));
        let own = matches!(lookup, Lookup::Wait) && cache.take_read(bucket);
        drop(cache);
        if own {
            match send(&self.source, bucket) {
                Ok(token) => {
                    self.reads.borrow_mut().insert(token, bucket.into());
                    self.own_reads.borrow_mut().insert(context_id, token);
                }
                Err(()) => self.cache.borrow_mut().requeue(bucket),
            }
        }
        self.arm_tick();
        lookup
    }

    /// Arms the root context's tick when reads are queued.
    fn arm_tick(&self) {
        if self.cache.borrow().has_reads() && !self.tick_armed.replace(true) {
            if let Err(status) = hostcalls::set_tick_period(TICK) {
                log::warn!("cannot arm the tick that sends rules reads: {status:?}");
                self.tick_armed.set(false);
            }
        }
    }

    /// Keeps a paused request until its bucket's read ends.
    pub fn wait(&self, context_id: u32, stream: Waiter) {
        self.waiting.borrow_mut().insert(context_id, stream);
    }

    /// A request ended: nothing to wake; a read it sent itself and that is
    /// still out dies with it in the host, so it is queued again for the
    /// root context.
    pub fn forget_waiter(&self, context_id: u32) {
        self.waiting.borrow_mut().remove(&context_id);
        let Some(token) = self.own_reads.borrow_mut().remove(&context_id) else {
            return;
        };
        if let Some(bucket) = self.reads.borrow_mut().remove(&token) {
            self.cache.borrow_mut().requeue(&bucket);
            self.arm_tick();
        }
    }

    /// Drops `bucket`'s cached answer in every VM of this Envoy: its rules
    /// changed through this gateway.
    pub fn changed(&self, bucket: &str) {
        self.cache.borrow_mut().forget(bucket);
        if let Some(changes) = &self.changes {
            changes.publish(bucket);
        }
    }

    /// The root context's queue is ready: another VM saw buckets change.
    pub fn on_queue_ready(&self, queue: u32) {
        if let Some(changes) = &self.changes {
            let mut cache = self.cache.borrow_mut();
            for bucket in changes.take(queue) {
                cache.forget(&bucket);
            }
        }
    }

    /// The root context's tick: sends every queued read, then disarms.
    /// Returns the requests to wake (reads the host refused to send).
    pub fn send_reads(&self, metrics: Option<&Metrics>) -> Vec<(u32, Waiter)> {
        let mut woken = Vec::new();
        loop {
            let Some(bucket) = self.cache.borrow_mut().next_read() else {
                break;
            };
            match send(&self.source, &bucket) {
                Ok(token) => {
                    self.reads.borrow_mut().insert(token, bucket);
                }
                Err(()) => woken.extend(self.answered(&bucket, ReadAnswer::Failed, metrics)),
            }
        }
        self.tick_armed.set(false);
        if let Err(status) = hostcalls::set_tick_period(Duration::ZERO) {
            log::warn!("cannot disarm the tick: {status:?}");
        }
        woken
    }

    /// A read's answer (the root context's `on_http_call_response`):
    /// returns the requests to wake.
    pub fn on_read_answer(
        &self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        metrics: Option<&Metrics>,
    ) -> Vec<(u32, Waiter)> {
        let Some(bucket) = self.reads.borrow_mut().remove(&token) else {
            return Vec::new();
        };
        self.own_reads.borrow_mut().retain(|_, t| *t != token);
        // The host gives no headers when the read failed (reset, timeout).
        let status = (num_headers > 0)
            .then(|| hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, ":status"))
            .and_then(|s| s.ok().flatten())
            .and_then(|s| {
                std::str::from_utf8(&s)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
            });
        let body = match status {
            Some(_) if body_size > 0 => {
                match hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size) {
                    Ok(body) => body.unwrap_or_default(),
                    Err(status) => {
                        log::warn!(
                            "cannot read the answer of bucket {bucket:?}'s rules: {status:?}"
                        );
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        let answer = match status {
            Some(status) => ReadAnswer::Status(status, &body),
            None => ReadAnswer::Failed,
        };
        self.answered(&bucket, answer, metrics)
    }

    fn answered(
        &self,
        bucket: &str,
        answer: ReadAnswer<'_>,
        metrics: Option<&Metrics>,
    ) -> Vec<(u32, Waiter)> {
        let ids = self
            .cache
            .borrow_mut()
            .answered(bucket, answer, now_ms(), |c| count(metrics, c));
        let mut waiting = self.waiting.borrow_mut();
        ids.into_iter()
            .filter_map(|id| waiting.remove(&id).map(|w| (id, w)))
            .collect()
    }
}

/// Sends the read of `bucket`'s rules (spec §8) from the host's current
/// context; the host answers that context. A refusal is logged.
fn send(source: &RulesSource, bucket: &str) -> Result<u32, ()> {
    let path = RulesSource::read_path(bucket);
    let headers = vec![
        (":method", "GET"),
        (":path", path.as_str()),
        (":authority", &*source.authority),
    ];
    let timeout = Duration::from_millis(u64::from(source.timeout_ms));
    hostcalls::dispatch_http_call(&source.cluster, headers, None, vec![], timeout).map_err(
        |status| {
            log::warn!(
                "cannot send the read of bucket {bucket:?}'s rules to cluster {:?}: {status:?}",
                source.cluster
            );
        },
    )
}

/// The policy a stream decides with, and its VM's cache when the policy
/// reads rules from the store.
pub struct Worker {
    pub policy: Policy,
    pub store: Option<Store>,
    pub metrics: Option<Rc<Metrics>>,
}

impl Worker {
    /// `changes` is the root context's feed, registered once per VM.
    pub fn new(
        policy: Policy,
        metrics: Option<Rc<Metrics>>,
        changes: impl FnOnce() -> Option<Rc<ChangeFeed>>,
    ) -> Self {
        let store = policy
            .rules_source()
            .map(|source| Store::new(source, changes()));
        Worker {
            policy,
            store,
            metrics,
        }
    }

    pub fn count(&self, counter: Counter) {
        count(self.metrics.as_deref(), counter);
    }
}

fn count(metrics: Option<&Metrics>, counter: Counter) {
    if let Some(metrics) = metrics {
        metrics.increment(counter);
    }
}

/// The host's clock in milliseconds (the cache only compares them).
fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
