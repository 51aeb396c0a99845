//! The in-process render's watchdog (`worklet render` without `--isolated`): a
//! thread of its own watches the render's progress and, when loading or a render
//! quantum runs past `--deadline`, interrupts the script where it runs. The
//! script then throws there, located, and the render goes on in silence as after
//! any processor error; the command ends with the same line and status as an
//! isolated render the supervisor interrupted.
//!
//! Native code (a backtracking regex) cannot be interrupted, and in this
//! process nothing can be killed: `--isolated` is the render that always ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use boa_engine::context::InterruptHandle;

use super::Failure;

/// How often the watchdog looks at the render's progress.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// The render's side of the watchdog; the thread ends when this is dropped.
pub(crate) struct Watchdog {
    interrupt: InterruptHandle,
    started: Instant,
    /// Nanoseconds after `started` of the last sign of progress.
    last_beat: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching: a script that shows no progress for `deadline` is
    /// interrupted once (again only after it progressed in between).
    pub(crate) fn start(deadline: Duration) -> Result<Self, Failure> {
        let interrupt = InterruptHandle::new();
        let started = Instant::now();
        let last_beat = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (interrupt, last_beat, done) = (interrupt.clone(), last_beat.clone(), done.clone());
            std::thread::Builder::new()
                .name("worklet-watchdog".into())
                .spawn(move || {
                    let mut interrupted_at = None;
                    while !done.load(Ordering::Acquire) {
                        // Unparked at once when the render ends.
                        std::thread::park_timeout(LOOK_EVERY);
                        let beat = last_beat.load(Ordering::Acquire);
                        let quiet = started.elapsed().saturating_sub(Duration::from_nanos(beat));
                        if quiet >= deadline && interrupted_at != Some(beat) {
                            interrupt.interrupt();
                            interrupted_at = Some(beat);
                        }
                    }
                })
                .map_err(|e| Failure::io(format!("cannot start the watchdog: {e}")))?
        };
        Ok(Self { interrupt, started, last_beat, done, thread: Some(thread) })
    }

    /// The handle the watchdog trips (for the realm).
    pub(crate) fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// The render progressed (a module loaded, a quantum rendered).
    pub(crate) fn beat(&self) {
        let now = self.started.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
        self.last_beat.store(now, Ordering::Release);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        // A request the script did not reach (it finished first) must not
        // outlive the render.
        self.interrupt.clear();
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes a pending request, as the script's next check would.
    fn take(handle: &InterruptHandle) -> bool {
        let requested = handle.is_requested();
        handle.clear();
        requested
    }

    #[test]
    fn a_render_without_progress_is_interrupted_once_and_a_beating_one_never() {
        let watchdog = Watchdog::start(Duration::from_secs(1)).unwrap();
        let handle = watchdog.interrupt_handle();
        // Beating far more often than the deadline: never interrupted.
        for _ in 0..15 {
            watchdog.beat();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!take(&handle), "a render that progresses is left alone");
        // Quiet past the deadline: interrupted.
        let started = Instant::now();
        while !take(&handle) {
            assert!(started.elapsed() < Duration::from_secs(20), "the watchdog never fired");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Still quiet: not asked again until the render progresses.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!take(&handle), "one request per stall");
        watchdog.beat();
        let started = Instant::now();
        while !take(&handle) {
            assert!(started.elapsed() < Duration::from_secs(20), "the watchdog did not re-arm");
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(watchdog);
        assert!(!take(&handle), "nothing pending after the render");
    }
}
