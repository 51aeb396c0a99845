//! Pipeline configuration and the latency it implies. Any thread.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::RENDER_QUANTUM;

/// Extra whole quanta of output buffered beyond what the host block size forces,
/// to absorb render-thread jitter (scheduling, Boa's allocator and collector).
///
/// Measured with `worklet bench processors/biquad.js --realtime --instances 4
/// --host-block 128 --seconds 60` on the 2-core reference machine: 0 extra quanta
/// (256 frames) gave 1 underrun, 1 extra quantum (384 frames, 8 ms at 48 kHz)
/// gave none; the slowest quantum took 3.5 ms. See README.md, "Latency".
pub const DEFAULT_SAFETY_QUANTA: u32 = 1;

/// Host parameter slots shared with the render thread.
pub const PARAM_SLOTS: usize = 64;

/// Length of the equal-gain crossfade of a hot swap, in milliseconds.
pub const DEFAULT_FADE_MS: f64 = 10.0;

/// How a pipeline is set up; fixed for its life (re-create it to change).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// The largest block the host will pass to `process` (longer blocks are split).
    pub max_block: usize,
    /// Host input channels (what feeds the node's first input).
    pub input_channels: usize,
    /// Host output channels (the node's first output is mixed to this count).
    pub output_channels: usize,
    /// Channels of the host's sidechain bus, which feeds the node's second input
    /// (0: the host has none, and a second input is left unconnected).
    pub sidechain_channels: usize,
    /// Channels of each auxiliary output bus of the host; the node's outputs 1,
    /// 2, … are mixed to them.
    pub aux_output_channels: Vec<usize>,
    /// Extra whole quanta of safety margin (see [`DEFAULT_SAFETY_QUANTA`]).
    pub safety_quanta: u32,
    /// Crossfade length of a hot swap.
    pub fade_ms: f64,
    /// Ask the OS for real-time priority for render threads.
    pub realtime_priority: bool,
    /// Run Boa's garbage collector in the render thread's idle time.
    pub idle_gc: bool,
    /// The host renders offline (faster than real time, e.g. a bounce): the host
    /// side then waits for the render thread instead of playing silence.
    pub offline: bool,
    /// Render each generation in an engine process of its own instead of a
    /// thread of this process (`None`: in process).
    pub isolation: Option<EngineProcess>,
}

/// Default memory cap of an engine process: enough for real scripts
/// (Boa, a 64 MiB stack, large buffers), small enough to stop a memory bomb fast.
pub const DEFAULT_MEMORY_CAP: u64 = 1 << 30;
/// Default watchdog deadline of an engine process's build or quantum.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);

/// How to start engine processes, and the limits they run under.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineProcess {
    /// The executable; it runs a generation when `WORKLET_ENGINE_CHILD=generation`.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Address-space cap in bytes (0: none).
    pub memory_cap: u64,
    /// A build or a quantum running longer than this gets the process killed.
    pub deadline: Duration,
}

impl EngineProcess {
    /// `program` with the default limits.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), args: Vec::new(), memory_cap: DEFAULT_MEMORY_CAP, deadline: DEFAULT_DEADLINE }
    }
}

impl PipelineConfig {
    /// Stereo in and out, default margins.
    pub fn new(sample_rate: f64, max_block: usize) -> Self {
        Self {
            sample_rate,
            max_block: max_block.max(1),
            input_channels: 2,
            output_channels: 2,
            sidechain_channels: 0,
            aux_output_channels: Vec::new(),
            safety_quanta: DEFAULT_SAFETY_QUANTA,
            fade_ms: DEFAULT_FADE_MS,
            realtime_priority: true,
            idle_gc: true,
            offline: false,
            isolation: None,
        }
    }

    /// The channels of each bus the rings carry in: the main input (at least
    /// one ring, silent when the host has no main input, so that the render side
    /// is paced by the host's input as always) and the sidechain.
    pub fn input_buses(&self) -> [usize; 2] {
        [self.input_channels.max(1), self.sidechain_channels]
    }

    /// The channels of each bus the rings carry out: the main output (at least
    /// one), then the auxiliary outputs.
    pub fn output_buses(&self) -> Vec<usize> {
        std::iter::once(self.output_channels.max(1)).chain(self.aux_output_channels.iter().copied()).collect()
    }

    /// The constant latency, in frames: one quantum, plus the quanta a host block
    /// of up to `max_block` frames can straddle, plus the safety margin.
    ///
    /// A host block of `n` frames may end anywhere inside a quantum, so the input a
    /// quantum needs can arrive up to `n - 1` frames after the block that started
    /// it; the host never waits, so that much must already be buffered.
    pub fn latency_frames(&self) -> usize {
        let block_quanta = (self.max_block - 1).div_ceil(RENDER_QUANTUM);
        RENDER_QUANTUM * (1 + block_quanta + self.safety_quanta as usize)
    }

    /// Frames each ring holds: the latency, one host block and two quanta of slack.
    pub fn ring_frames(&self) -> usize {
        self.latency_frames() + self.max_block + 2 * RENDER_QUANTUM
    }

    /// Crossfade length in frames (whole quanta, at least one).
    pub fn fade_frames(&self) -> usize {
        let frames = (self.fade_ms / 1000.0 * self.sample_rate).round() as usize;
        frames.div_ceil(RENDER_QUANTUM).max(1) * RENDER_QUANTUM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_covers_the_block_and_the_margin() {
        let mut config = PipelineConfig::new(48_000.0, 128);
        config.safety_quanta = 0;
        assert_eq!(config.latency_frames(), 256);
        config.max_block = 1;
        assert_eq!(config.latency_frames(), 128);
        config.max_block = 129;
        assert_eq!(config.latency_frames(), 256);
        config.max_block = 257;
        assert_eq!(config.latency_frames(), 384);
        // Always at least the block plus 127 frames: the worst alignment.
        for block in 1..2000 {
            config.max_block = block;
            assert!(config.latency_frames() >= block + 127);
        }
        config.max_block = 4096;
        config.safety_quanta = 2;
        assert_eq!(config.latency_frames(), 128 + 4096 + 256);
    }

    #[test]
    fn fades_are_whole_quanta() {
        assert_eq!(PipelineConfig::new(48_000.0, 128).fade_frames(), 512);
        assert_eq!(PipelineConfig::new(8_000.0, 128).fade_frames(), 128);
    }
}
