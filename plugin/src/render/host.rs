//! The host side of a pipeline, called from the host's audio thread.
//!
//! [`HostSide::process`] takes blocks of any size, feeds them to the playing
//! generation's render thread through wait-free rings and plays its output with
//! a constant latency. It never allocates, locks, logs or waits: a late quantum
//! becomes silence and is counted as an underrun. (When the host renders offline,
//! faster than real time, it does wait for the render thread, as a bounce must.)
//!
//! A hot swap arrives as a new generation link. It is attached at a quantum
//! boundary of the playing generation and fed the same input; once its output
//! is due (one latency later, on the same grid) the two are crossfaded with equal
//! gain (a raised-cosine curve whose two gains always sum to one, so the level of
//! the correlated outputs of two versions of a script stays put), and the old link
//! is sent back to the control thread to be dropped. A link that arrives during a
//! fade waits for it to finish; of several waiting links only the newest is kept.
//!
//! Parameter changes arrive as normalized slot values. Every link maps them with
//! its own generation's ranges, and a link is given the latest value of each slot
//! that means the same parameter for it when it is attached, so no generation
//! hears values meant for another's ranges and none misses a change.

use std::f32::consts::PI;
use std::sync::Arc;

use rtrb::{Consumer, Producer};

use super::block_event::{BlockEvent, EventsIn, EventsOut};
use super::config::{PARAM_SLOTS, PipelineConfig};
use super::link::GenerationLink;
use super::params::ParamChange;
use super::telemetry::Telemetry;
use crate::engine::{RENDER_QUANTUM, Transport};

/// How long an offline render waits for a render thread before playing silence.
const OFFLINE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// An offline wait for a render thread looks at its generation's state at
/// least this often (a quantum rendered wakes it sooner).
const WAIT_SLICE: std::time::Duration = std::time::Duration::from_millis(10);

/// Lives on the host's audio thread (it may move between host threads).
pub struct HostSide {
    max_block: usize,
    fade_frames: usize,
    offline: bool,
    current: Option<Box<GenerationLink>>,
    /// A new generation being fed, not yet (fully) heard.
    incoming: Option<Box<GenerationLink>>,
    /// A new generation waiting for the playing one's next quantum boundary.
    waiting: Option<Box<GenerationLink>>,
    /// Frames of crossfade done.
    faded: usize,
    links: Consumer<Box<GenerationLink>>,
    retired: Producer<Box<GenerationLink>>,
    telemetry: Arc<Telemetry>,
    /// Per output channel, one host block: the playing and the incoming output.
    current_scratch: Vec<Vec<f32>>,
    incoming_scratch: Vec<Vec<f32>>,
    /// The latest normalized value of each slot (NaN: never set), and the name
    /// hash of the parameter it was set for.
    latest: [(f32, u64); PARAM_SLOTS],
    sample_rate: f64,
    /// Channels of the main input and output bus (the meters show those).
    main_buses: (usize, usize),
    /// Notes the playing generation left on (per channel, a bit per key): they
    /// are ended when it is replaced, so none hangs.
    notes_on: [u128; 16],
}

impl HostSide {
    pub(crate) fn new(
        config: &PipelineConfig,
        links: Consumer<Box<GenerationLink>>,
        retired: Producer<Box<GenerationLink>>,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        Self {
            max_block: config.max_block,
            fade_frames: config.fade_frames(),
            offline: config.offline,
            current: None,
            incoming: None,
            waiting: None,
            faded: 0,
            links,
            retired,
            telemetry,
            current_scratch: vec![vec![0.0; config.max_block]; config.output_buses().iter().sum()],
            incoming_scratch: vec![vec![0.0; config.max_block]; config.output_buses().iter().sum()],
            main_buses: (config.input_buses()[0], config.output_buses()[0]),
            latest: [(f32::NAN, 0); PARAM_SLOTS],
            sample_rate: config.sample_rate,
            notes_on: [0; 16],
        }
    }

    /// Processes one host block. `inputs` and `outputs` are per channel, the
    /// buses' one after the other ([`PipelineConfig::input_buses`],
    /// [`PipelineConfig::output_buses`]: the main input, padded to one channel,
    /// then the sidechain; the main output, then the auxiliary ones); missing
    /// input channels are silent, extra ones ignored. `changes` are sample-accurate
    /// normalized slot values inside this block, sorted by offset.
    ///
    /// Called on the audio thread; never allocates, locks or waits.
    pub fn process(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]], changes: &[ParamChange]) {
        self.process_with_events(inputs, outputs, changes, EventsIn::default(), None, None);
    }

    /// [`Self::process`] with the block's MIDI (sorted by offset) and the host's
    /// transport at its first frame (`None`: the host reports none). They reach
    /// the processor with the audio they arrived with; what it sends comes back
    /// into `out` one latency later, at the frame it was sent, as its audio does.
    /// Events that find a ring full are dropped and counted (telemetry).
    ///
    /// Called on the audio thread; never allocates, locks or waits.
    pub fn process_with_events(
        &mut self,
        inputs: &[&[f32]],
        outputs: &mut [&mut [f32]],
        changes: &[ParamChange],
        events: EventsIn<'_>,
        transport: Option<&Transport>,
        mut out: Option<&mut EventsOut>,
    ) {
        let frames = outputs.first().map_or_else(|| inputs.first().map_or(0, |c| c.len()), |c| c.len());
        self.telemetry.set_transport(transport);
        self.telemetry.monitor().record(false, events.events);
        let sent_before = out.as_deref().map_or(0, |o| o.events().len());
        let mut done = 0;
        while done < frames {
            self.accept_links();
            let mut chunk = (frames - done).min(self.max_block);
            if self.waiting.is_some() && self.incoming.is_none() {
                match &self.current {
                    Some(current) => {
                        let to_boundary = (RENDER_QUANTUM - current.fed() as usize % RENDER_QUANTUM) % RENDER_QUANTUM;
                        if to_boundary == 0 {
                            self.incoming = self.waiting.take();
                            self.faded = 0;
                            if let Some(link) = self.incoming.as_deref_mut() {
                                replay(&self.latest, link);
                            }
                        } else {
                            chunk = chunk.min(to_boundary);
                        }
                    }
                    None => {
                        self.current = self.waiting.take();
                        if let Some(link) = self.current.as_deref_mut() {
                            replay(&self.latest, link);
                        }
                    }
                }
            }
            let moments = Moments { changes, events, transport };
            self.run_chunk(inputs, outputs, moments, done, chunk, out.as_deref_mut());
            done += chunk;
        }
        if let Some(out) = out.as_deref() {
            self.telemetry.monitor().record(true, &out.events()[sent_before.min(out.events().len())..]);
        }
        let (main_in, main_out) = self.main_buses;
        self.telemetry.meter(&inputs[..main_in.min(inputs.len())], &outputs[..main_out.min(outputs.len())]);
    }

    /// The context's sample rate.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Counts MIDI events the caller dropped (the host's own buffers were full,
    /// or an event had no MIDI 1.0 form), shown with the pipeline's own drops.
    pub fn count_dropped_events(&self, count: u64) {
        self.telemetry.count_dropped_events(count);
    }

    /// Frames fed as complete quanta that a render thread has not rendered yet
    /// (the largest over the playing and incoming generations). For pacing a
    /// simulated host in tests and benchmarks; the audio thread never needs it.
    pub fn backlog_frames(&self) -> u64 {
        [&self.current, &self.incoming].into_iter().flatten().map(|link| link.backlog()).max().unwrap_or(0)
    }

    /// Sleeps until [`HostSide::backlog_frames`] is at most `frames` or
    /// `timeout` passes; returns whether it got there (a stopped generation
    /// renders nothing more and is not waited for). Each rendered quantum wakes
    /// the caller, so a simulated host keeps the render threads fed without
    /// spinning. For tests and benchmarks; the audio thread never needs it.
    pub fn wait_for_backlog(&self, frames: u64, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let behind = [&self.current, &self.incoming]
                .into_iter()
                .flatten()
                .find(|link| link.backlog() > frames && !link.stopped());
            let Some(link) = behind else { return true };
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            link.wait_backlog(frames, (deadline - now).min(WAIT_SLICE));
        }
    }

    /// The generation being faded in, once its output has started to be heard.
    pub fn fading_in(&self) -> Option<u64> {
        self.incoming.as_ref().filter(|link| link.prefill() == 0).map(|link| link.id)
    }

    /// Whether a new generation is waiting to be attached or faded in.
    pub fn swapping(&self) -> bool {
        self.waiting.is_some() || self.incoming.is_some()
    }

    /// The generation the host is playing (0 before the first one arrives).
    pub fn playing(&self) -> u64 {
        self.current.as_ref().map_or(0, |link| link.id)
    }

    /// Takes the links the control side sent; the newest waits to be attached and
    /// older waiting ones are retired unheard. Room is always kept in the retired
    /// ring for the playing and the incoming link.
    fn accept_links(&mut self) {
        while self.retired.slots() > 2 {
            let Ok(link) = self.links.pop() else { break };
            if self.current.is_none() && self.incoming.is_none() {
                self.telemetry.set_active(link.id);
            }
            if let Some(older) = self.waiting.replace(link) {
                self.retire(older);
            }
        }
    }

    fn run_chunk(
        &mut self,
        inputs: &[&[f32]],
        outputs: &mut [&mut [f32]],
        Moments { changes, events, transport }: Moments<'_>,
        done: usize,
        chunk: usize,
        mut out: Option<&mut EventsOut>,
    ) {
        let in_chunk = |c: &&ParamChange| (done..done + chunk).contains(&(c.offset as usize));
        let events_in_chunk = |e: &&BlockEvent| (done..done + chunk).contains(&(e.offset as usize));
        let transport = transport.map(|t| t.advanced(done as u64, self.sample_rate));
        let mut dropped = 0;
        let newest = [&self.waiting, &self.incoming, &self.current].into_iter().find_map(|l| l.as_deref());
        for change in changes.iter().filter(in_chunk) {
            if let Some(latest) = self.latest.get_mut(usize::from(change.slot)) {
                *latest = (change.normalized, newest.map_or(0, |link| link.slots().name(usize::from(change.slot))));
            }
        }
        for link in [&mut self.current, &mut self.incoming].into_iter().flatten() {
            let start = link.fed();
            for change in changes.iter().filter(in_chunk) {
                link.push_event(start + (change.offset as usize - done) as u64, change.slot, change.normalized);
            }
            if let Some(transport) = &transport
                && !link.push_transport(start, transport, self.sample_rate)
            {
                dropped += 1;
            }
            for event in events.events.iter().filter(events_in_chunk) {
                let frame = start + (event.offset as usize - done) as u64;
                let pushed = match event.sysex_span() {
                    Some(_) => events.sysex_bytes(event).is_some_and(|bytes| link.push_sysex(frame, bytes)),
                    None => link.push_midi(frame, event),
                };
                if !pushed {
                    dropped += 1;
                }
            }
            link.feed(inputs, done..done + chunk);
        }
        if self.offline {
            self.wait_for_render(chunk);
        }
        match &mut self.current {
            Some(current) => {
                if current.read(&mut self.current_scratch, chunk) > 0 {
                    self.telemetry.count_underrun();
                }
                let first = out.as_deref().map_or(0, |o| o.events().len());
                dropped += current.take_out(done, out.as_deref_mut());
                if let Some(out) = out.as_deref() {
                    track_notes(&mut self.notes_on, &out.events()[first..]);
                }
            }
            None => self.current_scratch.iter_mut().for_each(|c| c[..chunk].fill(0.0)),
        }
        if let Some(incoming) = &mut self.incoming {
            let silent = incoming.prefill().min(chunk);
            if incoming.read(&mut self.incoming_scratch, chunk) > 0 {
                self.telemetry.count_underrun();
            }
            // Not heard yet: its MIDI would double the playing one's.
            incoming.take_out(done, None);
            for frame in silent..chunk {
                let x = ((self.faded + frame - silent) as f32 / self.fade_frames as f32).min(1.0);
                let new_gain = 0.5 - 0.5 * (x * PI).cos();
                for (old, new) in self.current_scratch.iter_mut().zip(&self.incoming_scratch) {
                    old[frame] += new_gain * (new[frame] - old[frame]);
                }
            }
            self.faded += chunk - silent;
        }
        for (channel, output) in outputs.iter_mut().enumerate() {
            // A channel the host gave no buffer for is an empty slice.
            let Some(target) = output.get_mut(done..done + chunk) else { continue };
            match self.current_scratch.get(channel) {
                Some(source) => target.copy_from_slice(&source[..chunk]),
                None => target.fill(0.0),
            }
        }
        if self.faded >= self.fade_frames
            && let Some(incoming) = self.incoming.take()
        {
            self.telemetry.set_active(incoming.id);
            if let Some(old) = self.current.replace(incoming) {
                self.retire(old);
            }
            self.faded = 0;
            dropped += end_notes(&mut self.notes_on, (done + chunk).saturating_sub(1), out.as_deref_mut());
        }
        self.telemetry.count_dropped_events(dropped);
        for link in [&self.current, &self.incoming].into_iter().flatten() {
            link.wake();
        }
    }

    /// Offline rendering only: waits until the render threads have rendered
    /// every frame the next `chunk` frames play (those fed one latency ago). They
    /// may render on ahead meanwhile, up to what was fed, so the host's work and
    /// theirs overlap as in real time; the output is the same sample for sample,
    /// since a quantum's input, events and parameters are fixed once fed. A
    /// generation that does not catch up within [`OFFLINE_PATIENCE`] is hung: it
    /// is not waited for again in this render, so a bounce with a stuck script
    /// takes one patience longer, not one per block. One whose engine process
    /// died is not waited for at all.
    fn wait_for_render(&mut self, chunk: usize) {
        let deadline = std::time::Instant::now() + OFFLINE_PATIENCE;
        for link in [&mut self.current, &mut self.incoming].into_iter().flatten() {
            if link.given_up() {
                continue;
            }
            link.wake_if_sleeping();
            while !link.can_play(chunk) {
                // A generation whose engine process died renders nothing more.
                let now = std::time::Instant::now();
                if link.stopped() || now >= deadline {
                    link.give_up();
                    break;
                }
                link.wait_playable(chunk, (deadline - now).min(WAIT_SLICE));
            }
        }
    }

    fn retire(&mut self, link: Box<GenerationLink>) {
        link.stop();
        // `accept_links` keeps room for every link it lets in, so this cannot fail;
        // if it ever did, the link would be dropped here rather than block.
        let _ = self.retired.push(link);
    }
}

/// What a host block carries besides audio.
#[derive(Clone, Copy)]
struct Moments<'a> {
    changes: &'a [ParamChange],
    events: EventsIn<'a>,
    transport: Option<&'a Transport>,
}

/// Follows which notes the playing generation's MIDI left on.
fn track_notes(on: &mut [u128; 16], events: &[BlockEvent]) {
    for event in events {
        let [status, key, velocity] = event.bytes;
        let (channel, bit) = (usize::from(status & 0x0f), 1u128 << (key & 0x7f));
        match status & 0xf0 {
            0x90 if velocity > 0 => on[channel] |= bit,
            0x80 | 0x90 => on[channel] &= !bit,
            _ => {}
        }
    }
}

/// Note-offs, at `offset`, for every note left on; returns how many did not fit.
fn end_notes(on: &mut [u128; 16], offset: usize, out: Option<&mut EventsOut>) -> u64 {
    let Some(out) = out else {
        *on = [0; 16];
        return 0;
    };
    let mut dropped = 0;
    for (channel, keys) in on.iter_mut().enumerate() {
        while *keys != 0 {
            let key = keys.trailing_zeros() as u8;
            *keys &= !(1u128 << key);
            let event = BlockEvent::midi(offset as u32, [0x80 | channel as u8, key, 0], -1);
            if !out.push(event) {
                dropped += 1;
            }
        }
    }
    dropped
}

/// Gives a newly attached link the latest value of every slot that maps the same
/// parameter for it, at the start of its timeline.
fn replay(latest: &[(f32, u64); PARAM_SLOTS], link: &mut GenerationLink) {
    let start = link.fed();
    for (slot, &(normalized, name)) in latest.iter().enumerate() {
        if !normalized.is_nan() && name != 0 && link.slots().name(slot) == name {
            link.push_event(start, slot as u16, normalized);
        }
    }
}

impl Drop for HostSide {
    fn drop(&mut self) {
        for link in [&self.current, &self.incoming, &self.waiting].into_iter().flatten() {
            link.stop();
        }
    }
}
