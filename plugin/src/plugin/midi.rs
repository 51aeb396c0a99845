//! The host's notes, MIDI and transport in nice-plug's terms, turned into the
//! pipeline's (audio thread; fixed buffers, no allocation).
//!
//! Every note event the host sends becomes a MIDI 1.0 channel message with its
//! note id (CLAP) kept: note on/off, poly and channel pressure, CC, pitch bend,
//! program change. CLAP's other note expressions (tuning, brightness, vibrato,
//! expression, volume, pan) cross as note expressions; SysEx crosses both ways
//! (up to [`super::sysex::MAX_SYSEX`] bytes a message, its bytes kept beside the block's
//! events). A voice's end the processor reports goes to the host as CLAP's
//! note end.

use nice_plug::midi::{Channel, Key, MidiResult, VoiceID};
use nice_plug::prelude::*;
use std::ops::Range;

use super::sysex::Sysex;
use crate::engine::host_events::NoteExpression;
use crate::render::{BlockEvent, BlockEventKind, EventsIn, EventsOut};

/// Events one host block can carry to the processor (more are dropped and counted).
pub(crate) const BLOCK_EVENTS: usize = 4096;

/// The host's events of one block, in the order it sent them (sorted by time):
/// the same fixed store of events and SysEx bytes the processor's events come
/// back in, and which of them the block's pieces have taken.
pub(crate) struct BlockEvents {
    block: EventsOut,
    /// The first event no piece has taken yet.
    next: usize,
    /// What the store had counted as dropped when last looked at.
    store_dropped: u64,
    /// Events that did not fit or have no MIDI 1.0 form, since last taken.
    pub(crate) dropped: u64,
}

impl Default for BlockEvents {
    fn default() -> Self {
        Self { block: EventsOut::with_capacity(BLOCK_EVENTS), next: 0, store_dropped: 0, dropped: 0 }
    }
}

impl BlockEvents {
    /// Takes the notes the editor's keyboard played since the last block (at
    /// its first frame), then every event the host sent for this block.
    pub(crate) fn gather<P: Plugin<SysExMessage = Sysex>>(
        &mut self,
        context: &mut impl ProcessContext<P>,
        keyboard: &mut rtrb::Consumer<[u8; 3]>,
    ) {
        self.block.clear();
        self.next = 0;
        while let Ok(bytes) = keyboard.pop() {
            self.block.push(BlockEvent::midi(0, bytes, -1));
        }
        while let Some(event) = context.next_event() {
            let note_id = event.voice_id().and_then(|v| v.id()).unwrap_or(-1);
            if let NoteEvent::MidiSysEx { timing, message } = &event {
                match message.bytes() {
                    Some(bytes) => self.keep_sysex(*timing, bytes),
                    None => self.dropped += 1,
                }
                continue;
            }
            let block_event = match (event.as_midi(), expression::<P>(&event)) {
                (Some(MidiResult::Basic(bytes)), _) => BlockEvent::midi(event.timing(), bytes, note_id),
                (_, Some((channel, key, expression, value))) => {
                    BlockEvent::expression(event.timing(), channel, key, note_id, expression, value)
                }
                _ => {
                    self.dropped += 1;
                    continue;
                }
            };
            self.block.push(block_event);
        }
        // What did not fit, the store counted.
        let store_dropped = self.block.dropped();
        self.dropped += store_dropped - self.store_dropped;
        self.store_dropped = store_dropped;
    }

    /// Copies a SysEx message's bytes beside the events, or counts it dropped
    /// when the block's events or SysEx bytes are full.
    fn keep_sysex(&mut self, timing: u32, bytes: &[u8]) {
        if let Some(room) = self.block.sysex_room(bytes.len()) {
            room.copy_from_slice(bytes);
            self.block.push_sysex(timing, bytes.len());
        }
    }

    /// The events of frames `range`, with offsets made relative to its start.
    /// Pieces must come in order: each event is handed out once.
    pub(crate) fn piece(&mut self, range: Range<usize>) -> EventsIn<'_> {
        let events = &mut self.block.events_mut()[self.next..];
        let count = events.iter().take_while(|e| (e.offset as usize) < range.end).count();
        for event in &mut events[..count] {
            event.offset = event.offset.saturating_sub(range.start as u32);
        }
        let first = self.next;
        self.next += count;
        self.block.events_in(first..first + count)
    }
}

/// A note expression without a MIDI 1.0 form: channel, key (0xff: any), which,
/// value (in CLAP's units: pan from 0 to 1).
fn expression<P: Plugin>(event: &PluginNoteEvent<P>) -> Option<(u8, u8, NoteExpression, f32)> {
    let (channel, key, expression, value) = match *event {
        NoteEvent::PolyTuning { channel, key, tuning, .. } => (channel, key, NoteExpression::Tuning, tuning),
        NoteEvent::PolyBrightness { channel, key, brightness, .. } => {
            (channel, key, NoteExpression::Brightness, brightness)
        }
        NoteEvent::PolyVibrato { channel, key, vibrato, .. } => (channel, key, NoteExpression::Vibrato, vibrato),
        NoteEvent::PolyExpression { channel, key, expression, .. } => {
            (channel, key, NoteExpression::Expression, expression)
        }
        NoteEvent::PolyVolume { channel, key, gain, .. } => (channel, key, NoteExpression::Volume, gain),
        NoteEvent::PolyPan { channel, key, pan, .. } => (channel, key, NoteExpression::Pan, (pan + 1.0) / 2.0),
        _ => return None,
    };
    Some((channel.number().unwrap_or(0xff), key.number().unwrap_or(0xff), expression, value))
}

/// The host's transport, or `None` when it reports no tempo (free-running).
pub(crate) fn transport(t: &Transport) -> Option<crate::engine::Transport> {
    let tempo = t.tempo.filter(|tempo| *tempo > 0.0)?;
    let numerator = t.time_sig_numerator.filter(|n| *n > 0).unwrap_or(4) as u32;
    let denominator = t.time_sig_denominator.filter(|d| *d > 0).unwrap_or(4) as u32;
    let beats = t.pos_beats().unwrap_or(0.0);
    let per_bar = f64::from(numerator) * 4.0 / f64::from(denominator);
    let bar_start_beats = t.bar_start_pos_beats().unwrap_or_else(|| (beats / per_bar).floor() * per_bar);
    let bar = t.bar_number().map_or_else(|| (bar_start_beats / per_bar).round() as i64, i64::from);
    let loop_beats = t.loop_range_beats();
    Some(crate::engine::Transport {
        playing: t.playing,
        recording: t.recording,
        looping: loop_beats.is_some(),
        tempo,
        numerator,
        denominator,
        beats,
        seconds: t.pos_seconds().unwrap_or(beats * 60.0 / tempo),
        bar_start_beats,
        bar,
        loop_beats: loop_beats.unwrap_or((0.0, 0.0)),
    })
}

/// Sends what the processor sent in a piece starting at `start` to the host;
/// returns how many the host would not take.
pub(crate) fn send<P: Plugin<SysExMessage = Sysex>>(
    out: &mut EventsOut,
    start: usize,
    context: &mut impl ProcessContext<P>,
) -> u64 {
    let mut dropped = 0;
    for event in out.events() {
        let timing = event.offset + start as u32;
        if event.kind() == BlockEventKind::Sysex {
            let message = out.sysex_bytes(event).and_then(Sysex::new);
            let sent = message.map(|message| context.try_send_event(NoteEvent::MidiSysEx { timing, message }));
            if !matches!(sent, Some(Ok(()))) {
                dropped += 1;
            }
            continue;
        }
        if event.kind() == BlockEventKind::VoiceEnd {
            let [_, key, channel] = event.bytes;
            let voice_id = if event.note_id >= 0 { VoiceID::ID(event.note_id) } else { VoiceID::Wildcard };
            let (channel, key) = (Channel::Number(channel), Key::Number(key));
            if context.try_send_event(NoteEvent::VoiceTerminated { timing, voice_id, channel, key }).is_err() {
                dropped += 1;
            }
            continue;
        }
        let length = 1 + crate::engine::host_events::channel_message_data_bytes(event.bytes[0]).unwrap_or(2);
        match PluginNoteEvent::<P>::from_midi(timing, &event.bytes[..length]) {
            Ok(mut note) => {
                if let NoteEvent::NoteOn { voice_id, .. } | NoteEvent::NoteOff { voice_id, .. } = &mut note
                    && event.note_id >= 0
                {
                    *voice_id = VoiceID::ID(event.note_id);
                }
                if context.try_send_event(note).is_err() {
                    dropped += 1;
                }
            }
            Err(_) => dropped += 1,
        }
    }
    out.clear();
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_hand_out_each_event_once_at_its_offset_in_the_piece_with_its_sysex() {
        let mut block = BlockEvents::default();
        block.block.push(BlockEvent::midi(0, [0x90, 60, 100], 7));
        block.block.push(BlockEvent::midi(5, [0x80, 60, 0], 7));
        block.keep_sysex(130, &[0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7]);
        block.block.push(BlockEvent::midi(200, [0xb0, 1, 64], -1));
        let first = block.piece(0..128);
        let offsets: Vec<u32> = first.events.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [0, 5]);
        let second = block.piece(128..256);
        let offsets: Vec<u32> = second.events.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [2, 72]);
        assert_eq!(second.events[0].kind(), BlockEventKind::Sysex);
        assert_eq!(second.sysex_bytes(&second.events[0]), Some(&[0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7][..]));
        assert_eq!(second.events[1].data(), BlockEvent::midi(0, [0xb0, 1, 64], -1).data());
        assert!(block.piece(256..384).events.is_empty());
    }

    #[test]
    fn sysex_past_the_blocks_bytes_is_refused_and_counted() {
        let mut block = BlockEvents::default();
        let long = vec![0x11; crate::engine::event_mailbox::SYSEX_CAPACITY + 1];
        block.keep_sysex(0, &long);
        assert!(block.piece(0..128).events.is_empty());
        assert_eq!(block.block.dropped(), 1);
    }
}
