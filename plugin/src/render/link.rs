//! One generation's endpoints on the host side. Owned by the host audio thread
//! while the generation plays; created and finally dropped on the control thread.
//! Nothing here allocates, locks or waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;

use rtrb::{Consumer, Producer};

use super::params::ParamEvent;

/// Quanta of input waiting before the host wakes a sleeping render thread.
const WAKE_QUANTA: usize = 2;

/// The host side of one generation: its input, output and event rings.
pub(crate) struct GenerationLink {
    pub(crate) id: u64,
    input: Producer<f32>,
    output: Consumer<f32>,
    events: Producer<ParamEvent>,
    thread: Thread,
    stop: Arc<AtomicBool>,
    /// Set by the render thread just before it parks.
    sleeping: Arc<AtomicBool>,
    input_channels: usize,
    output_channels: usize,
    /// Frames fed so far (the generation's timeline).
    fed: u64,
    /// Input frames that did not fit; zeros are fed for them first, so the
    /// timeline stays aligned.
    input_debt: usize,
    /// Output frames still to play as silence before reading the ring: the
    /// latency, which also aligns a new generation with the one it replaces.
    prefill: usize,
    /// Output frames played as silence because they were late; discarded when
    /// they arrive, so the latency stays constant.
    skip: usize,
    /// Frames taken out of the output ring (played or discarded).
    taken: u64,
}

impl GenerationLink {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u64,
        input: Producer<f32>,
        output: Consumer<f32>,
        events: Producer<ParamEvent>,
        thread: Thread,
        stop: Arc<AtomicBool>,
        sleeping: Arc<AtomicBool>,
        channels: (usize, usize),
        latency: usize,
    ) -> Self {
        Self {
            id,
            input,
            output,
            events,
            thread,
            stop,
            sleeping,
            input_channels: channels.0,
            output_channels: channels.1,
            fed: 0,
            input_debt: 0,
            prefill: latency,
            skip: 0,
            taken: 0,
        }
    }

    /// Frames fed so far.
    pub(crate) fn fed(&self) -> u64 {
        self.fed
    }

    /// Output frames still played as silence before this generation is heard.
    pub(crate) fn prefill(&self) -> usize {
        self.prefill
    }

    /// Feeds interleaved input frames. Returns `false` if some did not fit (the
    /// render thread is far behind); their place is kept with zeros.
    pub(crate) fn feed(&mut self, interleaved: &[f32]) -> bool {
        let channels = self.input_channels.max(1);
        let frames = interleaved.len() / channels;
        let room = self.input.slots() / channels;
        let debt = self.input_debt.min(room);
        if debt > 0 && let Ok(chunk) = self.input.write_chunk_uninit(debt * channels) {
            chunk.fill_from_iter(std::iter::repeat(0.0));
            self.input_debt -= debt;
        }
        let room = room - debt;
        let fits = if self.input_debt > 0 { 0 } else { frames.min(room) };
        if fits > 0 && let Ok(chunk) = self.input.write_chunk_uninit(fits * channels) {
            chunk.fill_from_iter(interleaved[..fits * channels].iter().copied());
        }
        self.input_debt += frames - fits;
        self.fed += frames as u64;
        fits == frames
    }

    /// Sends a parameter change at the generation's absolute `frame`.
    pub(crate) fn push_event(&mut self, frame: u64, slot: u16, value: f32) -> bool {
        self.events.push(ParamEvent { frame, slot, value }).is_ok()
    }

    /// Fills `out` (interleaved) with the next output frames. Returns how many
    /// frames were late and played as silence.
    pub(crate) fn read(&mut self, out: &mut [f32]) -> usize {
        let channels = self.output_channels.max(1);
        let frames = out.len() / channels;
        let silent = self.prefill.min(frames);
        out[..silent * channels].fill(0.0);
        self.prefill -= silent;
        let want = frames - silent;
        if want == 0 {
            return 0;
        }
        let discard = self.skip.min(self.output.slots() / channels);
        if discard > 0 && let Ok(chunk) = self.output.read_chunk(discard * channels) {
            chunk.commit_all();
            self.skip -= discard;
            self.taken += discard as u64;
        }
        let take = if self.skip > 0 { 0 } else { want.min(self.output.slots() / channels) };
        let start = silent * channels;
        if take > 0 && let Ok(chunk) = self.output.read_chunk(take * channels) {
            let (first, second) = chunk.as_slices();
            out[start..start + first.len()].copy_from_slice(first);
            out[start + first.len()..start + first.len() + second.len()].copy_from_slice(second);
            chunk.commit_all();
            self.taken += take as u64;
        }
        let missing = want - take;
        out[start + take * channels..frames * channels].fill(0.0);
        self.skip += missing;
        missing
    }

    /// Complete quanta fed but not yet rendered, in frames.
    pub(crate) fn backlog(&self) -> u64 {
        let channels = self.output_channels.max(1);
        let complete = (self.fed - self.input_debt as u64) / 128 * 128;
        complete.saturating_sub(self.taken + (self.output.slots() / channels) as u64)
    }

    /// Wakes the render thread if it sleeps and input is piling up. An idle
    /// render thread looks for work every millisecond by itself, so a single
    /// waiting quantum does not need the system call an unpark costs.
    pub(crate) fn wake(&self) {
        let waiting = (self.input.buffer().capacity() - self.input.slots()) / self.input_channels.max(1);
        if waiting >= WAKE_QUANTA * 128 && self.sleeping.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
    }

    /// Wakes the render thread unconditionally (offline rendering).
    pub(crate) fn wake_now(&self) {
        self.thread.unpark();
    }

    /// Tells the render thread to finish.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
