//! Sleeping on a 32-bit word in memory until another thread or process changes
//! it: Linux futexes on shared (not process-private) words, so the word may lie
//! in a region mapped by two processes. The render side waits (render thread or
//! engine process); the host's audio thread only ever wakes, which never blocks.
//!
//! Elsewhere the wait is a sleep of at most a millisecond and the wake does
//! nothing: a waiter then finds its work by looking again, one millisecond late
//! at most, well inside the latency the pipeline reports.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `word` holds `expected`, for at most `timeout` (and about a
/// millisecond where there is no futex). May return early; callers look again.
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    #[cfg(target_os = "linux")]
    {
        let timeout = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call
        // (it is borrowed); FUTEX_WAIT only reads it and compares it with
        // `expected`, and `timeout` points to a valid timespec on this stack. The
        // other arguments are unused by FUTEX_WAIT. Any result (woken, timed
        // out, value changed, interrupted) just returns to the caller.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT,
                expected,
                &timeout as *const libc::timespec,
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if word.load(std::sync::atomic::Ordering::Acquire) == expected {
            std::thread::sleep(timeout.min(Duration::from_millis(1)));
        }
    }
}

/// Wakes one waiter on `word` (change the word first). Never blocks.
pub fn wake(word: &AtomicU32) {
    #[cfg(target_os = "linux")]
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not
    // touch its value and only wakes threads waiting on its address; the
    // remaining arguments are unused by FUTEX_WAKE.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1i32, std::ptr::null::<u32>(), 0u32, 0u32);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = word;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    #[test]
    fn a_wait_on_a_changed_word_returns_at_once() {
        let word = AtomicU32::new(1);
        let started = Instant::now();
        wait(&word, 0, Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5), "the word did not hold the expected value");
    }

    #[test]
    fn a_wait_ends_by_its_timeout() {
        let word = AtomicU32::new(0);
        let started = Instant::now();
        wait(&word, 0, Duration::from_millis(20));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_wake_ends_a_long_wait() {
        let word = Arc::new(AtomicU32::new(0));
        let waiter = {
            let word = word.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                while word.load(Ordering::Acquire) == 0 {
                    wait(&word, 0, Duration::from_secs(30));
                }
                started.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        word.store(1, Ordering::Release);
        wake(&word);
        let waited = waiter.join().unwrap();
        assert!(waited < Duration::from_secs(20), "woken, not timed out: {waited:?}");
    }
}
