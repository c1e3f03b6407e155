//! The load: requests of the mix over keep-alive connections, one thread per connection,
//! every answer checked.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_spec::names;
use bucket_cors_testkit::{http, Conn};

use crate::mix::{problems, Kind};

/// How many unexpected answers are quoted in the summary.
pub const MAX_EXAMPLES: usize = 5;

/// What a load sent and saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Requests sent (answered or not).
    pub done: u64,
    pub unexpected: u64,
    /// Answers with `Connection: close` (Envoy ended a keep-alive connection).
    pub reconnects: u64,
    /// The first few unexpected answers, in words.
    pub examples: Vec<String>,
    /// Answered requests by kind (index in the kinds table).
    pub per_kind: Vec<u64>,
    /// Whether the deadline stopped the load before every request was sent.
    pub timed_out: bool,
}

impl Tally {
    fn new(kinds: usize) -> Tally {
        Tally {
            per_kind: vec![0; kinds],
            ..Tally::default()
        }
    }

    fn unexpected(&mut self, what: String) {
        self.unexpected += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.done += other.done;
        self.unexpected += other.unexpected;
        self.reconnects += other.reconnects;
        self.timed_out |= other.timed_out;
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
        for (a, b) in self.per_kind.iter_mut().zip(other.per_kind) {
            *a += b;
        }
    }
}

/// Where and how much to send.
pub struct Plan<'a> {
    pub addr: SocketAddr,
    pub kinds: &'a [Kind],
    pub mix: &'a [usize],
    pub connections: usize,
    pub deadline: Instant,
}

/// Sends requests `0..total` of the mix, split over the plan's connections; calls
/// `progress(elapsed)` about every `every` while they run. Returns the merged tally and the
/// duration.
pub fn run(
    plan: &Plan,
    total: u64,
    every: Duration,
    mut progress: impl FnMut(Duration),
) -> (Tally, Duration) {
    let n = plan.connections.max(1) as u64;
    let t0 = Instant::now();
    let mut tally = Tally::new(plan.kinds.len());
    thread::scope(|scope| {
        let mut start = 0;
        let workers: Vec<_> = (0..n)
            .map(|c| {
                let count = total / n + u64::from(c < total % n);
                let range = start..start + count;
                start += count;
                scope.spawn(move || connection(plan, range))
            })
            .collect();
        let mut last = t0;
        while !workers.iter().all(|w| w.is_finished()) {
            thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= every {
                last = Instant::now();
                progress(t0.elapsed());
            }
        }
        for w in workers {
            match w.join() {
                Ok(t) => tally.merge(t),
                Err(_) => tally.unexpected("a load thread panicked".into()),
            }
        }
    });
    (tally, t0.elapsed())
}

/// Requests `range` of the mix on one keep-alive connection (a new one whenever Envoy closes
/// it or it fails).
fn connection(plan: &Plan, range: std::ops::Range<u64>) -> Tally {
    let mut tally = Tally::new(plan.kinds.len());
    let mut conn: Option<Conn> = None;
    for i in range {
        if Instant::now() > plan.deadline {
            tally.timed_out = true;
            break;
        }
        let k = plan.mix[(i % plan.mix.len() as u64) as usize];
        let kind = &plan.kinds[k];
        tally.done += 1;
        let sent = match conn.as_mut() {
            Some(c) => c.send_bytes(&kind.request, false),
            None => Conn::open(plan.addr).and_then(|c| {
                let c = conn.insert(c);
                c.send_bytes(&kind.request, false)
            }),
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                conn = None;
                tally.unexpected(format!("#{i} {}: {e}", kind.label));
                continue;
            }
        };
        if http::wants_close(&resp.headers) {
            tally.reconnects += 1;
            conn = None;
        }
        let found = problems(
            kind,
            resp.status,
            &resp.header_all(names::ACAO),
            &resp.header_all(names::VARY),
        );
        if !found.is_empty() {
            tally.unexpected(format!("#{i} {}: {}", kind.label, found.join("; ")));
        }
        tally.per_kind[k] += 1;
    }
    tally
}
