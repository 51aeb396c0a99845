//! The real-time pipeline: a render thread per generation, 128-frame re-blocking
//! at constant latency, click-free hot swap.
//!
//! Three sides, three threads:
//!
//! * [`HostSide`] — the host's audio thread. Wait-free and allocation-free: it
//!   moves audio through rings, plays output one constant latency later, counts
//!   underruns, crossfades on a swap.
//! * the render thread (`worker`) — one per generation. It owns the Boa realm
//!   (Boa's collector is thread-local) and renders a quantum whenever the host
//!   has fed one.
//! * [`Pipeline`] — the control side (GUI, CLI). It builds generations from a
//!   [`Recipe`] off the audio path, hands them to the host side when ready, and
//!   drops retired ones. It owns the main side's ports of the newest generation.
//!
//! [`Telemetry`] and [`SharedParams`] are atomics readable and writable from any
//! thread.

pub mod block_event;
pub mod config;
pub mod engine_child;
pub mod engine_launcher;
pub mod engine_process;
mod engine_wire;
pub mod event_monitor;
pub mod event_ring;
mod generation_memory;
pub mod host;
mod link;
pub mod params;
pub mod pipeline;
pub mod priority;
pub mod slot_range;
pub mod stats;
pub mod telemetry;
mod worker;

pub use block_event::{BlockEvent, BlockEventKind, EventsIn, EventsOut};
pub use config::{
    DEFAULT_DEADLINE, DEFAULT_MEMORY_CAP, DEFAULT_SAFETY_QUANTA, EngineProcess, PARAM_SLOTS, PipelineConfig,
};
pub use event_monitor::{EventMonitor, MONITOR_SLOTS, Seen};
pub use host::HostSide;
pub use params::{ParamChange, SharedParams, assign_slots};
pub use pipeline::{Pipeline, PipelineEvent};
pub use slot_range::SlotRange;
pub use stats::{Percentiles, RenderStats};
pub use telemetry::{GenerationState, METER_CHANNELS, Peaks, Telemetry};
pub use worker::{ModuleSource, Ready, Recipe};
