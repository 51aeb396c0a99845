//! What the host tells a processor besides audio and parameters: MIDI and SysEx
//! events stamped with their frame, and the transport (tempo, meter, position).
//! Plain data, any thread; [`super::event_mailbox`] hands it to the script.
//!
//! The transport is what the host reports, never invented: a render without a
//! timeline (a free-running host, the CLI without `--tempo` or `--transport`)
//! gives the processor `known: false`.

use serde::Serialize;

/// One event for the processor, at an absolute context frame.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEvent {
    /// The context frame it happens at.
    pub frame: u64,
    /// What it is.
    pub data: EventData,
}

/// The payload of a [`HostEvent`] (or of an event a processor sends out).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EventData {
    /// A MIDI 1.0 channel message (running status resolved; unused bytes are 0).
    Midi {
        /// Status, data 1, data 2.
        bytes: [u8; 3],
        /// The host's note id for note on/off (CLAP), or -1.
        #[serde(rename = "noteId", skip_serializing_if = "is_no_id")]
        note_id: i32,
    },
    /// A system-exclusive message, `F0 ... F7` included.
    Sysex {
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A per-note expression of one playing note (CLAP note expressions: the
    /// host's MPE without MIDI channels). Pressure comes as MIDI poly pressure.
    #[serde(rename = "note-expression")]
    Expression {
        /// MIDI channel, 0–15 (-1: any).
        channel: i16,
        /// MIDI key, 0–127 (-1: any).
        key: i16,
        /// The host's note id, or -1 (then channel and key name the note).
        #[serde(rename = "noteId")]
        note_id: i32,
        /// Which expression.
        expression: NoteExpression,
        /// Its value, in the expression's unit (see [`NoteExpression`]).
        value: f32,
    },
    /// Sent by a processor: one of its voices has ended (CLAP's note end), so the
    /// host can stop modulating it.
    #[serde(rename = "voice-end")]
    VoiceEnd {
        /// MIDI channel, 0–15.
        channel: u8,
        /// MIDI key, 0–127.
        key: u8,
        /// The note id the voice was started with, or -1.
        #[serde(rename = "noteId")]
        note_id: i32,
    },
}

/// The per-note expressions a host can send (CLAP's, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteExpression {
    /// Gain, 0–4 (1: unchanged).
    Volume,
    /// Pan, 0 (left) to 1 (right), 0.5 centred.
    Pan,
    /// Detune in semitones, -120 to 120.
    Tuning,
    /// Vibrato amount, 0–1.
    Vibrato,
    /// Expression, 0–1.
    Expression,
    /// Brightness (MPE's timbre, CC 74), 0–1.
    Brightness,
    /// Pressure, 0–1.
    Pressure,
}

impl NoteExpression {
    /// Every expression, by its index.
    pub const ALL: [Self; 7] =
        [Self::Volume, Self::Pan, Self::Tuning, Self::Vibrato, Self::Expression, Self::Brightness, Self::Pressure];

    /// Its index (CLAP's expression id).
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The expression with this index.
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }
}

fn is_no_id(id: &i32) -> bool {
    *id < 0
}

impl EventData {
    /// A MIDI channel message without a note id.
    pub fn midi(status: u8, data1: u8, data2: u8) -> Self {
        Self::Midi { bytes: [status, data1, data2], note_id: -1 }
    }
}

/// Bytes a MIDI channel message with this status has after the status byte, or
/// `None` for a status that is not a channel message.
pub fn channel_message_data_bytes(status: u8) -> Option<usize> {
    match status & 0xf0 {
        0x80 | 0x90 | 0xa0 | 0xb0 | 0xe0 => Some(2),
        0xc0 | 0xd0 => Some(1),
        _ => None,
    }
}

/// The transport as the processor sees it at the first frame of a quantum.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Transport {
    /// The host is playing.
    pub playing: bool,
    /// The host is recording.
    pub recording: bool,
    /// Loop (cycle) mode is on.
    pub looping: bool,
    /// Beats (quarter notes) per minute.
    pub tempo: f64,
    /// Time signature numerator.
    pub numerator: u32,
    /// Time signature denominator.
    pub denominator: u32,
    /// Song position in quarter notes.
    pub beats: f64,
    /// Song position in seconds.
    pub seconds: f64,
    /// Where the current bar started, in quarter notes.
    pub bar_start_beats: f64,
    /// The current bar, counted from 0.
    pub bar: i64,
    /// Loop start and end in quarter notes (meaningful when `looping`).
    pub loop_beats: (f64, f64),
}

impl Transport {
    /// Quarter notes per bar.
    pub fn beats_per_bar(&self) -> f64 {
        f64::from(self.numerator) * 4.0 / f64::from(self.denominator.max(1))
    }

    /// The transport `frames` later, when nothing but time changes: a playing
    /// transport moves on at its tempo (wrapping at the loop's end when looping)
    /// and crosses bar lines; a stopped one stays.
    pub fn advanced(&self, frames: u64, sample_rate: f64) -> Self {
        if !self.playing || frames == 0 || self.tempo <= 0.0 {
            return *self;
        }
        let mut next = *self;
        let seconds = frames as f64 / sample_rate;
        next.seconds += seconds;
        next.beats += seconds * self.tempo / 60.0;
        let (loop_start, loop_end) = self.loop_beats;
        if self.looping && loop_end > loop_start && self.beats < loop_end && next.beats >= loop_end {
            next.beats = loop_start + (next.beats - loop_end) % (loop_end - loop_start);
        }
        let per_bar = self.beats_per_bar();
        if per_bar > 0.0 {
            let bars = ((next.beats - self.bar_start_beats) / per_bar + 1e-9).floor();
            next.bar_start_beats = self.bar_start_beats + bars * per_bar;
            next.bar = self.bar + bars as i64;
        }
        next
    }
}

/// A tempo that holds from a point of the timeline on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoSegment {
    /// Where it starts, in seconds.
    pub seconds: f64,
    /// Where it starts, in quarter notes.
    pub beats: f64,
    /// Quarter notes per minute.
    pub tempo: f64,
}

/// A timeline for an offline render: a tempo map, a meter, and whether it plays
/// from frame 0 (the CLI's `--tempo`, `--time-signature`, `--transport`, or a
/// MIDI file's tempo map).
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Tempo segments, sorted, the first at 0 s.
    pub tempo: Vec<TempoSegment>,
    /// Time signature numerator and denominator.
    pub meter: (u32, u32),
    /// The transport plays from frame 0 (else it stands at 0).
    pub playing: bool,
}

/// The tempo a timeline has when nothing gives one (as in a Standard MIDI File).
pub const DEFAULT_TEMPO: f64 = 120.0;

impl Timeline {
    /// A constant tempo.
    pub fn constant(tempo: f64, meter: (u32, u32), playing: bool) -> Self {
        Self { tempo: vec![TempoSegment { seconds: 0.0, beats: 0.0, tempo }], meter, playing }
    }

    /// The position in quarter notes at `seconds`.
    pub fn beats_at(&self, seconds: f64) -> f64 {
        let segment = self.segment_at(|s| s.seconds <= seconds);
        segment.beats + (seconds - segment.seconds) * segment.tempo / 60.0
    }

    /// The time in seconds of the position `beats` (quarter notes).
    pub fn seconds_at(&self, beats: f64) -> f64 {
        let segment = self.segment_at(|s| s.beats <= beats);
        segment.seconds + (beats - segment.beats) * 60.0 / segment.tempo
    }

    fn segment_at(&self, before: impl Fn(&TempoSegment) -> bool) -> TempoSegment {
        let first = TempoSegment { seconds: 0.0, beats: 0.0, tempo: DEFAULT_TEMPO };
        self.tempo.iter().take_while(|s| before(s)).last().copied().unwrap_or(first)
    }

    /// The transport at context frame `frame`.
    pub fn at(&self, frame: u64, sample_rate: f64) -> Transport {
        let seconds = if self.playing { frame as f64 / sample_rate } else { 0.0 };
        let beats = self.beats_at(seconds);
        let tempo = self.segment_at(|s| s.seconds <= seconds).tempo;
        let mut transport = Transport {
            playing: self.playing,
            tempo,
            numerator: self.meter.0,
            denominator: self.meter.1,
            beats,
            seconds,
            ..Transport::default()
        };
        let per_bar = transport.beats_per_bar();
        // A hair of tolerance, so that a bar line computed as 3.9999999 beats in is one.
        let bar = ((beats + 1e-9) / per_bar).floor();
        transport.bar = bar as i64;
        transport.bar_start_beats = bar * per_bar;
        transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_tempo_counts_beats_and_bars() {
        let timeline = Timeline::constant(120.0, (3, 4), true);
        let at = timeline.at(48_000 * 2, 48_000.0);
        assert!((at.beats - 4.0).abs() < 1e-12, "two seconds at 120 BPM are four beats");
        assert_eq!(at.bar, 1);
        assert!((at.bar_start_beats - 3.0).abs() < 1e-12);
        let stopped = Timeline::constant(120.0, (4, 4), false).at(96_000, 48_000.0);
        assert!(!stopped.playing && stopped.beats == 0.0 && stopped.seconds == 0.0);
    }

    #[test]
    fn a_tempo_map_converts_both_ways() {
        let timeline = Timeline {
            tempo: vec![
                TempoSegment { seconds: 0.0, beats: 0.0, tempo: 120.0 },
                TempoSegment { seconds: 2.0, beats: 4.0, tempo: 60.0 },
            ],
            meter: (6, 8),
            playing: true,
        };
        assert!((timeline.beats_at(3.0) - 5.0).abs() < 1e-12);
        assert!((timeline.seconds_at(5.0) - 3.0).abs() < 1e-12);
        assert!((timeline.seconds_at(1.0) - 0.5).abs() < 1e-12);
        let at = timeline.at(48_000 * 3, 48_000.0);
        assert!((at.tempo - 60.0).abs() < 1e-12);
        assert!((at.beats_per_bar() - 3.0).abs() < 1e-12, "6/8 is three quarter notes a bar");
        assert_eq!(at.bar, 1);
    }

    #[test]
    fn a_transport_moves_on_at_its_tempo_and_wraps_at_its_loop() {
        let timeline = Timeline::constant(120.0, (4, 4), true);
        let at = timeline.at(0, 48_000.0);
        let later = at.advanced(48_000 * 3, 48_000.0);
        assert_eq!(later, timeline.at(48_000 * 3, 48_000.0), "the same as the timeline's own");
        let looping =
            Transport { looping: true, loop_beats: (4.0, 8.0), beats: 7.5, bar: 1, bar_start_beats: 4.0, ..at };
        let wrapped = looping.advanced(24_000, 48_000.0);
        assert!((wrapped.beats - 4.5).abs() < 1e-12, "{wrapped:?}");
        assert_eq!(wrapped.bar, 1);
        let stopped = Transport { playing: false, ..at };
        assert_eq!(stopped.advanced(1_000, 48_000.0), stopped);
    }

    #[test]
    fn channel_messages_have_their_lengths() {
        assert_eq!(channel_message_data_bytes(0x93), Some(2));
        assert_eq!(channel_message_data_bytes(0xc0), Some(1));
        assert_eq!(channel_message_data_bytes(0xf0), None);
    }
}
