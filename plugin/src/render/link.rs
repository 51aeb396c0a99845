//! One generation's endpoints on the host side. Owned by the host audio thread
//! while the generation plays; created and finally dropped on the control thread.
//! Nothing here allocates, locks or waits.

use super::block_event::{BlockEvent, EventsOut};
use super::config::PARAM_SLOTS;
use super::event_ring;
use super::generation_memory::{Control, HostEnds};
use super::params::ParamEvent;
use super::slot_range::SlotRange;
use super::worker::Ready;
use crate::sys::ring::{Consumer, Producer};

/// Quanta of input waiting before the host wakes a sleeping render thread.
const WAKE_QUANTA: usize = 2;

/// The host side of one generation: its input, output and event rings.
pub(crate) struct GenerationLink {
    pub(crate) id: u64,
    /// One ring per input channel (planar, so copies are `memcpy`s).
    input: Vec<Producer<f32>>,
    /// One ring per output channel.
    output: Vec<Consumer<f32>>,
    events: Producer<[u64; 2]>,
    /// MIDI and the transport to the render side, and the MIDI it sends back.
    midi: Producer<[u64; 2]>,
    midi_back: Consumer<[u64; 2]>,
    /// A record of MIDI sent back that belongs to frames not played yet.
    held_back: Option<[u64; 2]>,
    /// The last transport sent, at its frame; a later one that only moved on in
    /// time is not sent again.
    transport_sent: Option<(u64, crate::engine::Transport)>,
    /// The rendered frames the last `read` played, and where: first frame,
    /// frames, offset in the piece it filled.
    played: (u64, usize, usize),
    /// Stop, sleeping and the wake counter, shared with the render side.
    control: Control,
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
    /// How this generation maps the host's normalized slot values.
    slots: SlotMap,
    /// An offline render gave up waiting for this generation (it hung).
    given_up: bool,
}

/// Per slot: the range of the descriptor this generation maps onto it, and a
/// hash of the descriptor's name (0: unmapped), to tell whether a value the host
/// set for another generation means the same parameter here.
#[derive(Clone, Copy)]
pub(crate) struct SlotMap {
    ranges: [Option<SlotRange>; PARAM_SLOTS],
    names: [u64; PARAM_SLOTS],
}

impl SlotMap {
    /// The mapping of a built generation (control thread).
    pub(crate) fn of(ready: &Ready) -> Self {
        let mut map = Self { ranges: [None; PARAM_SLOTS], names: [0; PARAM_SLOTS] };
        for (descriptor, slot) in ready.descriptors.iter().zip(&ready.slots) {
            if let Some(slot) = slot.filter(|&s| s < PARAM_SLOTS) {
                map.ranges[slot] = Some(SlotRange::of(descriptor));
                map.names[slot] = name_hash(&descriptor.name);
            }
        }
        map
    }

    /// The descriptor name hash of `slot` (0: unmapped).
    pub(crate) fn name(&self, slot: usize) -> u64 {
        self.names.get(slot).copied().unwrap_or(0)
    }
}

/// A non-zero hash of a descriptor name.
fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish() | 1
}

impl GenerationLink {
    pub(crate) fn new(id: u64, ends: HostEnds, control: Control, latency: usize) -> Self {
        Self {
            id,
            input: ends.input,
            output: ends.output,
            events: ends.events,
            midi: ends.midi,
            midi_back: ends.midi_back,
            held_back: None,
            transport_sent: None,
            played: (0, 0, 0),
            control,
            fed: 0,
            input_debt: 0,
            prefill: latency,
            skip: 0,
            taken: 0,
            slots: SlotMap { ranges: [None; PARAM_SLOTS], names: [0; PARAM_SLOTS] },
            given_up: false,
        }
    }

    /// Sets how this generation maps slot values (control thread, before the
    /// link goes to the host side).
    pub(crate) fn set_slots(&mut self, slots: SlotMap) {
        self.slots = slots;
    }

    /// The slot mapping.
    pub(crate) fn slots(&self) -> &SlotMap {
        &self.slots
    }

    /// Whether an offline render stopped waiting for this generation.
    pub(crate) fn given_up(&self) -> bool {
        self.given_up
    }

    /// Whether the generation was told to stop: retired, or its engine process
    /// died (the control thread saw it), so nothing more will be rendered.
    pub(crate) fn stopped(&self) -> bool {
        self.control.stopped()
    }

    /// Stops waiting for this generation in offline renders (it hung).
    pub(crate) fn give_up(&mut self) {
        self.given_up = true;
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
        // The render thread frees the channel rings one after the other, so the
        // room that counts is the smallest: every channel gets the same frames.
        let room = self.input.iter().map(Producer::slots).min().unwrap_or(0);
        let debt = self.input_debt.min(room);
        let fits = if self.input_debt > debt { 0 } else { frames.min(room - debt) };
        for (channel, ring) in self.input.iter_mut().enumerate() {
            let source = inputs.get(channel).and_then(|c| c.get(range.start..range.start + fits));
            // `write_chunk` hands out zeroed slots: debt and missing channels stay silent.
            if let Some(mut chunk) = ring.write_chunk(debt + fits) {
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

    /// Sends the host's normalized value of `slot` from the generation's absolute
    /// `frame` on, mapped with this generation's own range. A slot it does not map
    /// is ignored; a full queue drops the change (returns `false`).
    pub(crate) fn push_event(&mut self, frame: u64, slot: u16, normalized: f32) -> bool {
        let Some(range) = self.slots.ranges.get(usize::from(slot)).copied().flatten() else { return true };
        self.events.push(ParamEvent { frame, slot, value: range.value(normalized) }.to_words()).is_ok()
    }

    /// Sends a MIDI message at the generation's absolute `frame`; `false` when the
    /// ring is full (dropped).
    pub(crate) fn push_midi(&mut self, frame: u64, event: &BlockEvent) -> bool {
        event_ring::push_event(&mut self.midi, frame, event)
    }

    /// Sends a SysEx message at the generation's absolute `frame`; `false` when
    /// the ring has no room for it (dropped).
    pub(crate) fn push_sysex(&mut self, frame: u64, bytes: &[u8]) -> bool {
        event_ring::push_sysex(&mut self.midi, frame, bytes)
    }

    /// Sends the host's transport at `frame` unless it is where the last one sent
    /// has moved on to by then; `false` when the ring is full (it is sent again
    /// with the next block).
    pub(crate) fn push_transport(&mut self, frame: u64, transport: &crate::engine::Transport, rate: f64) -> bool {
        if let Some((at, sent)) = &self.transport_sent {
            let expected = sent.advanced(frame.saturating_sub(*at), rate);
            let same = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(1.0);
            let moved_on = expected.playing == transport.playing
                && expected.recording == transport.recording
                && expected.looping == transport.looping
                && (expected.numerator, expected.denominator) == (transport.numerator, transport.denominator)
                && expected.bar == transport.bar
                && expected.loop_beats == transport.loop_beats
                && same(expected.tempo, transport.tempo)
                && same(expected.beats, transport.beats)
                && same(expected.seconds, transport.seconds)
                && same(expected.bar_start_beats, transport.bar_start_beats);
            if moved_on {
                return true;
            }
        }
        let pushed = event_ring::push_transport(&mut self.midi, frame, transport);
        if pushed {
            self.transport_sent = Some((frame, *transport));
        }
        pushed
    }

    /// Moves the MIDI the processor sent for the frames the last [`Self::read`]
    /// played into `out`, at `at` plus their place in that read. Returns how
    /// many did not fit.
    /// With no `out` (a generation not heard yet), they are discarded.
    pub(crate) fn take_out(&mut self, at: usize, out: Option<&mut EventsOut>) -> u64 {
        let (first, take, offset) = self.played;
        event_ring::take_out(&mut self.midi_back, &mut self.held_back, first, take, at + offset, out)
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
            self.played = (self.taken, 0, silent);
            return 0;
        }
        let available = self.available();
        let discard = self.skip.min(available);
        if discard > 0 {
            for ring in &mut self.output {
                if let Some(chunk) = ring.read_chunk(discard) {
                    chunk.commit_all();
                }
            }
            self.skip -= discard;
            self.taken += discard as u64;
        }
        let take = if self.skip > 0 { 0 } else { want.min(self.available()) };
        self.played = (self.taken, take, silent);
        for (ring, channel) in self.output.iter_mut().zip(out.iter_mut()) {
            let target = &mut channel[silent..silent + take];
            if let Some(chunk) = ring.read_chunk(take) {
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
    /// waiting quantum does not need the system call a wake costs.
    ///
    /// The handshake with a sleeping render thread is [`Control::wake`]'s.
    pub(crate) fn wake(&self) {
        let waiting = self.input.first().map_or(0, |ring| ring.capacity() - ring.slots());
        if waiting >= WAKE_QUANTA * 128 {
            self.control.wake();
        }
    }

    /// Frames the next `read(frames)` takes from the output rings (late frames
    /// to discard included).
    fn needed(&self, frames: usize) -> usize {
        self.skip + frames.saturating_sub(self.prefill)
    }

    /// Whether the next `read(frames)` finds every rendered frame it needs, or
    /// nothing more can come (every complete quantum fed is rendered).
    pub(crate) fn can_play(&self, frames: usize) -> bool {
        self.available() >= self.needed(frames) || self.backlog() == 0
    }

    /// Sleeps until [`GenerationLink::can_play`] `frames`, the generation stops,
    /// or `timeout` passes (offline rendering).
    pub(crate) fn wait_playable(&self, frames: usize, timeout: std::time::Duration) {
        let missing = self.needed(frames).saturating_sub(self.available());
        self.wait_rendered(missing as u64, timeout, || self.can_play(frames));
    }

    /// Sleeps until at most `frames` of complete input are left to render, the
    /// generation stops, or `timeout` passes (offline rendering and benchmarks).
    pub(crate) fn wait_backlog(&self, frames: u64, timeout: std::time::Duration) {
        self.wait_rendered(self.backlog().saturating_sub(frames), timeout, || self.backlog() <= frames);
    }

    /// Sleeps until `ready()`, asking the render side to wake it once `missing`
    /// more frames are rendered; may return early, callers look again.
    fn wait_rendered(&self, missing: u64, timeout: std::time::Duration, ready: impl Fn() -> bool) {
        let quanta = missing.div_ceil(128).min(u64::from(u32::MAX)) as u32;
        self.control.wait_rendered(quanta, timeout, ready);
    }

    /// Wakes the render thread if it sleeps, however little input waits
    /// (offline rendering, where the host is about to wait for it).
    pub(crate) fn wake_if_sleeping(&self) {
        self.control.wake();
    }

    /// Tells the render thread to finish.
    pub(crate) fn stop(&self) {
        self.control.stop();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::generation_memory::{GenerationMemory, Layout};

    fn link(channels: usize, capacity: usize) -> (GenerationLink, Vec<Consumer<f32>>) {
        let layout = Layout { input_channels: channels, output_channels: 1, ring_frames: capacity, event_capacity: 16 };
        let memory = GenerationMemory::heap(layout);
        let link = GenerationLink::new(1, memory.host_ends(), memory.control(), 0);
        (link, memory.render_ends().input)
    }

    fn pop(ring: &mut Consumer<f32>, frames: usize) -> Vec<f32> {
        let chunk = ring.read_chunk(frames).unwrap();
        let (first, second) = chunk.as_slices();
        let values = [first, second].concat();
        chunk.commit_all();
        values
    }

    /// The render thread frees ring 0 before ring 1; a block fed in between must
    /// not reach ring 0 alone, or channel 1 lags channel 0 for good.
    #[test]
    fn channels_stay_aligned_when_the_rings_are_freed_one_after_the_other() {
        let (mut link, mut rings) = link(2, 256);
        let block = |value: f32| [vec![value; 128], vec![value + 0.5; 128]];
        let feed = |link: &mut GenerationLink, value: f32| {
            let [a, b] = block(value);
            link.feed(&[&a, &b], 0..128)
        };
        assert!(feed(&mut link, 1.0) && feed(&mut link, 2.0), "the rings are full now");
        let first = pop(&mut rings[0], 128);
        // The host's next block arrives between the two reads of the render thread.
        assert!(!feed(&mut link, 3.0), "no room on channel 1: the block waits as debt on both");
        let second = pop(&mut rings[1], 128);
        assert!(first.iter().all(|&s| s == 1.0) && second.iter().all(|&s| s == 1.5));
        assert!(!feed(&mut link, 4.0), "the room left pays the debt (zeros) first, on both channels");
        assert_eq!(rings[0].slots(), 256);
        assert_eq!(rings[0].slots(), rings[1].slots(), "both channels hold the same frames");
        let held = rings[0].slots();
        let (a, b) = (pop(&mut rings[0], held), pop(&mut rings[1], held));
        for (frame, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(*x == 0.0, *y == 0.0, "frame {frame}: {x} and {y} belong to different blocks");
            if *x != 0.0 {
                assert_eq!(*y, x + 0.5, "frame {frame}");
            }
        }
        assert_eq!(link.fed(), 512);
    }
}
