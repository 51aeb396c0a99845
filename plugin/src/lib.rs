//! Worklet: Web Audio `AudioWorkletProcessor` scripts as an audio plugin.
//!
//! One plugin instance plays one `AudioContext` with one `AudioWorkletNode` in it.
//! The processor's JavaScript runs in a [`engine::Realm`] (an
//! `AudioWorkletGlobalScope` on Boa) that lives on exactly one thread, because
//! Boa's garbage collector is thread-local.
//!
//! * [`engine`] — the realm, node construction, `process()` per 128-frame quantum,
//!   errors with `file:line:col`, offline rendering. One thread per realm.
//! * [`port`] — MessagePort pairs between the main side and the realm: the wire
//!   format, the main side's API and the realm's router.
//! * [`render`] — the real-time pipeline: host side (audio thread), render
//!   threads, hot swap, telemetry.
//! * [`plugin`] — the CLAP/VST3 plugin: parameter slots, saved state, the control
//!   thread (nice-plug glue; the only module that knows about plugin hosts).
//! * [`gui`] — the egui editor (GUI thread): code, console, parameters, meters.
//!   It drives the plugin's control thread through [`plugin::status`].
//! * [`library`] — the factory processors from `processors/`, embedded.
//! * [`cli`] — the `worklet` command line (`render`, `check`, `bench`). The caller's thread.
//! * [`sys`] — the only `unsafe` code: flush-to-zero, the allocation-counting
//!   global allocator, and what is done about render threads that never finish.
//! * [`user_cache`] — the per-user cache folder (engine launcher, compiled
//!   WebAssembly).
//!
//! Lifecycle of a script: the modules are evaluated in order into one scope
//! (`registerProcessor` calls fill the processor map), a node is constructed
//! (`new Processor(options)` with `this.port` ready), then every quantum runs the
//! queued message tasks, `process(inputs, outputs, parameters)` and a microtask
//! checkpoint. An exception in the constructor or in `process()` becomes one
//! `processorerror` and the node outputs silence from then on.

#![deny(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub, clippy::all)]

pub mod cli;
pub mod engine;
pub mod gui;
pub mod library;
pub mod plugin;
pub mod port;
pub mod render;
pub mod sys;
pub mod user_cache;

/// Everything built from this crate counts heap use on real-time threads.
#[global_allocator]
static ALLOCATOR: sys::alloc_guard::CountingAllocator = sys::alloc_guard::CountingAllocator;
