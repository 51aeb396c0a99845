//! Render-time statistics: a lock-free histogram the render threads write and
//! `worklet bench` reads. Any thread.

use std::sync::atomic::{AtomicU64, Ordering};

/// Histogram resolution: one bucket per microsecond up to this many.
const BUCKETS: usize = 20_000;

/// Time spent per quantum (tasks, `process()`, microtasks), in microseconds.
#[derive(Debug)]
pub struct RenderStats {
    buckets: Box<[AtomicU64]>,
    max_ns: AtomicU64,
    count: AtomicU64,
}

impl Default for RenderStats {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

/// Percentiles of the recorded times, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl RenderStats {
    /// Records one quantum's time (render thread; no allocation).
    pub fn record(&self, elapsed_ns: u64) {
        let bucket = ((elapsed_ns / 1000) as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.max_ns.fetch_max(elapsed_ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Quanta recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Forgets everything recorded so far.
    pub fn reset(&self) {
        for bucket in self.buckets.iter() {
            bucket.store(0, Ordering::Relaxed);
        }
        self.max_ns.store(0, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
    }

    /// Moves what was recorded into `buckets` (index, count) and returns the
    /// largest time, leaving this empty (an engine process's report).
    pub(crate) fn drain(&self, buckets: &mut Vec<(usize, u64)>) -> u64 {
        if self.count.swap(0, Ordering::Relaxed) == 0 {
            return 0;
        }
        for (index, bucket) in self.buckets.iter().enumerate() {
            if bucket.load(Ordering::Relaxed) != 0 {
                buckets.push((index, bucket.swap(0, Ordering::Relaxed)));
            }
        }
        self.max_ns.swap(0, Ordering::Relaxed)
    }

    /// Adds what another recorder drained.
    pub(crate) fn add(&self, buckets: &[(usize, u64)], max_ns: u64) {
        for &(index, count) in buckets {
            if let Some(bucket) = self.buckets.get(index) {
                bucket.fetch_add(count, Ordering::Relaxed);
                self.count.fetch_add(count, Ordering::Relaxed);
            }
        }
        self.max_ns.fetch_max(max_ns, Ordering::Relaxed);
    }

    /// Percentiles so far (bucket midpoints, 1 µs resolution).
    pub fn percentiles(&self) -> Percentiles {
        Self::combined(&[self])
    }

    /// Percentiles over several recorders together.
    pub fn combined(all: &[&Self]) -> Percentiles {
        let mut counts = vec![0u64; BUCKETS];
        for stats in all {
            for (sum, bucket) in counts.iter_mut().zip(stats.buckets.iter()) {
                *sum += bucket.load(Ordering::Relaxed);
            }
        }
        let max_ns = all.iter().map(|s| s.max_ns.load(Ordering::Relaxed)).max().unwrap_or(0);
        let total: u64 = counts.iter().sum();
        let at = |q: f64| -> f64 {
            if total == 0 {
                return 0.0;
            }
            let rank = ((q * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (bucket, &count) in counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return bucket as f64 + 0.5;
                }
            }
            BUCKETS as f64
        };
        Percentiles { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: max_ns as f64 / 1000.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_times() {
        let stats = RenderStats::default();
        for us in 1..=1000u64 {
            stats.record(us * 1000 + 200);
        }
        let p = stats.percentiles();
        assert!((p.p50 - 500.5).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.5).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.2).abs() < 1e-9, "{p:?}");
        let (mut drained, other) = (Vec::new(), RenderStats::default());
        let max = stats.drain(&mut drained);
        assert_eq!(stats.count(), 0, "drained");
        other.add(&drained, max);
        assert_eq!(other.count(), 1000);
        assert_eq!(other.percentiles(), p, "the drained times give the same percentiles");
        stats.reset();
        assert_eq!(stats.count(), 0);
    }
}
