//! `worklet render`: offline rendering of one node (the caller's thread).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::args::RenderArgs;
use super::isolated::{Heartbeat, judge};
use super::signal::InputSignal;
use super::watchdog::Watchdog;
use super::{Failure, json_arg, load_modules, midi_file, wav};
use crate::engine::host_events::DEFAULT_TEMPO;
use crate::engine::{HostEvent, MainEvent, ParamStep, PortName, Post, RenderError, RenderSpec, Timeline, render};

/// Sample rate when neither `--sample-rate` nor `--input` gives one.
const DEFAULT_SAMPLE_RATE: f64 = 48_000.0;
/// The range of sample rates an `AudioContext` must support.
const SAMPLE_RATE_RANGE: std::ops::RangeInclusive<f64> = 3_000.0..=768_000.0;
/// Renders longer than this (in audio seconds) show a progress bar on a terminal.
const PROGRESS_SECONDS: f64 = 10.0;

pub(crate) fn run(args: &RenderArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<(), Failure> {
    let mut heartbeat = Heartbeat::start(args)?;
    let file = args.input.as_deref().map(wav::read).transpose().map_err(Failure::usage)?;
    let sample_rate = match (&file, args.sample_rate) {
        (Some(file), Some(rate)) if (rate - f64::from(file.sample_rate)).abs() > f64::EPSILON => {
            return Err(Failure::usage(format!(
                "--sample-rate {rate} contradicts the input file's rate {}; leave it out to use the file's",
                file.sample_rate
            )));
        }
        (Some(file), _) => f64::from(file.sample_rate),
        (None, rate) => rate.unwrap_or(DEFAULT_SAMPLE_RATE),
    };
    if !SAMPLE_RATE_RANGE.contains(&sample_rate) {
        return Err(Failure::usage(format!("--sample-rate {sample_rate} is outside 3000..=768000 Hz")));
    }
    let frames = match (args.frames, args.seconds, &file) {
        (Some(frames), _, _) => frames,
        (None, Some(seconds), _) if seconds.is_finite() && seconds >= 0.0 => (seconds * sample_rate).round() as u64,
        (None, Some(seconds), _) => return Err(Failure::usage(format!("--seconds {seconds} is not a length"))),
        (None, None, Some(file)) => file.channels.first().map_or(0, |c| c.len() as u64),
        (None, None, None) => sample_rate.round() as u64,
    };
    let options = match &args.options {
        Some(text) => json_arg::parse("--options", text, text)?,
        None => Value::Null,
    };
    let input = match file {
        Some(file) => Some(file.channels),
        None => args.input_signal.unwrap_or(InputSignal::Sine(440.0)).generate(args.channels, frames, sample_rate),
    };
    let sidechain = match (&args.sidechain, args.sidechain_signal) {
        (Some(path), _) => {
            let file = wav::read(path).map_err(Failure::usage)?;
            if (f64::from(file.sample_rate) - sample_rate).abs() > f64::EPSILON {
                return Err(Failure::usage(format!(
                    "--sidechain {}: its rate {} Hz differs from the render's {sample_rate} Hz",
                    path.display(),
                    file.sample_rate
                )));
            }
            Some(file.channels)
        }
        (None, Some(signal)) => signal.generate(args.channels, frames, sample_rate),
        (None, None) => None,
    };
    let mut posts = Vec::new();
    for (list, port) in [(&args.posts, PortName::Node), (&args.posts_global, PortName::Global)] {
        for text in list {
            posts.push(parse_post(text, port)?);
        }
    }
    let automation = args.params.iter().map(|text| parse_param(text)).collect::<Result<_, _>>()?;
    let (events, timeline) = host_timeline(args, sample_rate)?;
    let spec = RenderSpec {
        frames,
        processor: args.processor.clone(),
        options,
        input,
        sidechain,
        automation,
        posts,
        events,
        timeline: timeline.clone(),
    };

    // An engine process's supervisor watches it from outside; a render in this
    // process has a watchdog thread instead.
    let watchdog = match heartbeat {
        Some(_) => None,
        None => Some(Watchdog::start(super::isolated::deadline(args)?)?),
    };
    if let Some(heartbeat) = &mut heartbeat {
        heartbeat.loading(stderr);
    }
    let interrupt = heartbeat
        .as_ref()
        .map(Heartbeat::interrupt_handle)
        .or_else(|| watchdog.as_ref().map(Watchdog::interrupt_handle));
    let realm = load_modules(&args.modules, args.root.as_deref(), sample_rate, interrupt)?;
    if let Some(heartbeat) = &mut heartbeat {
        heartbeat.loaded(stderr);
    }
    let bar = progress_bar(frames, sample_rate);
    if let Some(watchdog) = &watchdog {
        watchdog.beat();
    }
    let rendered = render(realm, &spec, &mut |done| {
        bar.set_position(done);
        if let Some(heartbeat) = &mut heartbeat {
            heartbeat.rendered(done, stderr);
        }
        if let Some(watchdog) = &watchdog {
            watchdog.beat();
        }
    })
    .map_err(|e| match e {
        RenderError::BadPost(error) => Failure::usage(format!("--post: {error}")),
        other => Failure::usage(other),
    })?;
    bar.finish_and_clear();
    let dropped = rendered.dropped;
    if dropped.total() > 0 {
        let _ = writeln!(
            stderr,
            "warning: {} messages dropped because a queue was full (to the realm: {}, to the main thread: {}, on a port: {})",
            dropped.total(),
            dropped.to_realm,
            dropped.to_main,
            dropped.port_queue
        );
    }
    if rendered.events_dropped > 0 {
        let _ = writeln!(
            stderr,
            "warning: {} MIDI events dropped (over {} per quantum in, or malformed or over capacity out)",
            rendered.events_dropped,
            crate::engine::event_mailbox::EVENT_CAPACITY
        );
    }
    if rendered.nonfinite > 0 {
        let _ = writeln!(stderr, "warning: {} NaN or infinite samples were replaced by silence", rendered.nonfinite);
    }

    if let Some(path) = &args.out {
        if rendered.output.is_empty() {
            return Err(Failure::usage("--out: the node has no outputs (numberOfOutputs is 0)"));
        }
        wav::write(path, sample_rate.round() as u32, &rendered.output).map_err(Failure::io)?;
    }
    if let Some(path) = &args.midi_out {
        let sent: Vec<(u64, Vec<u8>)> = rendered
            .events
            .iter()
            .filter_map(|timed| match &timed.event {
                MainEvent::Midi { bytes, .. } => Some((timed.frame, bytes.clone())),
                _ => None,
            })
            .collect();
        midi_file::write(path, &sent, timeline.as_ref(), sample_rate).map_err(Failure::io)?;
    }
    if let Some(target) = &args.events {
        let mut lines = String::new();
        for event in &rendered.events {
            lines.push_str(&serde_json::to_string(event).map_err(Failure::io)?);
            lines.push('\n');
        }
        if target == "-" {
            stdout.write_all(lines.as_bytes()).map_err(Failure::io)?;
        } else {
            let mut file = BufWriter::new(File::create(target).map_err(|e| Failure::io(format!("{target}: {e}")))?);
            file.write_all(lines.as_bytes())
                .and_then(|()| file.flush())
                .map_err(|e| Failure::io(format!("{target}: {e}")))?;
        }
    }
    judge(args, &rendered.events)
}

/// The MIDI file's events and the host's timeline: known when any of `--midi`,
/// `--tempo`, `--time-signature` or `--transport` is given, playing with
/// `--transport` or `--midi`; `None` otherwise (the processor is told so).
fn host_timeline(args: &RenderArgs, sample_rate: f64) -> Result<(Vec<HostEvent>, Option<Timeline>), Failure> {
    let sequence = match &args.midi {
        Some(path) => Some(midi_file::read(path, args.tempo, sample_rate).map_err(Failure::usage)?),
        None => None,
    };
    let known = sequence.is_some() || args.tempo.is_some() || args.time_signature.is_some() || args.transport;
    if !known {
        return Ok((Vec::new(), None));
    }
    let meter = args.time_signature.or_else(|| sequence.as_ref().and_then(|s| s.meter)).unwrap_or((4, 4));
    let playing = args.transport || sequence.is_some();
    let mut timeline = Timeline::constant(args.tempo.unwrap_or(DEFAULT_TEMPO), meter, playing);
    let mut events = Vec::new();
    if let Some(sequence) = sequence {
        timeline.tempo = sequence.tempo;
        events = sequence.events;
    }
    Ok((events, Some(timeline)))
}

fn progress_bar(frames: u64, sample_rate: f64) -> ProgressBar {
    let long = frames as f64 / sample_rate > PROGRESS_SECONDS;
    if !long || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(frames), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} rendering [{bar:40}] {percent}% ({eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// `FRAME:JSON` or `FRAME:@FILE.json`.
fn parse_post(text: &str, port: PortName) -> Result<Post, Failure> {
    let flag = if port == PortName::Node { "--post" } else { "--post-global" };
    let (frame, json) =
        text.split_once(':').ok_or_else(|| Failure::usage(format!("{flag} '{text}': expected FRAME:JSON")))?;
    let frame = frame
        .trim()
        .parse()
        .map_err(|_| Failure::usage(format!("{flag} '{text}': '{frame}' is not a frame number")))?;
    let data = json_arg::parse(flag, text, json)?;
    Ok(Post { frame, port, data })
}

/// `NAME=VALUE` or `NAME=VALUE@FRAME`.
fn parse_param(text: &str) -> Result<ParamStep, Failure> {
    let bad = |why: &str| Failure::usage(format!("--param '{text}': {why}"));
    let (name, rest) = text.split_once('=').ok_or_else(|| bad("expected NAME=VALUE or NAME=VALUE@FRAME"))?;
    let (value, frame) = match rest.split_once('@') {
        Some((value, frame)) => (value, frame.trim().parse().map_err(|_| bad("the frame is not a whole number"))?),
        None => (rest, 0),
    };
    let value: f32 = value.trim().parse().map_err(|_| bad("the value is not a number"))?;
    if !value.is_finite() {
        return Err(bad("the value is not finite"));
    }
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    Ok(ParamStep { name: name.to_owned(), value, frame })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_with_and_without_frames() {
        let step = parse_param("gain=0.5@256").unwrap();
        assert_eq!((step.name.as_str(), step.frame), ("gain", 256));
        assert!((step.value - 0.5).abs() < f32::EPSILON);
        assert_eq!(parse_param("gain=1").unwrap().frame, 0);
        assert!(parse_param("gain").is_err());
        assert!(parse_param("gain=x").is_err());
        assert!(parse_param("gain=1@-3").is_err());
        assert!(parse_param("=1").is_err());
    }

    #[test]
    fn posts_split_at_the_first_colon() {
        let post = parse_post(r#"128:{"a":"b:c"}"#, PortName::Node).unwrap();
        assert_eq!(post.frame, 128);
        assert_eq!(post.data, serde_json::json!({"a": "b:c"}));
        assert!(parse_post("x:1", PortName::Node).is_err());
        assert!(parse_post("0:{", PortName::Global).is_err());
    }
}
