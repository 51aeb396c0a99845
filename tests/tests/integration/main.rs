//! Worklet's integration tests, in one test binary so that the suite links the
//! engine once (each file is a module named after what it tests).
//!
//! Run one part with `cargo test --release -p worklet-tests --test integration MODULE::`.

// The host-side allocation test counts allocations through this allocator; it
// passes every allocation through and counts only inside `assert_no_alloc`.
#[global_allocator]
static ALLOCATOR: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

mod builtins;
mod clap_host;
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
mod library;
mod modules;
mod no_alloc;
mod node_construction;
mod pipeline;
mod ports;
mod process_contract;
mod register_processor;
mod rejections;
mod stress;
