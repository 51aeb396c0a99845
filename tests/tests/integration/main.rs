//! Worklet's integration tests, in one test binary so that the suite links the
//! engine once (each file is a module named after what it tests).
//!
//! Run one part with `cargo test --release -p worklet-tests --test integration MODULE::`.

// The allocation tests count heap use through the engine's own global allocator
// (`worklet::sys::alloc_guard`), which this binary gets by linking the engine.

mod bench_profile;
mod builtins;
mod clap_events;
mod clap_host;
mod clap_live;
mod clap_session;
mod cli;
mod clone;
mod compat_table;
mod controller;
mod editor_requests;
mod errors;
mod events;
mod flood;
mod global_scope;
mod golden;
mod host_events;
mod hostile;
mod hostile_plugin;
mod isolated_engine;
mod library;
mod modules;
mod no_alloc;
mod node_construction;
mod pipeline;
mod pipeline_buses;
mod pipeline_events;
mod ports;
mod process_contract;
mod register_processor;
mod rejections;
mod stress;
mod stuck;
mod swaps;
mod wasm_api;
mod wasm_cli;
mod wasm_guard;
mod wasm_signals;
mod wasm_toolchains;
