//! The events of one host block as the host side hands them over and gets them
//! back (audio thread; fixed buffers, no allocation): MIDI channel messages,
//! note expressions, voice ends and SysEx, each at its frame in the block.
//! SysEx bytes are kept beside the events, in one buffer per block.

use std::ops::Range;

use crate::engine::EventData;
use crate::engine::event_mailbox::{OUT_CAPACITY, SYSEX_CAPACITY};
use crate::engine::host_events::NoteExpression;

/// `BlockEvent::bytes[0]` of a note expression is this plus the expression's
/// index (no MIDI status byte is below 0x80).
pub const EXPRESSION_TAG: u8 = 0x10;
/// `BlockEvent::bytes[0]` of a voice's end.
pub const VOICE_END_TAG: u8 = 0x20;
/// `BlockEvent::bytes[0]` of a SysEx message (its bytes are beside the events).
pub const SYSEX_TAG: u8 = 0xf0;

/// An event inside a host block: a MIDI channel message, or (with a tag in
/// place of the status byte) a note expression, a voice's end or a SysEx
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockEvent {
    /// Frame inside the block.
    pub offset: u32,
    /// Status, data 1, data 2 (unused bytes 0); for a note expression
    /// [`EXPRESSION_TAG`] + its index, the key, the channel; for a voice's end
    /// [`VOICE_END_TAG`], the key, the channel; for SysEx [`SYSEX_TAG`] and
    /// its length (little end first).
    pub bytes: [u8; 3],
    /// The host's note id, or -1; for SysEx, where its bytes start among the
    /// block's SysEx bytes.
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

    /// A SysEx message whose bytes are `span` among the block's SysEx bytes.
    /// A span longer than 65,535 bytes is kept as that long: either way it is
    /// over [`SYSEX_CAPACITY`], so it is dropped and counted, never cut.
    pub fn sysex(offset: u32, span: Range<usize>) -> Self {
        let [low, high] = (span.len().min(usize::from(u16::MAX)) as u16).to_le_bytes();
        Self { offset, bytes: [SYSEX_TAG, low, high], note_id: span.start as i32, value: 0.0 }
    }

    /// Where a SysEx message's bytes are among the block's SysEx bytes (`None`:
    /// not SysEx).
    pub fn sysex_span(&self) -> Option<Range<usize>> {
        let [tag, low, high] = self.bytes;
        let start = usize::try_from(self.note_id).ok()?;
        (tag == SYSEX_TAG).then(|| start..start + usize::from(u16::from_le_bytes([low, high])))
    }

    /// Which of the four it is, from the tag in its first byte.
    pub fn kind(&self) -> BlockEventKind {
        match self.bytes[0] {
            SYSEX_TAG => BlockEventKind::Sysex,
            VOICE_END_TAG => BlockEventKind::VoiceEnd,
            status => match status.checked_sub(EXPRESSION_TAG).and_then(NoteExpression::from_index) {
                Some(expression) => BlockEventKind::Expression(expression),
                None => BlockEventKind::Midi,
            },
        }
    }

    /// What it is; `None` for SysEx, whose bytes are not in the event (see
    /// [`Self::sysex_span`]).
    pub fn data(&self) -> Option<EventData> {
        let [_, key, channel] = self.bytes;
        let note_id = self.note_id;
        let any = |byte: u8| if byte == 0xff { -1 } else { i16::from(byte) };
        Some(match self.kind() {
            BlockEventKind::Expression(expression) => {
                let (channel, key) = (any(channel), any(key));
                EventData::Expression { channel, key, note_id, expression, value: self.value }
            }
            BlockEventKind::VoiceEnd => EventData::VoiceEnd { channel, key, note_id },
            BlockEventKind::Sysex => return None,
            BlockEventKind::Midi => EventData::Midi { bytes: self.bytes, note_id },
        })
    }
}

/// The kinds of [`BlockEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockEventKind {
    /// A MIDI channel message (`bytes` as sent).
    Midi,
    /// A note expression (its value in `value`).
    Expression(NoteExpression),
    /// A voice's end.
    VoiceEnd,
    /// A SysEx message (its bytes beside the events).
    Sysex,
}

/// The host's events for (part of) a block, sorted by offset, and the SysEx
/// bytes they point into.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventsIn<'a> {
    /// The events.
    pub events: &'a [BlockEvent],
    /// The bytes of their SysEx messages.
    pub sysex: &'a [u8],
}

impl EventsIn<'_> {
    /// A SysEx event's bytes (`None`: not SysEx, or pointing outside them).
    pub fn sysex_bytes(&self, event: &BlockEvent) -> Option<&[u8]> {
        self.sysex.get(event.sysex_span()?)
    }
}

impl<'a> From<&'a [BlockEvent]> for EventsIn<'a> {
    fn from(events: &'a [BlockEvent]) -> Self {
        Self { events, sysex: &[] }
    }
}

/// The MIDI a processor sent, gathered for one host block: fixed buffers,
/// allocated once, that the host side fills without allocating (full: dropped
/// and counted). The plugin keeps the host's events of a block in one too.
#[derive(Debug)]
pub struct EventsOut {
    events: Box<[BlockEvent]>,
    len: usize,
    sysex: Box<[u8]>,
    sysex_used: usize,
    dropped: u64,
}

impl EventsOut {
    /// Room for `capacity` events per block (and [`SYSEX_CAPACITY`] SysEx bytes).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            events: vec![BlockEvent::default(); capacity].into_boxed_slice(),
            len: 0,
            sysex: vec![0; SYSEX_CAPACITY].into_boxed_slice(),
            sysex_used: 0,
            dropped: 0,
        }
    }

    /// The events of the block, in the order the processor sent them.
    pub fn events(&self) -> &[BlockEvent] {
        &self.events[..self.len]
    }

    /// A SysEx event's bytes.
    pub fn sysex_bytes(&self, event: &BlockEvent) -> Option<&[u8]> {
        self.sysex[..self.sysex_used].get(event.sysex_span()?)
    }

    /// Empties it for the next block.
    pub fn clear(&mut self) {
        self.len = 0;
        self.sysex_used = 0;
    }

    /// Events that did not fit, in total.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The events of the block, to be changed in place.
    pub(crate) fn events_mut(&mut self) -> &mut [BlockEvent] {
        &mut self.events[..self.len]
    }

    /// Events `range` with the SysEx bytes they point into.
    pub(crate) fn events_in(&self, range: Range<usize>) -> EventsIn<'_> {
        EventsIn { events: &self.events[..self.len][range], sysex: &self.sysex[..self.sysex_used] }
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

    /// Room for a SysEx message of `len` bytes, to be filled and then kept
    /// with [`Self::push_sysex`]; `None` (dropped and counted) when the block's
    /// events or bytes are full.
    pub(crate) fn sysex_room(&mut self, len: usize) -> Option<&mut [u8]> {
        if self.len >= self.events.len() || self.sysex_used + len > self.sysex.len() {
            self.dropped += 1;
            return None;
        }
        Some(&mut self.sysex[self.sysex_used..self.sysex_used + len])
    }

    /// Keeps the SysEx message of `len` bytes just written into
    /// [`Self::sysex_room`], at `offset`.
    pub(crate) fn push_sysex(&mut self, offset: u32, len: usize) {
        let span = self.sysex_used..self.sysex_used + len;
        self.sysex_used += len;
        self.push(BlockEvent::sysex(offset, span));
    }
}

impl Default for EventsOut {
    fn default() -> Self {
        Self::with_capacity(OUT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_block_buffer_drops_and_counts() {
        let mut out = EventsOut::with_capacity(2);
        assert!(out.push(BlockEvent::default()) && out.push(BlockEvent::default()));
        assert!(!out.push(BlockEvent::default()));
        assert_eq!((out.events().len(), out.dropped()), (2, 1));
        out.clear();
        assert!(out.events().is_empty());
    }

    #[test]
    fn sysex_events_point_at_their_bytes_and_overflow_is_counted() {
        let mut out = EventsOut::with_capacity(4);
        let message = [0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7];
        out.sysex_room(message.len()).unwrap().copy_from_slice(&message);
        out.push_sysex(17, message.len());
        let event = out.events()[0];
        assert_eq!((event.offset, event.data()), (17, None));
        assert_eq!(out.sysex_bytes(&event), Some(&message[..]));
        assert!(out.sysex_room(SYSEX_CAPACITY).is_none());
        assert_eq!(out.dropped(), 1);
        // A channel message is not SysEx, whatever its note id.
        assert_eq!(BlockEvent::midi(0, [0x90, 60, 1], 3).sysex_span(), None);
        let bytes = [1, 2, 3, 4];
        let events = [BlockEvent::sysex(0, 1..3)];
        let input = EventsIn { events: &events, sysex: &bytes };
        assert_eq!(input.sysex_bytes(&events[0]), Some(&bytes[1..3]));
        assert_eq!(input.sysex_bytes(&BlockEvent::sysex(0, 3..9)), None);
        // A message over the limit keeps its length, so it is refused, not cut.
        let over = BlockEvent::sysex(0, 0..SYSEX_CAPACITY + 1);
        assert_eq!(over.sysex_span().map(|span| span.len()), Some(SYSEX_CAPACITY + 1));
    }
}
