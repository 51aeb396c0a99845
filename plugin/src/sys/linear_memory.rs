//! `WebAssembly.Memory.prototype.buffer`: an `ArrayBuffer` over a wasm instance's
//! linear memory itself, not a copy (the realm's thread).
//!
//! JavaScript writes a `Float32Array` on the buffer and the wasm code reads the
//! same bytes, and the other way round. The buffer is Boa's external-memory
//! `ArrayBuffer` (`plugin/vendor`, patch 0003). Its contract is kept by the caller
//! of [`buffer_over`] as the WebAssembly JS API prescribes anyway:
//!
//! * The buffer keeps the store that owns the memory alive (`owner`), so the
//!   bytes never vanish under it.
//! * Whenever the memory's size may have changed (after every call into wasm,
//!   before every call out of it into JavaScript, after `grow()`), the caller
//!   compares the memory's base and length with the buffer's and detaches the
//!   buffer (with [`detach_key`]) if either changed, before any JavaScript runs.
//!   The spec detaches on every growth anyway; this also covers a memory that moved.
//! * JavaScript cannot detach the buffer (`transfer()`, a transfer list): only the
//!   holder of the detach key can.

use std::ptr::NonNull;

use boa_engine::object::builtins::JsArrayBuffer;
use boa_engine::{Context, JsResult, JsString, JsValue};

/// The `[[ArrayBufferDetachKey]]` of every memory buffer: the string the
/// WebAssembly JS API names.
pub fn detach_key() -> JsValue {
    JsString::from("WebAssembly.Memory").into()
}

/// Where a memory's bytes are now: what a buffer made over them must still match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// The base address (as an integer: only compared, never dereferenced here).
    pub base: usize,
    /// Bytes.
    pub len: usize,
}

impl Extent {
    /// The memory's current extent.
    pub fn of<T: 'static>(memory: &wasmtime::Memory, store: impl wasmtime::AsContext<Data = T>) -> Self {
        let store = store.as_context();
        Self { base: memory.data_ptr(&store) as usize, len: memory.data_size(&store) }
    }
}

/// A new buffer over `memory`'s bytes as they are now ([`Extent::of`]); `owner`
/// must keep the memory's store alive.
pub fn buffer_over<T: 'static>(
    memory: &wasmtime::Memory,
    store: impl wasmtime::AsContext<Data = T>,
    owner: impl std::any::Any,
    context: &mut Context,
) -> JsResult<(JsArrayBuffer, Extent)> {
    let extent = Extent::of(memory, &store);
    let base = memory.data_ptr(&store);
    // A zero-length memory may report a null base; the buffer then never reads it.
    let pointer = NonNull::new(base).unwrap_or(NonNull::dangling());
    // SAFETY: `data_ptr` is valid for reads and writes of `data_size` bytes while the
    // store lives and the memory is neither grown nor dropped. `owner` keeps the
    // store alive as long as the buffer holds the bytes; the caller detaches the
    // buffer before any JavaScript runs once the extent changed (module docs), so
    // Boa never sees stale bytes. wasm code writes the bytes only while it runs,
    // and Boa borrows them only inside one operation, never across a call into wasm.
    let buffer = unsafe { JsArrayBuffer::from_external(pointer, extent.len, owner, detach_key(), context)? };
    Ok((buffer, extent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::property::Attribute;
    use boa_engine::{Source, js_string};
    use std::rc::Rc;

    fn memory(pages: u64) -> (wasmtime::Store<()>, wasmtime::Memory) {
        let engine = wasmtime::Engine::default();
        let mut store = wasmtime::Store::new(&engine, ());
        let memory = wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(pages as u32, Some(16)))
            .expect("a small memory");
        (store, memory)
    }

    #[test]
    fn javascript_and_the_memory_see_the_same_bytes() {
        let (mut store, memory) = memory(1);
        let mut context = Context::default();
        let (buffer, extent) = buffer_over(&memory, &store, (), &mut context).unwrap();
        assert_eq!(extent.len, 65536);
        context.register_global_property(js_string!("buf"), buffer, Attribute::all()).unwrap();
        context.eval(Source::from_bytes("new Float32Array(buf, 16, 4).set([0.5, 1, 2, 4])")).unwrap();
        let bytes = memory.data(&store);
        assert_eq!(f32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1.0);
        memory.data_mut(&mut store)[64..68].copy_from_slice(&0.25f32.to_le_bytes());
        let read = context.eval(Source::from_bytes("new Float32Array(buf)[16]")).unwrap();
        assert_eq!(read.as_number(), Some(0.25));
    }

    #[test]
    fn growth_changes_the_extent_and_the_buffer_detaches_with_the_key_only() {
        let (mut store, memory) = memory(1);
        let mut context = Context::default();
        let store_alive = Rc::new(());
        let (buffer, before) = buffer_over(&memory, &store, store_alive.clone(), &mut context).unwrap();
        assert_eq!(Rc::strong_count(&store_alive), 2, "the buffer holds its owner");
        memory.grow(&mut store, 1).unwrap();
        assert_ne!(Extent::of(&memory, &store), before, "a grown memory has another extent");
        assert!(buffer.detach(&JsValue::undefined()).is_err(), "only the key detaches it");
        buffer.detach(&detach_key()).unwrap();
        assert_eq!(buffer.byte_length(), 0);
        assert_eq!(Rc::strong_count(&store_alive), 1, "a detached buffer lets go of its owner");
        let (again, after) = buffer_over(&memory, &store, (), &mut context).unwrap();
        assert_eq!(after.len, 2 * 65536);
        assert_eq!(again.byte_length(), 2 * 65536);
    }
}
