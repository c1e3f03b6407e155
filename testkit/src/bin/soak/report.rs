//! The soak's verdict and its printed summary.

use std::collections::BTreeMap;
use std::time::Duration;

use bucket_cors_spec::counters;

use crate::load::{Tally, MAX_EXAMPLES};
use crate::mix::{Category, Kind};

/// Everything measured, for the summary and the verdict.
pub struct Outcome<'a> {
    pub kinds: &'a [Kind],
    pub warmup: Tally,
    pub run: Tally,
    pub elapsed: Duration,
    /// Envoy's VmRSS (kB) after the warm-up.
    pub rss_before: u64,
    /// VmRSS samples (kB) taken during the run.
    pub samples: Vec<u64>,
    pub after: After,
    pub max_growth: f64,
}

/// Envoy once the run is over.
pub struct After {
    pub alive: bool,
    /// `/ready` answered `LIVE`.
    pub ready: bool,
    /// Wasm crash and critical lines of Envoy's log.
    pub crashes: Vec<String>,
    /// VmRSS (kB); 0 when Envoy is gone.
    pub rss: u64,
    /// The filter's counters from `/stats` (name without prefix → value).
    pub counters: BTreeMap<String, u64>,
}

impl Outcome<'_> {
    pub fn unexpected(&self) -> u64 {
        self.warmup.unexpected + self.run.unexpected
    }

    pub fn growth_percent(&self) -> f64 {
        if self.rss_before == 0 {
            return 0.0;
        }
        (self.after.rss as f64 - self.rss_before as f64) * 100.0 / self.rss_before as f64
    }

    /// Each counter of the spec: (name, value in `/stats`, value the requests sent call for).
    pub fn counter_rows(&self) -> Vec<(&'static str, u64, u64)> {
        counters::ALL
            .iter()
            .map(|&c| {
                let want = self
                    .kinds
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.counter == Some(c))
                    .map(|(i, _)| self.warmup.per_kind[i] + self.run.per_kind[i])
                    .sum();
                (c, self.after.counters.get(c).copied().unwrap_or(0), want)
            })
            .collect()
    }

    pub fn counters_ok(&self) -> bool {
        self.after.alive && self.counter_rows().iter().all(|(_, got, want)| got == want)
    }

    pub fn passed(&self) -> bool {
        self.unexpected() == 0
            && !self.run.timed_out
            && !self.warmup.timed_out
            && self.after.alive
            && self.after.ready
            && self.after.crashes.is_empty()
            && self.counters_ok()
            && self.growth_percent() < self.max_growth
    }

    pub fn print(&self) {
        let (w, r) = (&self.warmup, &self.run);
        let secs = self.elapsed.as_secs_f64();
        println!("\nbucket-cors soak summary");
        println!(
            "  requests        {} (+ {} warm-up){}",
            thousands(r.done),
            thousands(w.done),
            if r.timed_out || w.timed_out {
                "  STOPPED at --max-seconds"
            } else {
                ""
            }
        );
        println!("  duration        {secs:.1} s");
        println!(
            "  throughput      {} req/s",
            thousands((r.done as f64 / secs.max(1e-9)).round() as u64)
        );
        println!(
            "  unexpected      {} (warm-up {}, run {})",
            self.unexpected(),
            w.unexpected,
            r.unexpected
        );
        for e in w.examples.iter().chain(&r.examples).take(MAX_EXAMPLES) {
            println!("                  {e}");
        }
        println!(
            "  reconnects      {} (Envoy closed a keep-alive connection)",
            w.reconnects + r.reconnects
        );
        println!(
            "  Envoy RSS       after warm-up {}, at the end {}, growth {:+.3}% (limit {}%)",
            kib(self.rss_before),
            kib(self.after.rss),
            self.growth_percent(),
            self.max_growth
        );
        if let (Some(lo), Some(hi)) = (self.samples.iter().min(), self.samples.iter().max()) {
            println!(
                "  RSS during run  min {}, max {} ({} samples)",
                kib(*lo),
                kib(*hi),
                self.samples.len()
            );
        }
        println!(
            "  Envoy           {}, /ready {}, {} Wasm crash/critical log line(s)",
            if self.after.alive { "alive" } else { "DEAD" },
            if self.after.ready {
                "LIVE"
            } else {
                "NOT READY"
            },
            self.after.crashes.len()
        );
        for l in self.after.crashes.iter().take(5) {
            println!("                  {l}");
        }
        println!("  per kind (run)");
        for (k, n) in self.kinds.iter().zip(&r.per_kind) {
            println!("    {:>9}  {}", thousands(*n), k.label);
        }
        println!(
            "  filter counters (Envoy /stats, warm-up included): {}",
            if self.counters_ok() {
                "as sent"
            } else {
                "MISMATCH"
            }
        );
        for (name, got, want) in self.counter_rows() {
            let mark = if got == want {
                String::new()
            } else {
                format!("   (want {})", thousands(want))
            };
            println!("    {:>9}  {name}{mark}", thousands(got));
        }
        println!("\nsoak: {}", if self.passed() { "PASS" } else { "FAIL" });
    }
}

/// The mix's share of each category, e.g. `allowed 20%, refused 15%, ...`.
pub fn mix_shares(kinds: &[Kind], mix: &[usize]) -> String {
    Category::ALL
        .iter()
        .map(|&c| {
            let n = mix.iter().filter(|&&i| kinds[i].category == c).count();
            format!("{} {}%", c.label(), n * 100 / mix.len().max(1))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in kB as `102.7 MiB (105140 kB)`.
pub fn kib(k: u64) -> String {
    format!("{:.1} MiB ({k} kB)", k as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(20_000), "20,000");
    }
}
