//! The crate's `unsafe` code, each piece as small as its job allows and each
//! block with its `// SAFETY:` argument:
//!
//! * [`denormals`] — flush-to-zero for the calling thread (render threads).
//! * [`alloc_guard`] — the global allocator that counts heap use on threads that
//!   promised not to allocate (the host's audio thread inside `process`).
//! * [`threads`] — what happens to a render thread that will not finish: normal
//!   priority, and the library pinned in memory so that it is never unloaded from
//!   under it (control thread, main thread).
//! * [`limits`] — the memory cap an engine process sets on itself.
//! * [`own_library`] — the file the plugin was loaded from (its engine processes
//!   load it again).
//! * [`shared_memory`] — memory two threads or two processes share (heap or a
//!   mapped file), reached only through atomics and rings.
//! * [`ring`] — the wait-free single-producer, single-consumer ring in such
//!   memory (host audio thread ↔ render thread or engine process).
//! * [`stack_overflow`] — an engine process names a render thread's stack
//!   overflow on stderr before it dies.
//! * [`wait_word`] — sleeping on a shared word until the other side changes it.
//! * [`reentry`] — the borrows that calls between JavaScript and WebAssembly
//!   hand down to each other (the realm's thread).
//! * [`linear_memory`] — `WebAssembly.Memory`'s buffer over the linear memory
//!   itself (the realm's thread).
//! * [`compiled_code`] — compiled WebAssembly loaded back from the user's cache.
//! * [`signal_handlers`] — reading which handler a signal has (tests of wasm
//!   inside a host's process).

#![allow(unsafe_code)]

pub mod alloc_guard;
pub mod compiled_code;
pub mod denormals;
pub mod limits;
pub mod linear_memory;
pub mod own_library;
pub mod reentry;
pub mod ring;
pub mod shared_memory;
pub mod signal_handlers;
pub mod stack_overflow;
pub mod threads;
pub mod wait_word;
