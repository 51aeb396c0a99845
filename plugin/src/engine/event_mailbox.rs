//! The scope's `hostEvents` object: fixed typed arrays through which the engine
//! hands a processor the events and the transport of each quantum, and takes the
//! events it sends out (realm's thread).
//!
//! Nothing is allocated per event on either side: the engine writes words into
//! the arrays before `process()`, the script reads them in place (through
//! `processors/lib/host-events.js`, which also runs in a browser, where the same
//! events arrive on `node.port`), and writes what it sends into the `out` arrays,
//! which the engine reads after `process()`.
//!
//! The layout (version 1), shared with `host-events.js`:
//!
//! * `header: Int32Array(8)`: events this quantum, events dropped (total), SysEx
//!   bytes used, the quantum's serial, events out, SysEx bytes out, events out
//!   dropped (total, counted by the script), the layout version.
//! * `events` and `out: Int32Array(4 × capacity)`, four words per event: frame in
//!   the quantum, kind (low byte), then:
//!   * kind 1, MIDI: the bytes packed little-end first, the note id (-1: none);
//!   * kind 2, SysEx: the offset and length of its bytes in `sysex` / `outSysex:
//!     Uint8Array`;
//!   * kind 3, a note expression (in only): the kind word also holds the
//!     expression (bits 8–11), channel + 1 (12–16) and key + 1 (17–24), where 0
//!     means any; then the value
//!     (read it through `values: Float32Array`, a view of the same words) and the
//!     note id;
//!   * kind 4, a voice's end (out only): channel and key packed (channel | key
//!     << 8), the note id.
//! * `transport: Float64Array(16)`: known, playing, recording, looping, tempo,
//!   numerator, denominator, position in quarter notes, position in seconds, bar
//!   start in quarter notes, bar, loop start, loop end.

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArrayBuffer, JsFloat32Array, JsFloat64Array, JsInt32Array, JsUint8Array};
use boa_engine::property::Attribute;
use boa_engine::{JsResult, JsValue, js_string};

use super::host_events::{EventData, Transport, channel_message_data_bytes};
use super::quantum::RENDER_QUANTUM;
use super::realm::Realm;

/// Events one quantum can carry to the processor (more are dropped and counted).
pub const EVENT_CAPACITY: usize = 1024;
/// SysEx bytes one quantum can carry either way.
pub const SYSEX_CAPACITY: usize = 16 * 1024;
/// Events a processor can send out in one quantum.
pub const OUT_CAPACITY: usize = 1024;
/// The layout version in `header[7]`.
pub const LAYOUT_VERSION: i32 = 1;

const WORDS: usize = 4;
const HEADER: usize = 8;
const TRANSPORT: usize = 16;
const KIND_MIDI: i32 = 1;
const KIND_SYSEX: i32 = 2;
const KIND_EXPRESSION: i32 = 3;
const KIND_VOICE_END: i32 = 4;

/// Words of `header` (count, dropped, SysEx used and serial are written together
/// from [`slot::COUNT`] on).
mod slot {
    pub(super) const COUNT: usize = 0;
    pub(super) const OUT_COUNT: usize = 4;
    pub(super) const OUT_SYSEX_USED: usize = 5;
    pub(super) const OUT_DROPPED: usize = 6;
    pub(super) const VERSION: usize = 7;
}

/// An event a processor sent out, at a frame of the quantum that sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutEvent {
    /// Frame inside the quantum (0..128).
    pub frame: u32,
    /// What it is.
    pub data: EventData,
}

/// The arrays behind `hostEvents`.
pub(crate) struct EventMailbox {
    header: JsArrayBuffer,
    events: JsArrayBuffer,
    sysex: JsArrayBuffer,
    transport: JsArrayBuffer,
    out: JsArrayBuffer,
    out_sysex: JsArrayBuffer,
    /// Events this quantum, and SysEx bytes used.
    count: usize,
    sysex_used: usize,
    serial: i32,
    dropped: i32,
}

impl EventMailbox {
    /// Creates the arrays and defines the global `hostEvents` (non-enumerable,
    /// writable, so a script may shadow it).
    pub(crate) fn install(realm: &mut Realm) -> JsResult<Self> {
        let context = realm.context();
        let header = JsArrayBuffer::new(HEADER * 4, context)?;
        let events = JsArrayBuffer::new(EVENT_CAPACITY * WORDS * 4, context)?;
        let sysex = JsArrayBuffer::new(SYSEX_CAPACITY, context)?;
        let transport = JsArrayBuffer::new(TRANSPORT * 8, context)?;
        let out = JsArrayBuffer::new(OUT_CAPACITY * WORDS * 4, context)?;
        let out_sysex = JsArrayBuffer::new(SYSEX_CAPACITY, context)?;
        let int32 = |buffer: &JsArrayBuffer, context: &mut _| -> JsResult<JsValue> {
            Ok(JsInt32Array::from_array_buffer(buffer.clone(), context)?.into())
        };
        let bytes = |buffer: &JsArrayBuffer, context: &mut _| -> JsResult<JsValue> {
            Ok(JsUint8Array::from_array_buffer(buffer.clone(), context)?.into())
        };
        let fields = [
            (js_string!("header"), int32(&header, context)?),
            (js_string!("events"), int32(&events, context)?),
            (js_string!("values"), JsFloat32Array::from_array_buffer(events.clone(), context)?.into()),
            (js_string!("sysex"), bytes(&sysex, context)?),
            (js_string!("transport"), JsFloat64Array::from_array_buffer(transport.clone(), context)?.into()),
            (js_string!("out"), int32(&out, context)?),
            (js_string!("outSysex"), bytes(&out_sysex, context)?),
        ];
        let mut object = ObjectInitializer::new(context);
        for (name, value) in fields {
            object.property(name, value, Attribute::READONLY | Attribute::ENUMERABLE);
        }
        let object = object.build();
        context.register_global_property(
            js_string!("hostEvents"),
            object,
            Attribute::WRITABLE | Attribute::CONFIGURABLE,
        )?;
        let mailbox =
            Self { header, events, sysex, transport, out, out_sysex, count: 0, sysex_used: 0, serial: 0, dropped: 0 };
        mailbox.set_header(slot::VERSION, LAYOUT_VERSION);
        Ok(mailbox)
    }

    /// Starts a quantum: no events yet, the transport as given (`None`: unknown).
    pub(crate) fn begin(&mut self, transport: Option<&Transport>) {
        self.count = 0;
        self.sysex_used = 0;
        self.serial = self.serial.wrapping_add(1) & i32::MAX;
        self.write_transport(transport);
        self.publish();
    }

    /// Adds an event at `frame` (inside the quantum; later frames are clamped to
    /// its last). Returns false, and counts it, when the quantum is full.
    pub(crate) fn push(&mut self, frame: u32, data: &EventData) -> bool {
        let frame = frame.min(RENDER_QUANTUM as u32 - 1) as i32;
        let words = match data {
            EventData::Midi { bytes, note_id } => {
                let packed = i32::from(bytes[0]) | i32::from(bytes[1]) << 8 | i32::from(bytes[2]) << 16;
                [frame, KIND_MIDI, packed, *note_id]
            }
            EventData::Sysex { bytes } => return self.push_sysex(frame as u32, bytes),
            EventData::Expression { channel, key, note_id, expression, value } => {
                let (channel, key) = ((channel + 1).clamp(0, 16), (key + 1).clamp(0, 128));
                let kind = KIND_EXPRESSION
                    | i32::from(expression.index()) << 8
                    | i32::from(channel) << 12
                    | i32::from(key) << 17;
                [frame, kind, value.to_bits() as i32, *note_id]
            }
            // Only a processor ends voices.
            EventData::VoiceEnd { .. } => return self.drop_one(),
        };
        if self.count >= EVENT_CAPACITY {
            return self.drop_one();
        }
        write_i32s(&self.events, self.count * WORDS, &words);
        self.count += 1;
        self.publish();
        true
    }

    /// Adds a SysEx message (`F0 … F7`) at `frame`. Returns false, and counts
    /// it, when the quantum's events or SysEx bytes are full.
    pub(crate) fn push_sysex(&mut self, frame: u32, bytes: &[u8]) -> bool {
        let frame = frame.min(RENDER_QUANTUM as u32 - 1) as i32;
        if self.count >= EVENT_CAPACITY || self.sysex_used + bytes.len() > SYSEX_CAPACITY {
            return self.drop_one();
        }
        if let Some(mut target) = self.sysex.data_mut() {
            target[self.sysex_used..self.sysex_used + bytes.len()].copy_from_slice(bytes);
        }
        let words = [frame, KIND_SYSEX, self.sysex_used as i32, bytes.len() as i32];
        self.sysex_used += bytes.len();
        write_i32s(&self.events, self.count * WORDS, &words);
        self.count += 1;
        self.publish();
        true
    }

    /// Events dropped because a quantum was full, in total.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped as u64
    }

    fn drop_one(&mut self) -> bool {
        self.dropped = self.dropped.saturating_add(1);
        self.publish();
        false
    }

    fn publish(&self) {
        write_i32s(&self.header, slot::COUNT, &[self.count as i32, self.dropped, self.sysex_used as i32, self.serial]);
    }

    fn set_header(&self, index: usize, value: i32) {
        write_i32s(&self.header, index, &[value]);
    }

    fn header_word(&self, index: usize) -> i32 {
        read_i32(&self.header, index).unwrap_or(0)
    }

    fn write_transport(&self, transport: Option<&Transport>) {
        let Some(mut bytes) = self.transport.data_mut() else { return };
        let values: [f64; 13] = match transport {
            None => [0.0; 13],
            Some(t) => [
                1.0,
                f64::from(u8::from(t.playing)),
                f64::from(u8::from(t.recording)),
                f64::from(u8::from(t.looping)),
                t.tempo,
                f64::from(t.numerator),
                f64::from(t.denominator),
                t.beats,
                t.seconds,
                t.bar_start_beats,
                t.bar as f64,
                t.loop_beats.0,
                t.loop_beats.1,
            ],
        };
        for (chunk, value) in bytes.chunks_exact_mut(8).zip(values) {
            chunk.copy_from_slice(&value.to_ne_bytes());
        }
    }

    /// Takes what the processor sent during the quantum into `into`, in frame
    /// order (events of one frame in the order sent), and empties the `out`
    /// arrays. Malformed entries (a bad kind, a status byte that is not a
    /// channel message, SysEx outside `outSysex` or without `F0`…`F7`) are counted
    /// as dropped. Returns how many were dropped this quantum, the script's own
    /// count of events it could not queue included.
    pub(crate) fn take_out(&mut self, into: &mut Vec<OutEvent>) -> u64 {
        let count = (self.header_word(slot::OUT_COUNT).max(0) as usize).min(OUT_CAPACITY);
        let first = into.len();
        let mut dropped = 0;
        let words = self.out.data();
        let sysex = self.out_sysex.data();
        if let (Some(words), Some(sysex)) = (words, sysex) {
            for index in 0..count {
                let word = |k: usize| {
                    let at = (index * WORDS + k) * 4;
                    i32::from_ne_bytes([words[at], words[at + 1], words[at + 2], words[at + 3]])
                };
                match decode(word(0), word(1), word(2), word(3), &sysex) {
                    Some(event) => into.push(event),
                    None => dropped += 1,
                }
            }
        }
        sort_by_frame(&mut into[first..]);
        let script_dropped = self.header_word(slot::OUT_DROPPED).max(0) as u64;
        self.set_header(slot::OUT_COUNT, 0);
        self.set_header(slot::OUT_SYSEX_USED, 0);
        self.set_header(slot::OUT_DROPPED, 0);
        dropped + script_dropped
    }
}

/// A stable sort by frame that allocates nothing (insertion sort: a quantum's
/// events are few and mostly in order already).
fn sort_by_frame(events: &mut [OutEvent]) {
    for index in 1..events.len() {
        let mut at = index;
        while at > 0 && events[at - 1].frame > events[at].frame {
            events.swap(at - 1, at);
            at -= 1;
        }
    }
}

fn decode(frame: i32, kind: i32, a: i32, b: i32, sysex: &[u8]) -> Option<OutEvent> {
    let frame = u32::try_from(frame).ok().filter(|&f| (f as usize) < RENDER_QUANTUM)?;
    let data = match kind {
        KIND_MIDI => {
            let bytes = [a as u8, (a >> 8) as u8, (a >> 16) as u8];
            let length = channel_message_data_bytes(bytes[0]).filter(|_| bytes[0] >= 0x80)?;
            if bytes[1..=length].iter().any(|&byte| byte >= 0x80) {
                return None;
            }
            let mut bytes = bytes;
            bytes[length + 1..].fill(0);
            EventData::Midi { bytes, note_id: b.max(-1) }
        }
        KIND_SYSEX => {
            let (start, length) = (usize::try_from(a).ok()?, usize::try_from(b).ok()?);
            let bytes = sysex.get(start..start.checked_add(length)?)?;
            let framed = bytes.len() >= 2 && bytes[0] == 0xf0 && bytes[bytes.len() - 1] == 0xf7;
            if !framed || bytes[1..bytes.len() - 1].iter().any(|&byte| byte >= 0x80) {
                return None;
            }
            EventData::Sysex { bytes: bytes.to_vec() }
        }
        KIND_VOICE_END => {
            let (channel, key) = (u8::try_from(a & 0xff).ok()?, u8::try_from(a >> 8).ok()?);
            if channel > 15 || key > 127 {
                return None;
            }
            EventData::VoiceEnd { channel, key, note_id: b.max(-1) }
        }
        _ => return None,
    };
    Some(OutEvent { frame, data })
}

fn write_i32s(buffer: &JsArrayBuffer, first: usize, values: &[i32]) {
    if let Some(mut bytes) = buffer.data_mut() {
        for (index, value) in values.iter().enumerate() {
            let at = (first + index) * 4;
            if let Some(chunk) = bytes.get_mut(at..at + 4) {
                chunk.copy_from_slice(&value.to_ne_bytes());
            }
        }
    }
}

fn read_i32(buffer: &JsArrayBuffer, index: usize) -> Option<i32> {
    let bytes = buffer.data()?;
    let chunk = bytes.get(index * 4..index * 4 + 4)?;
    Some(i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_events_are_put_in_frame_order_keeping_the_order_within_a_frame() {
        let at = |frame, key| OutEvent { frame, data: EventData::midi(0x90, key, 1) };
        let mut events = vec![at(100, 1), at(50, 2), at(100, 3), at(0, 4), at(50, 5)];
        sort_by_frame(&mut events);
        assert_eq!(events, vec![at(0, 4), at(50, 2), at(50, 5), at(100, 1), at(100, 3)]);
    }

    #[test]
    fn malformed_out_events_are_refused() {
        let sysex = [0xf0, 0x7e, 0x01, 0xf7, 0x90];
        assert_eq!(decode(5, KIND_MIDI, 0x7f_3c_90, -1, &sysex).unwrap().data, EventData::midi(0x90, 60, 127));
        assert_eq!(decode(5, KIND_MIDI, 0x7f_05_c0, -1, &sysex).unwrap().data, EventData::midi(0xc0, 5, 0));
        assert!(decode(128, KIND_MIDI, 0x7f_3c_90, -1, &sysex).is_none(), "frame outside the quantum");
        assert!(decode(0, KIND_MIDI, 0x7f_3c_40, -1, &sysex).is_none(), "no status byte");
        assert!(decode(0, KIND_MIDI, 0x80_3c_90, -1, &sysex).is_none(), "a data byte over 127");
        assert!(decode(0, KIND_MIDI, 0xf8, -1, &sysex).is_none(), "not a channel message");
        assert_eq!(
            decode(0, KIND_SYSEX, 0, 4, &sysex).unwrap().data,
            EventData::Sysex { bytes: vec![0xf0, 0x7e, 0x01, 0xf7] }
        );
        assert!(decode(0, KIND_SYSEX, 1, 4, &sysex).is_none(), "not framed by F0 F7");
        assert!(decode(0, KIND_SYSEX, 3, 9, &sysex).is_none(), "outside the array");
        assert!(decode(0, 7, 0, 0, &sysex).is_none(), "unknown kind");
        assert_eq!(
            decode(9, KIND_VOICE_END, 3 | 64 << 8, 42, &sysex).unwrap(),
            OutEvent { frame: 9, data: EventData::VoiceEnd { channel: 3, key: 64, note_id: 42 } }
        );
        assert!(decode(0, KIND_VOICE_END, 16, 1, &sysex).is_none(), "channel 16");
        assert!(decode(0, KIND_VOICE_END, 128 << 8, 1, &sysex).is_none(), "key 128");
        assert!(decode(0, KIND_EXPRESSION, 0, 0, &sysex).is_none(), "expressions only come in");
    }
}
