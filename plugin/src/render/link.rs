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
    /// One ring per input channel (planar, so copies are `memcpy`s).
    input: Vec<Producer<f32>>,
    /// One ring per output channel.
    output: Vec<Consumer<f32>>,
    events: Producer<ParamEvent>,
    thread: Thread,
    stop: Arc<AtomicBool>,
    /// Set by the render thread just before it parks.
    sleeping: Arc<AtomicBool>,
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
        input: Vec<Producer<f32>>,
        output: Vec<Consumer<f32>>,
        events: Producer<ParamEvent>,
        thread: Thread,
        stop: Arc<AtomicBool>,
        sleeping: Arc<AtomicBool>,
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

    /// Feeds frames `range` of each input channel (missing channels are silent).
    /// Returns `false` if some did not fit (the render thread is far behind);
    /// their place is kept with zeros.
    pub(crate) fn feed(&mut self, inputs: &[&[f32]], range: std::ops::Range<usize>) -> bool {
        let frames = range.len();
        let room = self.input.first().map_or(0, Producer::slots);
        let debt = self.input_debt.min(room);
        let fits = if self.input_debt > debt { 0 } else { frames.min(room - debt) };
        for (channel, ring) in self.input.iter_mut().enumerate() {
            let source = inputs.get(channel).and_then(|c| c.get(range.start..range.start + fits));
            // `write_chunk` hands out zeroed slots: debt and missing channels stay silent.
            if let Ok(mut chunk) = ring.write_chunk(debt + fits) {
                let (first, second) = chunk.as_mut_slices();
                if let Some(source) = source {
                    copy_into(source, first, second, debt);
                }
                chunk.commit_all();
            }
        }
        self.input_debt = self.input_debt - debt + (frames - fits);
        self.fed += frames as u64;
        fits == frames
    }

    /// Sends a parameter change at the generation's absolute `frame`.
    pub(crate) fn push_event(&mut self, frame: u64, slot: u16, value: f32) -> bool {
        self.events.push(ParamEvent { frame, slot, value }).is_ok()
    }

    /// Fills the first `frames` samples of each `out` channel with the next
    /// output. Returns how many frames were late and played as silence.
    pub(crate) fn read(&mut self, out: &mut [Vec<f32>], frames: usize) -> usize {
        let silent = self.prefill.min(frames);
        for channel in out.iter_mut() {
            channel[..silent].fill(0.0);
        }
        self.prefill -= silent;
        let want = frames - silent;
        if want == 0 {
            return 0;
        }
        let available = self.available();
        let discard = self.skip.min(available);
        if discard > 0 {
            for ring in &mut self.output {
                if let Ok(chunk) = ring.read_chunk(discard) {
                    chunk.commit_all();
                }
            }
            self.skip -= discard;
            self.taken += discard as u64;
        }
        let take = if self.skip > 0 { 0 } else { want.min(self.available()) };
        for (ring, channel) in self.output.iter_mut().zip(out.iter_mut()) {
            let target = &mut channel[silent..silent + take];
            if let Ok(chunk) = ring.read_chunk(take) {
                let (first, second) = chunk.as_slices();
                target[..first.len()].copy_from_slice(first);
                target[first.len()..].copy_from_slice(second);
                chunk.commit_all();
            }
            channel[silent + take..frames].fill(0.0);
        }
        self.taken += take as u64;
        let missing = want - take;
        self.skip += missing;
        missing
    }

    /// Rendered frames waiting in the output rings.
    fn available(&self) -> usize {
        self.output.iter().map(Consumer::slots).min().unwrap_or(0)
    }

    /// Complete quanta fed but not yet rendered, in frames.
    pub(crate) fn backlog(&self) -> u64 {
        let complete = (self.fed - self.input_debt as u64) / 128 * 128;
        complete.saturating_sub(self.taken + self.available() as u64)
    }

    /// Wakes the render thread if it sleeps and input is piling up. An idle
    /// render thread looks for work every millisecond by itself, so a single
    /// waiting quantum does not need the system call an unpark costs.
    pub(crate) fn wake(&self) {
        let waiting = self.input.first().map_or(0, |ring| ring.buffer().capacity() - ring.slots());
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

/// Copies `source` into a ring chunk's two slices, starting `skip` samples in.
fn copy_into(source: &[f32], first: &mut [f32], second: &mut [f32], skip: usize) {
    let in_first = first.len().saturating_sub(skip).min(source.len());
    if in_first > 0 {
        first[skip..skip + in_first].copy_from_slice(&source[..in_first]);
    }
    let rest = &source[in_first..];
    let offset = skip.saturating_sub(first.len());
    second[offset..offset + rest.len()].copy_from_slice(rest);
}
