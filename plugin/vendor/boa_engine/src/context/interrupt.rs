//! A flag that another thread sets to stop the JavaScript running in a context.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Stops the JavaScript running in a [`Context`](crate::Context) from another thread.
///
/// A context checks its handle at every loop iteration and every function call.
/// Once [`InterruptHandle::interrupt`] was called, the next check throws the
/// uncatchable [`RuntimeLimitError::Interrupted`](crate::error::RuntimeLimitError)
/// and clears the request, so the context runs normally again afterwards. The
/// error unwinds every frame, skipping `catch` and `finally` blocks, and its
/// backtrace shows where the code was.
///
/// Native code (a regular expression's backtracking, a builtin's own loop) does
/// not check the handle; the request waits until it returns to JavaScript.
///
/// A handle is cheap to clone; the clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct InterruptHandle {
    requested: Arc<AtomicBool>,
}

impl InterruptHandle {
    /// A handle with no interrupt requested.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the context that uses this handle to stop at its next loop iteration
    /// or function call.
    pub fn interrupt(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// Withdraws a request that the context has not acted on yet.
    pub fn clear(&self) {
        self.requested.store(false, Ordering::Release);
    }

    /// Whether an interrupt is requested and not acted on yet.
    #[must_use]
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Takes a pending request: `true` once per [`InterruptHandle::interrupt`].
    #[inline]
    pub(crate) fn take(&self) -> bool {
        // The relaxed load keeps the common path to one read; the swap makes
        // sure one request throws once.
        self.requested.load(Ordering::Relaxed) && self.requested.swap(false, Ordering::AcqRel)
    }
}
