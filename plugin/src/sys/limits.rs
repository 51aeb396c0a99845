//! Resource limits an engine process puts on itself before it runs any script
//! (the engine process's main thread, at start-up).
//!
//! A script that allocates without end makes Boa's allocation fail, and a failed
//! allocation aborts the process: inside the host that would be the DAW. An engine
//! process caps its own address space so that such a script ends *its* process,
//! quickly and with a recognisable message, long before the machine swaps.

use std::io;

/// Caps the calling process's address space at `bytes` and turns off core dumps
/// (an engine process that dies on purpose should not litter the disk).
///
/// The cap counts every mapping: the executable, thread stacks (reserved, not
/// touched) and the heap. Linux enforces it; elsewhere it is best effort.
pub fn cap_address_space(bytes: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        set(libc::RLIMIT_CORE, 0)?;
        set(libc::RLIMIT_AS, bytes)
    }
    #[cfg(not(unix))]
    {
        let _ = bytes;
        Err(io::Error::new(io::ErrorKind::Unsupported, "address-space caps need a Unix system"))
    }
}

/// The calling process's current address-space cap, if it has one.
pub fn address_space_cap() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `limit` is a live, writable `rlimit`; getrlimit only writes it.
        let status = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
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
    // SAFETY: as in `address_space_cap`.
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
        let before = address_space_cap();
        // A cap far above anything this process maps, so the rest of the tests run on.
        let roomy = 1 << 44;
        cap_address_space(roomy).expect("lowering a soft limit is allowed");
        assert_eq!(address_space_cap(), Some(roomy));
        set(libc::RLIMIT_AS, before.unwrap_or(libc::RLIM_INFINITY as u64)).expect("the soft limit goes back up");
        assert_eq!(address_space_cap(), before);
    }
}
