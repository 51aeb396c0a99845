//! What the plugin and an engine process say to each other over the engine
//! process's stdin and stdout: one JSON object per line. Audio, parameter events
//! and the control words never travel here (they are in shared memory); this
//! carries what is not real-time: the setup, port messages, console lines,
//! parameter requests from the GUI and the render thread's telemetry.
//!
//! Either side reads lines of at most [`MAX_LINE`] bytes; a longer line, or one
//! that does not parse, is dropped and counted, never trusted.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::generation_memory::Layout;
use super::worker::{Ready, Recipe};
use crate::engine::ScriptError;
use crate::port::{ToMain, ToRealm};

/// Longest line either side accepts (a port message may carry a large array).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// The first line the engine process reads: what to build and where its rings are.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Setup {
    pub(crate) generation: u64,
    pub(crate) recipe: Recipe,
    pub(crate) sample_rate: f64,
    pub(crate) max_block: usize,
    pub(crate) input_channels: usize,
    pub(crate) output_channels: usize,
    pub(crate) sidechain_channels: usize,
    pub(crate) aux_output_channels: Vec<usize>,
    pub(crate) realtime_priority: bool,
    pub(crate) idle_gc: bool,
    /// The shared memory's file and shape.
    pub(crate) memory: PathBuf,
    pub(crate) layout: Layout,
    /// The memory cap, in bytes (0: none).
    pub(crate) memory_cap: u64,
    /// Each slot's value as the playing generation left it and as last requested
    /// (`NaN` where none), so the new one starts where the old one is. Values
    /// travel as `f32` bits: JSON has no NaN.
    pub(crate) current: Vec<u32>,
    pub(crate) requested: Vec<u32>,
}

/// Plugin → engine process, after the setup.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToEngine {
    /// A port message, close or bounce from the main side.
    Port(ToRealm),
    /// The GUI set a slot (ramped over one quantum, as in process); `f32` bits.
    Request { slot: usize, value: u32 },
    /// The watchdog's deadline passed: stop the script where it runs (it throws,
    /// located there), before the process is killed.
    Interrupt,
}

/// Engine process → plugin.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromEngine {
    /// The build finished: the processor, or where and why it failed.
    Built(Result<Ready, ScriptError>),
    /// A message, console line or processor error for the main side.
    Port(ToMain),
    /// What the render thread measured since the last report.
    Report(Report),
}

/// The render thread's telemetry since the previous report.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// Smoothed load (time per quantum over its duration).
    pub(crate) load: f32,
    /// 0 empty, 1 running, 2 errored (as [`super::GenerationState`]).
    pub(crate) state: u8,
    pub(crate) dropped_messages: u64,
    pub(crate) nonfinite_samples: u64,
    /// MIDI events dropped on the render side.
    pub(crate) dropped_events: u64,
    /// Quanta rendered since the previous report.
    pub(crate) quanta: u64,
    /// How long the quantum in progress has been running, in ns (0: none).
    pub(crate) running_ns: u64,
    /// Slots whose current value changed, with the value (`f32` bits).
    pub(crate) current: Vec<(usize, u32)>,
    /// Render-time histogram buckets recorded since the previous report.
    pub(crate) stats: Vec<(usize, u64)>,
    pub(crate) max_ns: u64,
}

/// Writes `value` as one line and flushes it.
pub(crate) fn write_line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// What reading a line gave.
pub(crate) enum Line<T> {
    Value(T),
    /// Too long or not a `T`: skipped.
    Bad,
    /// End of the stream.
    End,
}

/// Reads the next line as a `T`, skipping what is over [`MAX_LINE`] bytes.
pub(crate) fn read_line<T: for<'de> Deserialize<'de>>(input: &mut impl BufRead, buffer: &mut Vec<u8>) -> Line<T> {
    buffer.clear();
    let mut too_long = false;
    loop {
        let available = match input.fill_buf() {
            Ok([]) => return if buffer.is_empty() && !too_long { Line::End } else { Line::Bad },
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Line::End,
        };
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if !too_long && buffer.len() + taken <= MAX_LINE {
            buffer.extend_from_slice(&available[..taken]);
        } else {
            too_long = true;
            buffer.clear();
        }
        input.consume(taken);
        if done {
            break;
        }
    }
    if too_long {
        return Line::Bad;
    }
    serde_json::from_slice(buffer).map_or(Line::Bad, Line::Value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::Message;

    #[test]
    fn messages_survive_the_line_format_and_bad_lines_are_skipped() {
        let mut wire = Vec::new();
        let post = ToEngine::Port(ToRealm::Post {
            from: 1,
            message: Message { data: serde_json::json!({"$f32": [0.5, 1e-7]}), ports: vec![7], moved: vec![] },
        });
        write_line(&mut wire, &post).unwrap();
        wire.extend_from_slice(b"{not json}\n");
        wire.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        wire.push(b'\n');
        write_line(&mut wire, &ToEngine::Request { slot: 3, value: f32::NAN.to_bits() }).unwrap();
        write_line(&mut wire, &ToEngine::Interrupt).unwrap();
        let mut reader = io::BufReader::with_capacity(4096, &wire[..]);
        let mut buffer = Vec::new();
        let Line::Value(ToEngine::Port(ToRealm::Post { from: 1, message })) = read_line(&mut reader, &mut buffer)
        else {
            panic!("the post comes back")
        };
        assert_eq!(message.data, serde_json::json!({"$f32": [0.5, 1e-7]}));
        assert_eq!(message.ports, [7]);
        assert!(matches!(read_line::<ToEngine>(&mut reader, &mut buffer), Line::Bad), "not json");
        assert!(matches!(read_line::<ToEngine>(&mut reader, &mut buffer), Line::Bad), "too long");
        assert!(buffer.capacity() <= 2 * MAX_LINE, "a long line is not kept whole");
        let Line::Value(ToEngine::Request { slot, value }) = read_line(&mut reader, &mut buffer) else {
            panic!("the request after the bad lines comes back")
        };
        assert_eq!((slot, value), (3, f32::NAN.to_bits()), "NaN survives as bits");
        assert!(matches!(read_line::<ToEngine>(&mut reader, &mut buffer), Line::Value(ToEngine::Interrupt)));
        assert!(matches!(read_line::<ToEngine>(&mut reader, &mut buffer), Line::End));
    }
}
