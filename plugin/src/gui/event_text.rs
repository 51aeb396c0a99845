//! Readable text for the events the MIDI monitor shows in the console (GUI
//! thread): `note on  ch 1  C4 (60)  vel 100  id 7`.

use crate::engine::EventData;
use crate::render::Seen;

const NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/// `C4 (60)`: the key's name (middle C is C4) and number.
pub(super) fn key_name(key: u8) -> String {
    format!("{}{} ({key})", NAMES[usize::from(key % 12)], i32::from(key / 12) - 1)
}

/// One line for one event.
pub(super) fn describe(seen: &Seen) -> String {
    let id = |note_id: i32| if note_id >= 0 { format!("  id {note_id}") } else { String::new() };
    let Some(data) = seen.event.data() else {
        let len = seen.event.sysex_span().map_or(0, |span| span.len());
        return format!("SysEx, {len} bytes");
    };
    match data {
        EventData::Midi { bytes: [status, a, b], note_id } => {
            let channel = (status & 0x0f) + 1;
            match status & 0xf0 {
                0x90 if b > 0 => format!("note on   ch {channel}  {}  vel {b}{}", key_name(a), id(note_id)),
                0x80 | 0x90 => format!("note off  ch {channel}  {}  vel {b}{}", key_name(a), id(note_id)),
                0xa0 => format!("pressure  ch {channel}  {}  {b}{}", key_name(a), id(note_id)),
                0xb0 => format!("CC {a} = {b}  ch {channel}"),
                0xc0 => format!("program {a}  ch {channel}"),
                0xd0 => format!("channel pressure {a}  ch {channel}"),
                0xe0 => format!("pitch bend {:+}  ch {channel}", (i32::from(b) << 7 | i32::from(a)) - 8192),
                _ => format!("{status:02X} {a:02X} {b:02X}"),
            }
        }
        EventData::Expression { channel, key, note_id, expression, value } => {
            let name = serde_json::to_value(expression).ok().and_then(|v| v.as_str().map(str::to_owned));
            let note = match (channel, u8::try_from(key)) {
                (c, Ok(key)) if c >= 0 => format!("ch {}  {}", c + 1, key_name(key)),
                (_, Ok(key)) => format!("any channel  {}", key_name(key)),
                _ => "any note".to_owned(),
            };
            format!("{} {value:+.3}  {note}{}", name.unwrap_or_default(), id(note_id))
        }
        EventData::VoiceEnd { channel, key, note_id } => {
            format!("voice end  ch {}  {}{}", channel + 1, key_name(key), id(note_id))
        }
        EventData::Sysex { bytes } => format!("SysEx, {} bytes", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::host_events::NoteExpression;
    use crate::render::BlockEvent;

    fn text(out: bool, event: BlockEvent) -> String {
        describe(&Seen { out, event })
    }

    #[test]
    fn events_read_as_a_musician_names_them() {
        assert_eq!(key_name(60), "C4 (60)");
        assert_eq!(key_name(69), "A4 (69)");
        assert_eq!(key_name(0), "C-1 (0)");
        assert_eq!(text(false, BlockEvent::midi(0, [0x90, 60, 100], 7)), "note on   ch 1  C4 (60)  vel 100  id 7");
        assert_eq!(text(false, BlockEvent::midi(0, [0x91, 61, 0], -1)), "note off  ch 2  C#4 (61)  vel 0");
        assert_eq!(text(false, BlockEvent::midi(0, [0xb0, 74, 64], -1)), "CC 74 = 64  ch 1");
        assert_eq!(text(false, BlockEvent::midi(0, [0xe0, 0, 0x40], -1)), "pitch bend +0  ch 1");
        assert_eq!(text(false, BlockEvent::midi(0, [0xe0, 0, 0], -1)), "pitch bend -8192  ch 1");
        assert_eq!(
            text(false, BlockEvent::expression(0, 0, 69, 3, NoteExpression::Tuning, 12.0)),
            "tuning +12.000  ch 1  A4 (69)  id 3"
        );
        assert_eq!(
            text(false, BlockEvent::expression(0, 0xff, 0xff, 3, NoteExpression::Brightness, 0.5)),
            "brightness +0.500  any note  id 3"
        );
        assert_eq!(text(true, BlockEvent::voice_end(0, 0, 69, 3)), "voice end  ch 1  A4 (69)  id 3");
        assert_eq!(text(false, BlockEvent::sysex(0, 40..46)), "SysEx, 6 bytes");
    }
}
