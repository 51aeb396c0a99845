//! What a realm's WebAssembly may use (the realm's thread): linear memory, table
//! elements and instances are capped per realm, and wasm code that runs past the
//! runaway deadline is stopped.
//!
//! * **Memory.** All linear memories of a realm together may hold at most
//!   [`WasmLimits::memory_bytes`] (default 512 MiB, half an engine process's cap,
//!   which leaves room for the JavaScript heap). A `new WebAssembly.Memory` or
//!   `grow()` past it is a `RangeError`; `memory.grow` inside wasm returns -1, as
//!   the spec lets a host refuse growth.
//! * **Runaway guard.** The same entries into the script that get a JavaScript
//!   loop budget (one `process()` call, message task or microtask checkpoint) get
//!   a wasm deadline: [`RUN_SECONDS`] of wall time at most, five times that while
//!   the modules are loaded and the processor constructed, as for loops. Wasm
//!   that reaches it stops with an uncatchable `RangeError` that names the wasm
//!   function, like a runaway JavaScript loop.

use super::engine::TICKS_PER_SECOND;
use crate::engine::realm::BUILD_BUDGET_FACTOR;

/// Wall-clock seconds one entry into the script may spend in wasm: about what
/// the JavaScript loop budget allows (20,000,000 iterations of Boa).
pub const RUN_SECONDS: u64 = 1;
/// Linear memory per realm, all memories together.
pub const MEMORY_BYTES: u64 = 512 << 20;
/// Table elements per table.
pub const TABLE_ELEMENTS: usize = 1 << 20;
/// Instances, memories and tables per realm, each.
pub const INSTANCES: usize = 256;

/// A realm's WebAssembly limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmLimits {
    /// Bytes of linear memory, all memories together.
    pub memory_bytes: u64,
    /// Seconds one entry into the script may spend in wasm.
    pub run_seconds: u64,
}

impl Default for WasmLimits {
    fn default() -> Self {
        Self { memory_bytes: MEMORY_BYTES, run_seconds: RUN_SECONDS }
    }
}

impl WasmLimits {
    /// Epoch ticks from now to the deadline of one entry (`build`: loading
    /// modules, constructing the processor).
    pub(crate) fn deadline_ticks(&self, build: bool) -> u64 {
        let seconds = if build { self.run_seconds * BUILD_BUDGET_FACTOR } else { self.run_seconds };
        seconds * TICKS_PER_SECOND
    }
}

/// The store's resource limiter.
pub(crate) struct Limits {
    memory_bytes: u64,
    /// Bytes the store's memories hold now.
    used: u64,
    /// A memory or table request was refused: the next error is about it.
    pub(crate) refused: Option<String>,
}

impl Limits {
    pub(crate) fn new(limits: &WasmLimits) -> Self {
        Self { memory_bytes: limits.memory_bytes, used: 0, refused: None }
    }
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grows = (desired - current) as u64;
        let within_type = maximum.is_none_or(|max| desired <= max);
        if within_type && self.used + grows <= self.memory_bytes {
            self.used += grows;
            return Ok(true);
        }
        self.refused = Some(if within_type {
            format!(
                "WebAssembly.Memory: {desired} bytes would pass the realm's cap of {} MiB of linear memory \
                 ({} MiB in use)",
                self.memory_bytes >> 20,
                self.used >> 20
            )
        } else {
            format!("WebAssembly.Memory: {desired} bytes exceed the memory's maximum")
        });
        Ok(false)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max);
        if !allowed {
            self.refused = Some(format!("WebAssembly.Table: {desired} elements exceed the limit of {TABLE_ELEMENTS}"));
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        INSTANCES
    }

    fn tables(&self) -> usize {
        INSTANCES
    }

    fn memories(&self) -> usize {
        INSTANCES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn memory_is_counted_over_all_memories_and_refusals_say_why() {
        let mut limits = Limits::new(&WasmLimits { memory_bytes: 4 << 16, run_seconds: 1 });
        assert!(limits.memory_growing(0, 2 << 16, None).unwrap());
        assert!(limits.memory_growing(0, 2 << 16, None).unwrap(), "a second memory");
        assert!(!limits.memory_growing(2 << 16, 3 << 16, None).unwrap(), "past the realm's cap");
        assert!(limits.refused.take().unwrap().contains("cap of 0 MiB"));
        let mut roomy = Limits::new(&WasmLimits::default());
        assert!(!roomy.memory_growing(0, 2 << 16, Some(1 << 16)).unwrap());
        assert!(roomy.refused.unwrap().contains("maximum"));
    }

    #[test]
    fn builds_get_five_times_the_deadline() {
        let limits = WasmLimits::default();
        assert_eq!(limits.deadline_ticks(false), TICKS_PER_SECOND);
        assert_eq!(limits.deadline_ticks(true), 5 * TICKS_PER_SECOND);
    }
}
