//! Where a quantum's time goes inside a node (realm's thread), for `worklet bench
//! --profile`. Off by default: a node only reads the clock four more times per
//! quantum, and counts heap use inside `process()`, once it is asked to
//! ([`super::Node::record_split`]).

use std::time::{Duration, Instant};

/// One quantum of a node, split into the engine's stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QuantumSplit {
    /// Before `process()`: the inputs copied in, the outputs zeroed, the
    /// `parameters` object, the lookup of `process`.
    pub before: Duration,
    /// `process()` itself (with any garbage collection it triggered).
    pub process: Duration,
    /// After `process()`: the outputs read back and checked for non-finite samples.
    pub after: Duration,
    /// The microtask checkpoint after `process()`.
    pub microtasks: Duration,
    /// Heap operations (allocations, reallocations, frees) inside `process()`.
    pub heap_ops: u64,
}

/// A clock read at each stage's end, or nothing at all when not recording.
pub(crate) struct Laps(Option<Instant>);

impl Laps {
    /// Starts timing now if `on`.
    pub(crate) fn start(on: bool) -> Self {
        Self(on.then(Instant::now))
    }

    /// Whether the laps are timed.
    pub(crate) fn on(&self) -> bool {
        self.0.is_some()
    }

    /// The time since the previous lap (zero when not timing).
    pub(crate) fn lap(&mut self) -> Duration {
        match &mut self.0 {
            Some(last) => {
                let now = Instant::now();
                let elapsed = now - *last;
                *last = now;
                elapsed
            }
            None => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_measure_only_when_on() {
        let mut off = Laps::start(false);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(off.lap(), Duration::ZERO);
        let mut on = Laps::start(true);
        std::thread::sleep(Duration::from_millis(2));
        let first = on.lap();
        assert!(first >= Duration::from_millis(2), "{first:?}");
        assert!(on.lap() < first, "each lap starts where the last one ended");
    }
}
