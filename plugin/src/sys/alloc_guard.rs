//! Counts heap allocations on real-time threads.
//!
//! [`CountingAllocator`] is the global allocator of everything built from this
//! crate (the plugin, the command line, the tests). It forwards to the system
//! allocator; while the calling thread is inside [`no_alloc`] (the host's audio
//! thread in `Worklet::process`, a test's checked call), every allocation,
//! reallocation and free is also counted. A real-time thread must not touch the
//! heap: a `malloc` can take a lock held by a thread that is not real-time.
//!
//! The plugin library exports the count as `worklet_audio_thread_allocations`
//! (a C function), so a host in a test can check the real process path of the
//! built bundle. Any thread; counting is two relaxed atomic operations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Whether this thread is inside [`no_alloc`] (const-initialized and without
    /// a destructor, so reading it never allocates).
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// This thread's share of [`VIOLATIONS`].
    static HERE: Cell<u64> = const { Cell::new(0) };
}

/// Heap operations made inside [`no_alloc`] since the library was loaded.
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting heap use inside [`no_alloc`].
pub struct CountingAllocator;

fn note() {
    if GUARDED.try_with(Cell::get).unwrap_or(false) {
        VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        let _ = HERE.try_with(|here| here.set(here.get() + 1));
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds `GlobalAlloc`'s contract; `note` only reads a thread-local `Cell` and
// bumps an atomic, neither of which allocates or can unwind.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's `layout` contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: `ptr` came from `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` came from `System` with `layout`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` with the calling thread's heap use counted as violations. Nests;
/// the previous state is restored even if `f` panics.
pub fn no_alloc<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GUARDED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GUARDED.with(|g| g.replace(true)));
    f()
}

/// Runs `f` and returns how many heap operations (allocations, reallocations,
/// frees) it made on the calling thread. For measuring (`worklet bench
/// --profile`), never on a host's thread: the operations also count as
/// [`violations`].
pub fn count_heap<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = violations_here();
    let result = no_alloc(f);
    (result, violations_here() - before)
}

/// Heap operations counted inside [`no_alloc`] so far, on all threads.
pub fn violations() -> u64 {
    VIOLATIONS.load(Ordering::Relaxed)
}

/// Heap operations counted inside [`no_alloc`] on the calling thread.
pub fn violations_here() -> u64 {
    HERE.with(Cell::get)
}

/// [`violations`], for a host that loaded the plugin library (tests).
#[unsafe(no_mangle)]
pub extern "C" fn worklet_audio_thread_allocations() -> u64 {
    violations()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_heap_use_only_inside_no_alloc() {
        // Other tests run in parallel, but none inside `no_alloc` on this thread.
        let outside = Vec::<u8>::with_capacity(64);
        let (before, here) = (violations(), violations_here());
        let (inside, grown) = no_alloc(|| {
            let mut v = Vec::<u8>::with_capacity(64);
            v.extend_from_slice(&[1; 128]);
            let sum: u32 = [1u32, 2, 3].iter().sum();
            (v, sum)
        });
        assert_eq!(violations_here(), here + 2, "an allocation and a reallocation are counted");
        assert!(violations() >= before + 2, "and in the total");
        assert_eq!(grown, 6);
        drop((outside, inside));
        assert_eq!(violations_here(), here + 2, "frees outside are not counted");
        assert!(!GUARDED.with(Cell::get), "the guard is lifted afterwards");
    }

    #[test]
    fn count_heap_counts_what_the_closure_did() {
        // `black_box` keeps the optimizer from eliding the allocations.
        let (kept, ops) = count_heap(|| {
            let kept = std::hint::black_box(vec![7u8; 32]);
            drop(std::hint::black_box(vec![1u64; 4]));
            kept
        });
        assert_eq!(ops, 3, "two allocations and one free");
        assert_eq!(kept[0], 7);
        let ((), none) = count_heap(|| ());
        assert_eq!(none, 0);
    }

    #[test]
    fn the_guard_is_lifted_after_a_panic() {
        let caught = std::panic::catch_unwind(|| no_alloc(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(!GUARDED.with(Cell::get));
    }
}
