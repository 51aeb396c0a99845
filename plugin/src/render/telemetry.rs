//! Lock-free telemetry of a pipeline, readable from any thread.
//!
//! The host thread writes underruns and the active generation; the active
//! generation's render thread writes load, state and the quantum start time.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atomic_float::AtomicF32;

use super::engine_wire::Report;
use super::event_monitor::EventMonitor;
use crate::engine::Transport;

/// A quantum that has run this many times its own duration is reported hung.
pub const HUNG_FACTOR: u32 = 40;
/// ... and at least this long.
pub const HUNG_MIN: Duration = Duration::from_millis(100);

/// The state of the active generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GenerationState {
    /// Nothing is loaded yet (or the first load failed).
    Empty,
    /// Rendering.
    Running,
    /// The processor threw; the generation outputs silence.
    Errored,
    /// The render thread has been inside one quantum far past its deadline.
    Hung,
}

/// Channels the peak meters show (the plugin's layouts have at most two).
pub const METER_CHANNELS: usize = 2;

/// Peak levels (linear) since the meters were last read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peaks {
    /// Host input, per channel.
    pub input: [f32; METER_CHANNELS],
    /// Output to the host, per channel.
    pub output: [f32; METER_CHANNELS],
}

/// Shared counters and gauges, in two groups by writer, each on cache lines of
/// its own: the host's audio thread and the render thread never write the same
/// line, so neither slows the other down (false sharing).
#[derive(Debug)]
pub struct Telemetry {
    epoch: Instant,
    sample_rate: f64,
    quantum_ns: u64,
    latency_frames: AtomicU64,
    host: CacheLines<HostWritten>,
    render: CacheLines<RenderWritten>,
    monitor: CacheLines<EventMonitor>,
}

/// Written by the host's audio thread.
#[derive(Debug, Default)]
struct HostWritten {
    underruns: AtomicU64,
    /// MIDI dropped on the host side (a ring or the block's buffer full).
    dropped_events: AtomicU64,
    active_generation: AtomicU64,
    input_peak: [AtomicF32; METER_CHANNELS],
    output_peak: [AtomicF32; METER_CHANNELS],
    /// The host's transport at its last block (see [`Telemetry::transport`]).
    transport: [AtomicU64; 4],
}

/// Written by the active generation's render thread.
#[derive(Debug, Default)]
struct RenderWritten {
    load: AtomicF32,
    dropped_messages: AtomicU64,
    state: AtomicU8,
    /// Nanoseconds since `epoch` when the active quantum started; 0 when idle
    /// (the host side also clears it when it switches generations).
    quantum_started: AtomicU64,
    quanta: AtomicU64,
    nonfinite_samples: AtomicU64,
    /// MIDI dropped on the active generation's render side.
    dropped_events: AtomicU64,
}

/// `T` aligned to two cache lines (adjacent-line prefetchers pair them).
#[derive(Debug, Default)]
#[repr(align(128))]
struct CacheLines<T>(T);

impl<T> std::ops::Deref for CacheLines<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl Telemetry {
    pub(crate) fn new(sample_rate: f64, latency_frames: usize) -> Self {
        Self {
            epoch: Instant::now(),
            sample_rate,
            quantum_ns: (128.0 / sample_rate * 1e9) as u64,
            latency_frames: AtomicU64::new(latency_frames as u64),
            host: CacheLines::default(),
            render: CacheLines(RenderWritten {
                state: AtomicU8::new(GenerationState::Empty as u8),
                ..RenderWritten::default()
            }),
            monitor: CacheLines::default(),
        }
    }

    /// The window onto the MIDI passing each way (the editor's console).
    pub fn monitor(&self) -> &EventMonitor {
        &self.monitor
    }

    /// The transport the host reported with its last block (`None`: none, a
    /// free-running host), for the editor. Its fields are read one by one, so
    /// they may come from two neighbouring blocks.
    pub fn transport(&self) -> Option<Transport> {
        let [flags, tempo, beats, bar] = std::array::from_fn(|i| self.host.transport[i].load(Ordering::Relaxed));
        (flags & 1 == 1).then(|| Transport {
            playing: flags & 2 != 0,
            recording: flags & 4 != 0,
            looping: flags & 8 != 0,
            numerator: (flags >> 8 & 0xffff) as u32,
            denominator: (flags >> 24 & 0xffff) as u32,
            tempo: f64::from_bits(tempo),
            beats: f64::from_bits(beats),
            bar: bar as i64,
            ..Transport::default()
        })
    }

    /// Keeps the host's transport of this block (audio thread; atomics only).
    pub(crate) fn set_transport(&self, transport: Option<&Transport>) {
        let words = match transport {
            None => [0; 4],
            Some(t) => [
                1 | u64::from(t.playing) << 1
                    | u64::from(t.recording) << 2
                    | u64::from(t.looping) << 3
                    | u64::from(t.numerator.min(0xffff)) << 8
                    | u64::from(t.denominator.min(0xffff)) << 24,
                t.tempo.to_bits(),
                t.beats.to_bits(),
                t.bar as u64,
            ],
        };
        for (word, value) in self.host.transport.iter().zip(words) {
            word.store(value, Ordering::Relaxed);
        }
    }

    /// The context's sample rate.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Render load of the active generation: time in `process` per quantum over
    /// the quantum's duration (smoothed), like `AudioRenderCapacity`.
    pub fn load(&self) -> f32 {
        self.render.load.load(Ordering::Relaxed)
    }

    /// Host blocks (or parts) that had to output silence because a quantum was late.
    pub fn underruns(&self) -> u64 {
        self.host.underruns.load(Ordering::Relaxed)
    }

    /// Messages dropped by the active generation's queues.
    pub fn dropped_messages(&self) -> u64 {
        self.render.dropped_messages.load(Ordering::Relaxed)
    }

    /// MIDI events dropped (a flood over what a ring or a quantum holds, or
    /// malformed output): on the host side in total, plus the active generation's.
    pub fn dropped_events(&self) -> u64 {
        self.host.dropped_events.load(Ordering::Relaxed) + self.render.dropped_events.load(Ordering::Relaxed)
    }

    /// NaN and infinite samples of the active generation replaced by silence.
    pub fn nonfinite_samples(&self) -> u64 {
        self.render.nonfinite_samples.load(Ordering::Relaxed)
    }

    /// The latency reported to the host, in frames.
    pub fn latency_frames(&self) -> u64 {
        self.latency_frames.load(Ordering::Relaxed)
    }

    /// Id of the generation the host is playing (0: none yet).
    pub fn active_generation(&self) -> u64 {
        self.host.active_generation.load(Ordering::Acquire)
    }

    /// Quanta rendered by the active generation.
    pub fn quanta(&self) -> u64 {
        self.render.quanta.load(Ordering::Relaxed)
    }

    /// The active generation's state, with hung detection.
    pub fn state(&self) -> GenerationState {
        let started = self.render.quantum_started.load(Ordering::Acquire);
        if started != 0 {
            let running_for = self.now_ns().saturating_sub(started);
            let limit = (self.quantum_ns * u64::from(HUNG_FACTOR)).max(HUNG_MIN.as_nanos() as u64);
            if running_for > limit {
                return GenerationState::Hung;
            }
        }
        match self.render.state.load(Ordering::Relaxed) {
            1 => GenerationState::Running,
            2 => GenerationState::Errored,
            _ => GenerationState::Empty,
        }
    }

    /// The peaks since the last call, and resets them (the editor's meters).
    pub fn take_peaks(&self) -> Peaks {
        Peaks {
            input: std::array::from_fn(|c| self.host.input_peak[c].swap(0.0, Ordering::Relaxed)),
            output: std::array::from_fn(|c| self.host.output_peak[c].swap(0.0, Ordering::Relaxed)),
        }
    }

    /// Raises the peaks to this block's (audio thread; lock-free, no allocation).
    pub(crate) fn meter(&self, inputs: &[&[f32]], outputs: &[&mut [f32]]) {
        for (peak, channel) in self.host.input_peak.iter().zip(inputs) {
            peak.fetch_max(block_peak(channel), Ordering::Relaxed);
        }
        for (peak, channel) in self.host.output_peak.iter().zip(outputs) {
            peak.fetch_max(block_peak(channel), Ordering::Relaxed);
        }
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    pub(crate) fn count_underrun(&self) {
        self.host.underruns.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_dropped_events(&self, count: u64) {
        if count > 0 {
            self.host.dropped_events.fetch_add(count, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_render_events_dropped(&self, total: u64) {
        self.render.dropped_events.store(total, Ordering::Relaxed);
    }

    pub(crate) fn set_active(&self, generation: u64) {
        self.host.active_generation.store(generation, Ordering::Release);
        self.render.quantum_started.store(0, Ordering::Release);
    }

    pub(crate) fn is_active(&self, generation: u64) -> bool {
        self.active_generation() == generation
    }

    pub(crate) fn quantum_started(&self, at: u64) {
        self.render.quantum_started.store(at, Ordering::Release);
    }

    pub(crate) fn quantum_finished(&self, elapsed_ns: u64, errored: bool, dropped: u64, nonfinite: u64) {
        self.render.quantum_started.store(0, Ordering::Release);
        let load = elapsed_ns as f32 / self.quantum_ns as f32;
        let smoothed = self.render.load.load(Ordering::Relaxed) * 0.9 + load * 0.1;
        self.render.load.store(smoothed, Ordering::Relaxed);
        let state = if errored { GenerationState::Errored } else { GenerationState::Running };
        self.render.state.store(state as u8, Ordering::Relaxed);
        self.render.dropped_messages.store(dropped, Ordering::Relaxed);
        self.render.nonfinite_samples.store(nonfinite, Ordering::Relaxed);
        self.render.quanta.fetch_add(1, Ordering::Relaxed);
    }
}

impl Telemetry {
    /// The render side's figures for an engine process's report; `quanta` is
    /// what was rendered since `reported` (updated).
    pub(crate) fn report(&self, reported: &mut u64) -> Report {
        let render = &self.render;
        let quanta = render.quanta.load(Ordering::Relaxed);
        let started = render.quantum_started.load(Ordering::Acquire);
        let report = Report {
            load: render.load.load(Ordering::Relaxed),
            state: render.state.load(Ordering::Relaxed),
            dropped_messages: render.dropped_messages.load(Ordering::Relaxed),
            nonfinite_samples: render.nonfinite_samples.load(Ordering::Relaxed),
            dropped_events: render.dropped_events.load(Ordering::Relaxed),
            quanta: quanta - *reported,
            running_ns: if started == 0 { 0 } else { self.now_ns().saturating_sub(started).max(1) },
            ..Report::default()
        };
        *reported = quanta;
        report
    }

    /// Takes an engine process's report as if its render thread had written it here.
    pub(crate) fn apply(&self, report: &Report) {
        let render = &self.render;
        render.load.store(report.load, Ordering::Relaxed);
        render.state.store(report.state, Ordering::Relaxed);
        render.dropped_messages.store(report.dropped_messages, Ordering::Relaxed);
        render.nonfinite_samples.store(report.nonfinite_samples, Ordering::Relaxed);
        render.dropped_events.store(report.dropped_events, Ordering::Relaxed);
        render.quanta.fetch_add(report.quanta, Ordering::Relaxed);
        let started = if report.running_ns == 0 { 0 } else { self.now_ns().saturating_sub(report.running_ns).max(1) };
        render.quantum_started.store(started, Ordering::Release);
    }
}

/// Largest magnitude in a block (NaN counts as silence).
fn block_peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0_f32, |peak, x| peak.max(x.abs()))
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn the_two_writers_never_share_a_cache_line() {
        let telemetry = Telemetry::new(48_000.0, 384);
        let host = std::ptr::from_ref(&*telemetry.host) as usize;
        let render = std::ptr::from_ref(&*telemetry.render) as usize;
        let (first, second, first_size) = if host < render {
            (host, render, size_of::<HostWritten>())
        } else {
            (render, host, size_of::<RenderWritten>())
        };
        assert_eq!(host % 128, 0);
        assert_eq!(render % 128, 0);
        assert!(first + first_size <= second && second - first >= 128, "groups at {first:#x} and {second:#x}");
    }
}
