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
//!
//! SysEx crosses as a record with its length followed by records of eight of
//! its bytes, committed together, at most [`SYSEX_CAPACITY`] bytes.

use super::block_event::{BlockEvent, BlockEventKind, EventsOut, VOICE_END_TAG};
use crate::engine::event_mailbox::{EVENT_CAPACITY, OUT_CAPACITY, OutEvent, SYSEX_CAPACITY};
use crate::engine::{EventData, Instance, RENDER_QUANTUM, Transport};
use crate::sys::ring::{Consumer, Producer};

/// Records each event ring holds.
pub(crate) const RING_CAPACITY: usize = 4096;

const KIND_SHIFT: u32 = 56;
const FRAME_MASK: u64 = (1 << KIND_SHIFT) - 1;
const MIDI: u64 = 1;
/// The value of the note expression in the MIDI record before it.
const VALUE: u64 = 2;
/// A SysEx message: its length, then its bytes in the records after it.
const SYSEX: u64 = 3;
/// Eight bytes of the SysEx message before it (little end first).
const SYSEX_BYTES: u64 = 4;
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

fn head(kind: u64, frame: u64) -> u64 {
    kind << KIND_SHIFT | (frame & FRAME_MASK)
}

/// Pushes `event` at `frame`: one record, two for a note expression (all or
/// none). Returns false when the ring has no room for it.
pub(crate) fn push_event(ring: &mut Producer<[u64; 2]>, frame: u64, event: &BlockEvent) -> bool {
    let record = midi_record(frame, event.bytes, event.note_id);
    if let BlockEventKind::Expression(_) = event.kind() {
        if ring.slots() < 2 {
            return false;
        }
        let _ = ring.push(record);
        return ring.push([head(VALUE, frame), u64::from(event.value.to_bits())]).is_ok();
    }
    ring.push(record).is_ok()
}

/// Pushes the SysEx message `bytes` at `frame`, all records at once or none.
/// Returns false when the ring has no room for it or it is longer than
/// [`SYSEX_CAPACITY`].
pub(crate) fn push_sysex(ring: &mut Producer<[u64; 2]>, frame: u64, bytes: &[u8]) -> bool {
    if bytes.len() > SYSEX_CAPACITY {
        return false;
    }
    let Some(mut chunk) = ring.write_chunk(1 + bytes.len().div_ceil(8)) else { return false };
    let (first, second) = chunk.as_mut_slices();
    let mut records = first.iter_mut().chain(second.iter_mut());
    if let Some(record) = records.next() {
        *record = [head(SYSEX, frame), bytes.len() as u64];
    }
    for (record, part) in records.zip(bytes.chunks(8)) {
        let mut word = [0; 8];
        word[..part.len()].copy_from_slice(part);
        *record = [head(SYSEX_BYTES, frame), u64::from_le_bytes(word)];
    }
    chunk.commit_all();
    true
}

/// Takes the byte records of a SysEx message of `into.len()` bytes (into
/// `into`) or of `skip` bytes (discarded). A record of another kind (only a
/// misbehaving writer puts one there) stops it and is kept in `held`; returns
/// whether every byte arrived.
fn pop_sysex_bytes(ring: &mut Consumer<[u64; 2]>, held: &mut Option<[u64; 2]>, into: &mut [u8], skip: usize) -> bool {
    let records = into.len().max(skip).div_ceil(8);
    let mut parts = into.chunks_mut(8);
    for _ in 0..records {
        let Some(record) = held.take().or_else(|| ring.pop()) else { return false };
        if record[0] >> KIND_SHIFT != SYSEX_BYTES {
            *held = Some(record);
            return false;
        }
        if let Some(part) = parts.next() {
            let len = part.len();
            part.copy_from_slice(&record[1].to_le_bytes()[..len]);
        }
    }
    true
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
    /// The SysEx bytes of the quantum's events, and how many are used.
    sysex: Box<[u8]>,
    sysex_used: usize,
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
            sysex: vec![0; SYSEX_CAPACITY].into_boxed_slice(),
            sysex_used: 0,
            sent: Vec::with_capacity(OUT_CAPACITY),
            dropped: 0,
        }
    }

    /// Events lost on the render side so far: more than a quantum holds, sent
    /// malformed or not fitting, or not fitting in the ring back.
    pub(crate) fn dropped(&self, instance: &Instance) -> u64 {
        self.dropped + instance.events_dropped()
    }

    /// Fills `hostEvents` for the quantum starting at `start`.
    pub(crate) fn quantum(&mut self, start: u64, ring: &mut Consumer<[u64; 2]>, instance: &mut Instance) {
        let end = start + RENDER_QUANTUM as u64;
        let mut count = 0;
        self.sysex_used = 0;
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
                SYSEX => {
                    let len = payload as usize;
                    let used = self.sysex_used;
                    let room = count < self.midi.len() && used + len <= self.sysex.len();
                    let into = if room { &mut self.sysex[used..used + len] } else { &mut [][..] };
                    if pop_sysex_bytes(ring, &mut self.held, into, len) && room {
                        self.midi[count] = BlockEvent::sysex(frame.saturating_sub(start) as u32, used..used + len);
                        self.sysex_used += len;
                        count += 1;
                    } else {
                        self.dropped += 1;
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
            match (event.data(), event.sysex_span()) {
                (Some(data), _) => instance.push_event(event.offset, &data),
                (None, Some(span)) => instance.push_sysex(event.offset, &self.sysex[span]),
                (None, None) => false,
            };
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
                EventData::Sysex { bytes } => {
                    if !push_sysex(ring, start + u64::from(event.frame), &bytes) {
                        self.dropped += 1;
                    }
                    continue;
                }
                EventData::Expression { .. } => {
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
        let offset = (at + frame.saturating_sub(first) as usize) as u32;
        match (record[0] >> KIND_SHIFT, out.as_deref_mut()) {
            (SYSEX, Some(out)) => {
                let len = record[1] as usize;
                match out.sysex_room(len) {
                    Some(room) => {
                        if pop_sysex_bytes(ring, held, room, len) {
                            out.push_sysex(offset, len);
                        } else {
                            dropped += 1;
                        }
                    }
                    None => {
                        pop_sysex_bytes(ring, held, &mut [], len);
                        dropped += 1;
                    }
                }
            }
            (SYSEX, None) => {
                pop_sysex_bytes(ring, held, &mut [], record[1] as usize);
            }
            (MIDI, Some(out)) => {
                let (bytes, note_id) = decode_midi(record[1]);
                if !out.push(BlockEvent::midi(offset, bytes, note_id)) {
                    dropped += 1;
                }
            }
            _ => {}
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
    fn sysex_records_cross_whole_and_a_broken_one_is_counted_without_losing_what_follows() {
        let layout = Layout { input_channels: 1, output_channels: 1, ring_frames: 256, event_capacity: 16 };
        let memory = GenerationMemory::heap(layout);
        let (mut render, mut host) = (memory.render_ends(), memory.host_ends());
        let message: Vec<u8> = std::iter::once(0xf0).chain((0..19).map(|n| n * 5)).chain([0xf7]).collect();
        assert!(push_sysex(&mut render.midi_back, 3, &message));
        // A length with no bytes after it (only a misbehaving engine writes one),
        // then a note.
        render.midi_back.push([head(SYSEX, 4), 1 << 40]).unwrap();
        render.midi_back.push(midi_record(5, [0x90, 60, 1], -1)).unwrap();
        assert!(!push_sysex(&mut render.midi_back, 6, &vec![0xf0; SYSEX_CAPACITY + 1]), "over the limit");
        let (mut out, mut held) = (EventsOut::default(), None);
        let dropped = take_out(&mut host.midi_back, &mut held, 0, 16, 100, Some(&mut out));
        assert_eq!(dropped, 1);
        let events = out.events();
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].offset, out.sysex_bytes(&events[0])), (103, Some(&message[..])));
        assert_eq!((events[1].offset, events[1].bytes), (105, [0x90, 60, 1]));
    }
}
