//! Standard MIDI Files for `worklet render --midi` and `--midi-out` (the caller's
//! thread), read and written with `midly`.
//!
//! Reading merges every track (formats 0 and 1; a format 2 file's songs are played
//! together) and places each event by the file's own tempo map, or by `--tempo`
//! when given, as a DAW places an imported clip in a project of that tempo.
//! SMPTE-timed files place events by time and keep the default tempo.

use std::path::Path;

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::engine::host_events::{DEFAULT_TEMPO, TempoSegment, Timeline};
use crate::engine::{EventData, HostEvent};

/// What a MIDI file holds, placed in time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sequence {
    /// Events at context frames, in file order within a frame.
    pub events: Vec<HostEvent>,
    /// The file's tempo map.
    pub tempo: Vec<TempoSegment>,
    /// The file's first time signature.
    pub meter: Option<(u32, u32)>,
}

/// Ticks per quarter note of the files `--midi-out` writes.
const OUT_PPQ: u16 = 960;

/// Reads `path`; `tempo` overrides the file's tempo map.
pub(crate) fn read(path: &Path, tempo: Option<f64>, sample_rate: f64) -> Result<Sequence, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("--midi {shown}: {e}"))?;
    let smf = Smf::parse(&bytes).map_err(|e| format!("--midi {shown}: not a Standard MIDI File ({e})"))?;
    let mut timed: Vec<(u64, usize, TrackEventKind<'_>)> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            timed.push((tick, timed.len(), event.kind));
        }
    }
    timed.sort_by_key(|&(tick, order, _)| (tick, order));

    let mut meter = None;
    let mut segments = Vec::new();
    // Ticks per quarter note, or per second for an SMPTE-timed file.
    let (per_beat, per_second) = match smf.header.timing {
        Timing::Metrical(ppq) => (Some(f64::from(ppq.as_int().max(1))), None),
        Timing::Timecode(fps, subframes) => (None, Some(f64::from(fps.as_f32()) * f64::from(subframes.max(1)))),
    };
    if let Some(ppq) = per_beat {
        let mut last: Option<TempoSegment> = None;
        for (tick, _, kind) in &timed {
            if let TrackEventKind::Meta(MetaMessage::Tempo(micros)) = kind {
                let beats = *tick as f64 / ppq;
                let bpm = 60_000_000.0 / f64::from(micros.as_int().max(1));
                let start = last.unwrap_or(TempoSegment { seconds: 0.0, beats: 0.0, tempo: DEFAULT_TEMPO });
                let seconds = start.seconds + (beats - start.beats) * 60.0 / start.tempo;
                if segments.last().is_some_and(|s: &TempoSegment| s.beats == beats) {
                    segments.pop();
                }
                let segment = TempoSegment { seconds, beats, tempo: bpm };
                segments.push(segment);
                last = Some(segment);
            }
        }
        if segments.first().is_some_and(|s| s.beats > 0.0) {
            segments.insert(0, TempoSegment { seconds: 0.0, beats: 0.0, tempo: DEFAULT_TEMPO });
        }
    }
    if let Some(tempo) = tempo {
        segments = vec![TempoSegment { seconds: 0.0, beats: 0.0, tempo }];
    }
    if segments.is_empty() {
        segments.push(TempoSegment { seconds: 0.0, beats: 0.0, tempo: DEFAULT_TEMPO });
    }

    let timeline = Timeline { tempo: segments, meter: (4, 4), playing: true };
    let mut events = Vec::new();
    for (tick, _, kind) in &timed {
        let data = match kind {
            TrackEventKind::Midi { channel, message } => {
                let mut bytes = Vec::with_capacity(3);
                let live = midly::live::LiveEvent::Midi { channel: *channel, message: *message };
                live.write_std(&mut bytes).map_err(|e| format!("--midi {shown}: {e}"))?;
                bytes.resize(3, 0);
                EventData::midi(bytes[0], bytes[1], bytes[2])
            }
            TrackEventKind::SysEx(body) if body.last() == Some(&0xf7) => {
                let mut bytes = Vec::with_capacity(body.len() + 1);
                bytes.push(0xf0);
                bytes.extend_from_slice(body);
                EventData::Sysex { bytes }
            }
            TrackEventKind::Meta(MetaMessage::TimeSignature(numerator, power, _, _)) => {
                let denominator = 1u32.checked_shl(u32::from(*power)).unwrap_or(4);
                meter.get_or_insert((u32::from(*numerator).max(1), denominator));
                continue;
            }
            _ => continue,
        };
        let seconds = match (per_beat, per_second) {
            (Some(ppq), _) => timeline.seconds_at(*tick as f64 / ppq),
            (None, Some(rate)) => *tick as f64 / rate,
            (None, None) => 0.0,
        };
        events.push(HostEvent { frame: (seconds * sample_rate).round() as u64, data });
    }
    Ok(Sequence { events, tempo: timeline.tempo, meter })
}

/// Writes the MIDI a processor sent (`(frame, bytes)`, in order) as a format 0
/// file with `timeline`'s tempo map and meter (120 BPM, 4/4 without one).
pub(crate) fn write(
    path: &Path,
    events: &[(u64, Vec<u8>)],
    timeline: Option<&Timeline>,
    sample_rate: f64,
) -> Result<(), String> {
    let default = Timeline::constant(DEFAULT_TEMPO, (4, 4), true);
    let timeline = timeline.unwrap_or(&default);
    let ticks_at = |seconds: f64| (timeline.beats_at(seconds) * f64::from(OUT_PPQ)).round().max(0.0) as u64;
    let mut timed: Vec<(u64, TrackEventKind<'_>)> = Vec::new();
    let power = timeline.meter.1.max(1).trailing_zeros() as u8;
    let meter = MetaMessage::TimeSignature(timeline.meter.0.min(255) as u8, power, 24, 8);
    timed.push((0, TrackEventKind::Meta(meter)));
    for segment in &timeline.tempo {
        let micros = (60_000_000.0 / segment.tempo).round().clamp(1.0, f64::from(0xff_ffffu32)) as u32;
        let tick = (segment.beats * f64::from(OUT_PPQ)).round() as u64;
        timed.push((tick, TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros)))));
    }
    for (frame, bytes) in events {
        let tick = ticks_at(*frame as f64 / sample_rate);
        let kind = match bytes.first() {
            Some(0xf0) => TrackEventKind::SysEx(&bytes[1..]),
            Some(&status) if status >= 0x80 => {
                let message = midly::MidiMessage::read_with_status(status, &bytes[1..])
                    .ok_or_else(|| format!("--midi-out: {bytes:02x?} is not a MIDI channel message"))?;
                TrackEventKind::Midi { channel: u4::new(status & 0x0f), message }
            }
            _ => continue,
        };
        timed.push((tick, kind));
    }
    timed.sort_by_key(|&(tick, _)| tick);
    let mut track = Vec::with_capacity(timed.len() + 1);
    let mut previous = 0;
    for (tick, kind) in timed {
        let delta = u28::new((tick - previous).min(0x0fff_ffff) as u32);
        track.push(TrackEvent { delta, kind });
        previous = tick;
    }
    track.push(TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) });
    let mut smf = Smf::new(Header::new(Format::SingleTrack, Timing::Metrical(u15::new(OUT_PPQ))));
    smf.tracks.push(track);
    smf.save(path).map_err(|e| format!("--midi-out {}: {e}", path.display()))
}

/// A channel message's bytes as `midly` reads them.
trait ReadWithStatus: Sized {
    fn read_with_status(status: u8, data: &[u8]) -> Option<Self>;
}

impl ReadWithStatus for midly::MidiMessage {
    fn read_with_status(status: u8, data: &[u8]) -> Option<Self> {
        let byte = |i: usize| data.get(i).copied().filter(|&b| b < 0x80).map(u7::new);
        let live = match status >> 4 {
            0x8 => Self::NoteOff { key: byte(0)?, vel: byte(1)? },
            0x9 => Self::NoteOn { key: byte(0)?, vel: byte(1)? },
            0xa => Self::Aftertouch { key: byte(0)?, vel: byte(1)? },
            0xb => Self::Controller { controller: byte(0)?, value: byte(1)? },
            0xc => Self::ProgramChange { program: byte(0)? },
            0xd => Self::ChannelAftertouch { vel: byte(0)? },
            0xe => {
                let value = u16::from(byte(0)?.as_int()) | u16::from(byte(1)?.as_int()) << 7;
                Self::PitchBend { bend: midly::PitchBend(midly::num::u14::new(value)) }
            }
            _ => return None,
        };
        Some(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("worklet-midi-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("file.mid")
    }

    #[test]
    fn what_is_written_reads_back_at_the_same_frames() {
        let path = scratch("roundtrip");
        let timeline = Timeline::constant(90.0, (3, 4), true);
        let events = vec![
            (0, vec![0x90, 60, 100]),
            (24_000, vec![0x80, 60, 0]),
            (32_000, vec![0xc1, 5]),
            (40_000, vec![0xf0, 0x7e, 0x01, 0xf7]),
            (48_000, vec![0xe0, 0x00, 0x40]),
        ];
        write(&path, &events, Some(&timeline), 48_000.0).unwrap();
        let sequence = read(&path, None, 48_000.0).unwrap();
        assert_eq!(sequence.meter, Some((3, 4)));
        assert!((sequence.tempo[0].tempo - 90.0).abs() < 1e-3);
        let frames: Vec<u64> = sequence.events.iter().map(|e| e.frame).collect();
        // 960 ticks per quarter at 90 BPM: a tick is 1/1440 s, 33.3 frames.
        for (read, (written, _)) in frames.iter().zip(&events) {
            assert!(read.abs_diff(*written) <= 17, "{read} against {written}");
        }
        assert_eq!(sequence.events[2].data, EventData::midi(0xc1, 5, 0));
        assert_eq!(sequence.events[3].data, EventData::Sysex { bytes: vec![0xf0, 0x7e, 0x01, 0xf7] });
        let tempo = read(&path, Some(180.0), 48_000.0).unwrap();
        assert_eq!(tempo.events[1].frame, 12_000, "--tempo 180 plays the file twice as fast");
    }

    #[test]
    fn a_tempo_change_moves_the_events_after_it() {
        let path = scratch("tempo");
        let track = vec![
            TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))) },
            TrackEvent { delta: u28::new(480), kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(1_000_000))) },
            TrackEvent {
                delta: u28::new(480),
                kind: TrackEventKind::Midi {
                    channel: u4::new(0),
                    message: midly::MidiMessage::NoteOn { key: u7::new(64), vel: u7::new(1) },
                },
            },
            TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) },
        ];
        let mut smf = Smf::new(Header::new(Format::SingleTrack, Timing::Metrical(u15::new(480))));
        smf.tracks.push(track);
        smf.save(&path).unwrap();
        let sequence = read(&path, None, 48_000.0).unwrap();
        // One beat at 120 BPM (0.5 s), then one at 60 BPM (1 s).
        assert_eq!(sequence.events[0].frame, 72_000);
        assert_eq!(sequence.tempo.len(), 2);
    }

    #[test]
    fn a_file_that_is_not_midi_is_named() {
        let path = scratch("bad");
        std::fs::write(&path, b"RIFF....WAVE").unwrap();
        let error = read(&path, None, 48_000.0).unwrap_err();
        assert!(error.contains("not a Standard MIDI File"), "{error}");
    }
}
