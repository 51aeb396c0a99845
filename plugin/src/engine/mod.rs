//! The worklet engine: an `AudioWorkletGlobalScope` on Boa, node construction and
//! the `process()` contract, and offline rendering.
//!
//! Everything here runs on the one thread that owns a [`Realm`] (Boa's garbage
//! collector is thread-local): the plugin's render thread, or the caller's thread
//! for the CLI and tests. Nothing here knows about plugins or GUIs.

/// Stack of a thread that runs a realm. Boa's parser and interpreter recurse on the
/// native stack: this holds [`source_scan::MAX_NESTING`] levels of the deepest-framed
/// syntax (about 24 KiB per parenthesis) and the JS recursion limit several times
/// over. It is address space; only the pages a script reaches are ever touched.
pub const STACK_BYTES: usize = 64 * 1024 * 1024;

pub mod error;
pub mod event_mailbox;
pub mod events;
pub mod host_events;
pub mod instance;
mod jobs;
pub mod modules;
pub mod node;
pub mod offline;
pub mod options;
pub mod params;
mod parse;
pub mod quantum;
pub mod quantum_split;
pub mod realm;
mod scope_natives;
pub mod source_scan;
pub mod wasm;

pub use error::ScriptError;
pub use event_mailbox::OutEvent;
pub use events::{MainEvent, PortName, TimedEvent};
pub use host_events::{EventData, HostEvent, Timeline, Transport};
pub use instance::{Instance, MAX_TASKS_PER_QUANTUM};
pub use jobs::MICROTASK_BUDGET;
pub use node::{CreateError, Node, NodeState};
pub use offline::{ParamStep, Post, RenderError, RenderSpec, Rendered, render};
pub use options::NodeOptions;
pub use params::{AutomationRate, ParamDescriptor, ParamFrame};
pub use quantum::{AudioBuses, RENDER_QUANTUM};
pub use quantum_split::QuantumSplit;
pub use realm::{Realm, RealmConfig};
