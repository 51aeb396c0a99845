//! Resource limits an engine process puts on itself before it runs any script
//! (the engine process's main thread, at start-up).
//!
//! A script that allocates without end makes Boa's allocation fail, and a failed
//! allocation aborts the process: inside the host that would be the DAW. An engine
//! process caps its own memory so that such a script ends *its* process, quickly
//! and with a recognisable message, long before the machine swaps.
//!
//! The cap is on writable private memory (Linux's `RLIMIT_DATA`: the heap, thread
//! stacks, WebAssembly linear memory as it grows), not on address space: wasm
//! memories are reservations of several GiB that cost nothing until pages are
//! made writable, and their guard pages are what lets compiled wasm skip bounds
//! checks.

use std::io;

/// Caps the calling process's writable memory at `bytes` and turns off core dumps
/// (an engine process that dies on purpose should not litter the disk).
///
/// Linux enforces it (since 4.7 on every private writable mapping); elsewhere it
/// is best effort.
pub fn cap_memory(bytes: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        set(libc::RLIMIT_CORE, 0)?;
        set(libc::RLIMIT_DATA, bytes)
    }
    #[cfg(not(unix))]
    {
        let _ = bytes;
        Err(io::Error::new(io::ErrorKind::Unsupported, "memory caps need a Unix system"))
    }
}

/// The calling process's current memory cap, if it has one.
pub fn memory_cap() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `limit` is a live, writable `rlimit`; getrlimit only writes it.
        let status = unsafe { libc::getrlimit(libc::RLIMIT_DATA, &mut limit) };
        (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
type Resource = libc::c_int;

#[cfg(unix)]
fn set(resource: Resource, bytes: u64) -> io::Result<()> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: as in `memory_cap`.
    if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Lowering the soft limit is always allowed; it may not exceed the hard one.
    let wanted = bytes as libc::rlim_t;
    limit.rlim_cur = if limit.rlim_max == libc::RLIM_INFINITY { wanted } else { wanted.min(limit.rlim_max) };
    // SAFETY: `limit` is a live, initialised `rlimit`; setrlimit only reads it.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_set_and_read_back() {
        let before = memory_cap();
        // A cap far above anything this process maps, so the rest of the tests run on.
        let roomy = 1 << 44;
        cap_memory(roomy).expect("lowering a soft limit is allowed");
        assert_eq!(memory_cap(), Some(roomy));
        set(libc::RLIMIT_DATA, before.unwrap_or(libc::RLIM_INFINITY as u64)).expect("the soft limit goes back up");
        assert_eq!(memory_cap(), before);
    }
}
