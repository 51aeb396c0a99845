//! Which handler this process has installed for a signal (any thread): lets the
//! tests show that wasm running inside a plugin host's process leaves the host's
//! signal handlers as they were.

/// The signals a wasm engine's trap handling would take over.
#[cfg(unix)]
pub const TRAP_SIGNALS: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The address of `signal`'s current handler (`SIG_DFL` is 0), read without
/// changing it.
#[cfg(unix)]
pub fn handler_of(signal: i32) -> usize {
    // SAFETY: a zeroed `sigaction` is a valid value to be overwritten; passing a
    // null new action makes sigaction(2) only read the current one into `old`,
    // which lives for the call.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old);
        old.sa_sigaction
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn reads_the_handlers_without_changing_them() {
        let before: Vec<usize> = TRAP_SIGNALS.iter().map(|&s| handler_of(s)).collect();
        let again: Vec<usize> = TRAP_SIGNALS.iter().map(|&s| handler_of(s)).collect();
        assert_eq!(before, again);
        // Nobody handles SIGUSR2 in the test binary: its handler is SIG_DFL.
        assert_eq!(handler_of(libc::SIGUSR2), libc::SIG_DFL);
    }
}
