//! Naming a stack overflow in an engine process (its render thread; installed by
//! the engine process's main thread at start-up).
//!
//! A Rust executable's runtime reports a thread that runs into its stack's guard
//! page (`thread '…' has overflowed its stack`) before the process dies. An engine
//! process started by the plugin is a small launcher that loads the plugin's
//! library, whose threads that runtime does not know, so such a thread would die
//! as a bare SIGSEGV. [`report_overflows`] installs a handler of our own, and
//! [`on_this_thread`] gives a thread an alternate signal stack to run it on and
//! records where the thread's guard page is. A fault there writes the same line
//! to stderr, which the parent turns into `crashed: stack overflow`; every fault
//! then gets the default action, so the process still dies with SIGSEGV.
//!
//! Never used in the host's process: the handler is the engine process's only.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the handler writes (the parent looks for "has overflowed its stack").
const MESSAGE: &[u8] = b"\nthread 'worklet-render' has overflowed its stack\n";
/// Size of each thread's alternate signal stack.
const ALT_STACK_BYTES: usize = 64 * 1024;

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The calling thread's guard range `[start, end)`; empty when unknown.
    static GUARD: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static ALT_STACK: Cell<Option<AltStack>> = const { Cell::new(None) };
}

/// Installs the SIGSEGV and SIGBUS handler for the whole process (an engine
/// process only).
pub fn report_overflows() {
    #[cfg(target_os = "linux")]
    for signal in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: a zeroed `sigaction` is a valid value (empty mask, no flags);
        // `handler` has the signature SA_SIGINFO asks for and only does
        // async-signal-safe things (a thread-local read, write(2), sigaction).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    INSTALLED.store(true, Ordering::Release);
}

/// Prepares the calling thread (a render thread) when [`report_overflows`] ran:
/// an alternate signal stack, freed when the thread ends, and its guard range.
pub fn on_this_thread() {
    #[cfg(target_os = "linux")]
    if INSTALLED.load(Ordering::Acquire) {
        if let Some(stack) = AltStack::new() {
            ALT_STACK.with(|slot| slot.set(Some(stack)));
        }
        GUARD.with(|guard| guard.set(guard_range().unwrap_or((0, 0))));
    }
}

/// Whether `address` is in the calling thread's guard range.
fn in_guard(address: usize) -> bool {
    let (start, end) = GUARD.with(Cell::get);
    start <= address && address < end
}

#[cfg(target_os = "linux")]
extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` for a SA_SIGINFO handler, and
    // `si_addr` is the faulting address for SIGSEGV and SIGBUS.
    let address = unsafe { (*info).si_addr() } as usize;
    if in_guard(address) {
        // SAFETY: `MESSAGE` is a live buffer of the given length; write(2) is
        // async-signal-safe. A failed write changes nothing.
        unsafe { libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len()) };
    }
    // SAFETY: as in `report_overflows`; SIG_DFL makes the faulting instruction,
    // run again on return, end the process with this signal.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// The calling thread's guard page(s): below the lowest address of its stack
/// (glibc counts the guard into the reported size, so the range reaches one
/// guard size either side of that address, as Rust's runtime checks it).
#[cfg(target_os = "linux")]
fn guard_range() -> Option<(usize, usize)> {
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read and
    // destroyed once; the out-pointers are live locals of the right types.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut low: *mut libc::c_void = std::ptr::null_mut();
        let mut size = 0;
        let mut guard = 0;
        let got = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0
            && libc::pthread_attr_getguardsize(&attr, &mut guard) == 0;
        libc::pthread_attr_destroy(&mut attr);
        let guard = guard.max(page_size());
        got.then(|| ((low as usize).saturating_sub(guard), low as usize + guard))
    }
}

#[cfg(target_os = "linux")]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// A thread's alternate signal stack, unregistered and unmapped on drop.
struct AltStack {
    base: *mut libc::c_void,
}

#[cfg(target_os = "linux")]
impl AltStack {
    fn new() -> Option<Self> {
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; the result is checked before use.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ALT_STACK_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let stack = libc::stack_t { ss_sp: base, ss_flags: 0, ss_size: ALT_STACK_BYTES };
        // SAFETY: `stack` describes the mapping just made, which lives until
        // `drop` unregisters it.
        if unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) } != 0 {
            // SAFETY: the mapping was made above and is not in use.
            unsafe { libc::munmap(base, ALT_STACK_BYTES) };
            return None;
        }
        Some(Self { base })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        {
            let off = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
            // SAFETY: disabling this thread's alternate stack first means no
            // handler can run on the mapping when it is unmapped.
            unsafe {
                libc::sigaltstack(&off, std::ptr::null_mut());
                libc::munmap(self.base, ALT_STACK_BYTES);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_knows_its_guard_range_below_its_stack() {
        INSTALLED.store(true, Ordering::Release);
        let local = 0u8;
        let here = &local as *const u8 as usize;
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                on_this_thread();
                let local = 0u8;
                let here = &local as *const u8 as usize;
                let (start, end) = GUARD.with(Cell::get);
                assert!(start < end, "a guard range");
                assert!(
                    end < here && here - end < 8 << 20,
                    "below this thread's stack: {start:#x}..{end:#x} {here:#x}"
                );
                assert!(in_guard(start) && !in_guard(end) && !in_guard(here));
                assert!(ALT_STACK.with(|slot| {
                    let stack = slot.take();
                    let some = stack.is_some();
                    slot.set(stack);
                    some
                }));
            })
            .unwrap()
            .join()
            .unwrap();
        // This thread was never prepared.
        let _ = here;
        assert!(!in_guard(here));
    }
}
