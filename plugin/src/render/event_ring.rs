//! MIDI and the transport between the host side and a generation, as two-word
//! records in wait-free rings: one ring towards the render side (the host's MIDI,
//! and its transport when it changes), one back (the MIDI the processor sends).
//!
//! A record's first word is its kind (top byte) and its frame on the
//! generation's timeline (the frame of the audio it arrived with), so an event
//! crosses with its audio and comes out one latency later, as the audio does.
//! The host side writes and reads records on the audio thread without
//! allocating; the render side ([`EventFeed`]) turns them into each quantum's
//! `hostEvents` on the render thread.

use crate::engine::event_mailbox::{EVENT_CAPACITY, OUT_CAPACITY, OutEvent};
use crate::engine::host_events::NoteExpression;
use crate::engine::{EventData, Instance, RENDER_QUANTUM, Transport};
use crate::sys::ring::{Consumer, Producer};

/// Records each event ring holds.
pub(crate) const RING_CAPACITY: usize = 4096;

const KIND_SHIFT: u32 = 56;
const FRAME_MASK: u64 = (1 << KIND_SHIFT) - 1;
const MIDI: u64 = 1;
/// The value of the note expression in the MIDI record before it.
const VALUE: u64 = 2;
/// A transport is eight records, the last of which commits it.
const T_FLAGS: u64 = 16;
const T_TEMPO: u64 = 17;
const T_BEATS: u64 = 18;
const T_SECONDS: u64 = 19;
const T_BAR_START: u64 = 20;
const T_BAR: u64 = 21;
const T_LOOP_START: u64 = 22;
const T_LOOP_END: u64 = 23;
const TRANSPORT_RECORDS: usize = 8;

/// `BlockEvent::bytes[0]` of a note expression is this plus the expression's
/// index (no MIDI status byte is below 0x80).
pub const EXPRESSION_TAG: u8 = 0x10;
/// `BlockEvent::bytes[0]` of a voice's end.
pub const VOICE_END_TAG: u8 = 0x20;

/// An event inside a host block: a MIDI channel message, or (with a tag below
/// 0x80 in place of the status byte) a note expression or a voice's end.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockEvent {
    /// Frame inside the block.
    pub offset: u32,
    /// Status, data 1, data 2 (unused bytes 0); for a note expression
    /// [`EXPRESSION_TAG`] + its index, the key, the channel; for a voice's end
    /// [`VOICE_END_TAG`], the key, the channel.
    pub bytes: [u8; 3],
    /// The host's note id, or -1.
    pub note_id: i32,
    /// A note expression's value (0 otherwise).
    pub value: f32,
}

impl BlockEvent {
    /// A MIDI channel message.
    pub fn midi(offset: u32, bytes: [u8; 3], note_id: i32) -> Self {
        Self { offset, bytes, note_id, value: 0.0 }
    }

    /// A note expression of the note `note_id` (or `channel` and `key`; 0xff: any).
    pub fn expression(offset: u32, channel: u8, key: u8, note_id: i32, expression: NoteExpression, value: f32) -> Self {
        let (channel, key) = (if channel < 16 { channel } else { 0xff }, if key < 128 { key } else { 0xff });
        Self { offset, bytes: [EXPRESSION_TAG + expression.index(), key, channel], note_id, value }
    }

    /// The end of the voice the processor started for a note.
    pub fn voice_end(offset: u32, channel: u8, key: u8, note_id: i32) -> Self {
        Self { offset, bytes: [VOICE_END_TAG, key & 0x7f, channel & 0x0f], note_id, value: 0.0 }
    }

    /// What it is.
    pub fn data(&self) -> EventData {
        let [status, key, channel] = self.bytes;
        let note_id = self.note_id;
        let any = |byte: u8| if byte == 0xff { -1 } else { i16::from(byte) };
        match status.checked_sub(EXPRESSION_TAG).and_then(NoteExpression::from_index) {
            Some(expression) => {
                let (channel, key) = (any(channel), any(key));
                EventData::Expression { channel, key, note_id, expression, value: self.value }
            }
            None if status == VOICE_END_TAG => EventData::VoiceEnd { channel, key, note_id },
            None => EventData::Midi { bytes: self.bytes, note_id },
        }
    }
}

/// The MIDI a processor sent, gathered for one host block: a fixed buffer,
/// allocated once, that the host side fills without allocating (full: dropped
/// and counted).
#[derive(Debug)]
pub struct EventsOut {
    events: Box<[BlockEvent]>,
    len: usize,
    dropped: u64,
}

impl EventsOut {
    /// Room for `capacity` events per block.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { events: vec![BlockEvent::default(); capacity].into_boxed_slice(), len: 0, dropped: 0 }
    }

    /// The events of the block, in the order the processor sent them.
    pub fn events(&self) -> &[BlockEvent] {
        &self.events[..self.len]
    }

    /// Empties it for the next block.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Events that did not fit, in total.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub(crate) fn push(&mut self, event: BlockEvent) -> bool {
        match self.events.get_mut(self.len) {
            Some(slot) => {
                *slot = event;
                self.len += 1;
                true
            }
            None => {
                self.dropped += 1;
                false
            }
        }
    }
}

impl Default for EventsOut {
    fn default() -> Self {
        Self::with_capacity(OUT_CAPACITY)
    }
}

fn head(kind: u64, frame: u64) -> u64 {
    kind << KIND_SHIFT | (frame & FRAME_MASK)
}

/// Pushes `event` at `frame`: one record, two for a note expression (all or
/// none). Returns false when the ring has no room for it.
pub(crate) fn push_event(ring: &mut Producer<[u64; 2]>, frame: u64, event: &BlockEvent) -> bool {
    let record = midi_record(frame, event.bytes, event.note_id);
    if event.bytes[0] < 0x80 && event.bytes[0] != VOICE_END_TAG {
        if ring.slots() < 2 {
            return false;
        }
        let _ = ring.push(record);
        return ring.push([head(VALUE, frame), u64::from(event.value.to_bits())]).is_ok();
    }
    ring.push(record).is_ok()
}

/// The record of a MIDI message at `frame`.
pub(crate) fn midi_record(frame: u64, bytes: [u8; 3], note_id: i32) -> [u64; 2] {
    let packed = u64::from(bytes[0]) | u64::from(bytes[1]) << 8 | u64::from(bytes[2]) << 16;
    [head(MIDI, frame), packed | u64::from(note_id as u32) << 32]
}

fn decode_midi(payload: u64) -> ([u8; 3], i32) {
    ([payload as u8, (payload >> 8) as u8, (payload >> 16) as u8], (payload >> 32) as u32 as i32)
}

/// Pushes `transport` at `frame` as its eight records, all or none. Returns
/// false when the ring has no room for them.
pub(crate) fn push_transport(ring: &mut Producer<[u64; 2]>, frame: u64, t: &Transport) -> bool {
    if ring.slots() < TRANSPORT_RECORDS {
        return false;
    }
    let flags = u64::from(t.playing)
        | u64::from(t.recording) << 1
        | u64::from(t.looping) << 2
        | u64::from(t.numerator.min(0xffff)) << 8
        | u64::from(t.denominator.min(0xffff)) << 24;
    let records = [
        [head(T_FLAGS, frame), flags],
        [head(T_TEMPO, frame), t.tempo.to_bits()],
        [head(T_BEATS, frame), t.beats.to_bits()],
        [head(T_SECONDS, frame), t.seconds.to_bits()],
        [head(T_BAR_START, frame), t.bar_start_beats.to_bits()],
        [head(T_BAR, frame), t.bar as u64],
        [head(T_LOOP_START, frame), t.loop_beats.0.to_bits()],
        [head(T_LOOP_END, frame), t.loop_beats.1.to_bits()],
    ];
    records.into_iter().all(|record| ring.push(record).is_ok())
}

/// Takes the records of one quantum off the ring towards the render side and
/// puts them in the instance's `hostEvents` (render thread).
pub(crate) struct EventFeed {
    sample_rate: f64,
    /// A record of a later quantum, read but not yet due.
    held: Option<[u64; 2]>,
    /// The transport being assembled from its records.
    partial: Transport,
    /// The newest complete transport, and its frame.
    latest: Option<(u64, Transport)>,
    /// One that arrived inside the quantum: it takes over after it.
    arriving: Option<(u64, Transport)>,
    midi: Box<[BlockEvent]>,
    /// What the processor sends, taken after each quantum.
    sent: Vec<OutEvent>,
    dropped: u64,
}

impl EventFeed {
    pub(crate) fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            held: None,
            partial: Transport::default(),
            latest: None,
            arriving: None,
            midi: vec![BlockEvent::default(); EVENT_CAPACITY].into_boxed_slice(),
            sent: Vec::with_capacity(OUT_CAPACITY),
            dropped: 0,
        }
    }

    /// Events lost on the render side so far: more than a quantum holds, sent
    /// malformed or not fitting, SysEx (which does not cross these rings), or
    /// not fitting in the ring back.
    pub(crate) fn dropped(&self, instance: &Instance) -> u64 {
        self.dropped + instance.events_dropped()
    }

    /// Fills `hostEvents` for the quantum starting at `start`.
    pub(crate) fn quantum(&mut self, start: u64, ring: &mut Consumer<[u64; 2]>, instance: &mut Instance) {
        let end = start + RENDER_QUANTUM as u64;
        let mut count = 0;
        while let Some(record) = self.held.take().or_else(|| ring.pop()) {
            let frame = record[0] & FRAME_MASK;
            if frame >= end {
                self.held = Some(record);
                break;
            }
            let payload = record[1];
            let t = &mut self.partial;
            match record[0] >> KIND_SHIFT {
                MIDI => {
                    let (bytes, note_id) = decode_midi(payload);
                    match self.midi.get_mut(count) {
                        Some(slot) => {
                            *slot = BlockEvent::midi(frame.saturating_sub(start) as u32, bytes, note_id);
                            count += 1;
                        }
                        None => self.dropped += 1,
                    }
                }
                VALUE => {
                    if let Some(last) = count.checked_sub(1).and_then(|i| self.midi.get_mut(i)) {
                        last.value = f32::from_bits(payload as u32);
                    }
                }
                T_FLAGS => {
                    t.playing = payload & 1 != 0;
                    t.recording = payload & 2 != 0;
                    t.looping = payload & 4 != 0;
                    t.numerator = ((payload >> 8) & 0xffff) as u32;
                    t.denominator = ((payload >> 24) & 0xffff) as u32;
                }
                T_TEMPO => t.tempo = f64::from_bits(payload),
                T_BEATS => t.beats = f64::from_bits(payload),
                T_SECONDS => t.seconds = f64::from_bits(payload),
                T_BAR_START => t.bar_start_beats = f64::from_bits(payload),
                T_BAR => t.bar = payload as i64,
                T_LOOP_START => t.loop_beats.0 = f64::from_bits(payload),
                T_LOOP_END => {
                    t.loop_beats.1 = f64::from_bits(payload);
                    if frame <= start {
                        self.latest = Some((frame, *t));
                    } else {
                        self.arriving = Some((frame, *t));
                    }
                }
                _ => {}
            }
        }
        let transport = self.latest.map(|(frame, t)| t.advanced(start - frame.min(start), self.sample_rate));
        instance.begin_events(transport.as_ref());
        // Past the quantum's capacity each push is refused and counted by the mailbox.
        for event in &self.midi[..count] {
            instance.push_event(event.offset, &event.data());
        }
        if let Some(arriving) = self.arriving.take() {
            self.latest = Some(arriving);
        }
    }

    /// Sends what the processor sent during the quantum at `start` back to the
    /// host side.
    pub(crate) fn send_out(&mut self, start: u64, ring: &mut Producer<[u64; 2]>, instance: &mut Instance) {
        self.dropped += instance.take_out_events(&mut self.sent);
        for event in self.sent.drain(..) {
            let record = match event.data {
                EventData::Midi { bytes, note_id } => midi_record(start + u64::from(event.frame), bytes, note_id),
                EventData::VoiceEnd { channel, key, note_id } => {
                    midi_record(start + u64::from(event.frame), [VOICE_END_TAG, key, channel], note_id)
                }
                EventData::Sysex { .. } | EventData::Expression { .. } => {
                    self.dropped += 1;
                    continue;
                }
            };
            if ring.push(record).is_err() {
                self.dropped += 1;
            }
        }
    }
}

/// Moves the processor's MIDI for rendered frames `first..first + take` (placed
/// at `at` in the block) from the ring back into `out` (or discards it); events
/// of frames before `first` (late) are placed at `at`. Host thread; no
/// allocation.
pub(crate) fn take_out(
    ring: &mut Consumer<[u64; 2]>,
    held: &mut Option<[u64; 2]>,
    first: u64,
    take: usize,
    at: usize,
    mut out: Option<&mut EventsOut>,
) -> u64 {
    let mut dropped = 0;
    while let Some(record) = held.take().or_else(|| ring.pop()) {
        let frame = record[0] & FRAME_MASK;
        if frame >= first + take as u64 {
            *held = Some(record);
            break;
        }
        if record[0] >> KIND_SHIFT != MIDI {
            continue;
        }
        let Some(out) = out.as_deref_mut() else { continue };
        let (bytes, note_id) = decode_midi(record[1]);
        let offset = (at + frame.saturating_sub(first) as usize) as u32;
        if !out.push(BlockEvent::midi(offset, bytes, note_id)) {
            dropped += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::generation_memory::{GenerationMemory, Layout};

    #[test]
    fn records_keep_frames_bytes_ids_and_every_transport_field() {
        let layout = Layout { input_channels: 1, output_channels: 1, ring_frames: 256, event_capacity: 16 };
        let memory = GenerationMemory::heap(layout);
        let (mut host, mut render) = (memory.host_ends(), memory.render_ends());
        host.midi.push(midi_record(1 << 40, [0x9f, 1, 127], 123_456_789)).unwrap();
        let transport = Transport {
            playing: true,
            recording: true,
            looping: false,
            tempo: 133.5,
            numerator: 7,
            denominator: 8,
            beats: 12.25,
            seconds: 5.5,
            bar_start_beats: 10.5,
            bar: 3,
            loop_beats: (1.0, 2.0),
        };
        assert!(push_transport(&mut host.midi, 5, &transport));
        let record = render.midi.pop().unwrap();
        assert_eq!(record[0] & FRAME_MASK, 1 << 40);
        assert_eq!(decode_midi(record[1]), ([0x9f, 1, 127], 123_456_789));
        let mut assembled = EventFeed::new(48_000.0);
        // Eight records, committed by the last.
        let mut partial = Vec::new();
        while let Some(record) = render.midi.pop() {
            partial.push(record);
        }
        assert_eq!(partial.len(), TRANSPORT_RECORDS);
        for record in partial {
            host.midi.push(record).unwrap();
        }
        let mut realm = crate::engine::Realm::new(&crate::engine::RealmConfig::new(48_000.0)).unwrap();
        realm
            .add_module_source(
                "t.js",
                "registerProcessor('t', class extends AudioWorkletProcessor { process() { return true; } });",
            )
            .unwrap();
        let (_main, router) = crate::port::channel_pair();
        let mut instance = Instance::new(realm, router, "t", &crate::engine::NodeOptions::default(), &[]).unwrap();
        assembled.quantum(128, &mut render.midi, &mut instance);
        assert_eq!(assembled.latest, Some((5, transport)));
    }

    #[test]
    fn a_full_block_buffer_drops_and_counts() {
        let mut out = EventsOut::with_capacity(2);
        assert!(out.push(BlockEvent::default()) && out.push(BlockEvent::default()));
        assert!(!out.push(BlockEvent::default()));
        assert_eq!((out.events().len(), out.dropped()), (2, 1));
        out.clear();
        assert!(out.events().is_empty());
    }
}
