//! Command-line arguments of `worklet` (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::signal::InputSignal;

/// Run Web Audio AudioWorkletProcessor scripts headlessly.
#[derive(Debug, Parser)]
#[command(name = "worklet", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load modules into one AudioWorkletGlobalScope, construct one AudioWorkletNode
    /// and render it offline, one 128-frame quantum at a time.
    Render(Box<RenderArgs>),
    /// Load modules and print the registered processors and their parameter descriptors as JSON.
    Check(CheckArgs),
    /// Measure speed, host-thread cost, underruns, hot swap and memory over the
    /// same pipeline the plugin uses.
    Bench(BenchArgs),
}

/// `worklet render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Modules, loaded in order into one scope.
    #[arg(required = true, value_name = "MODULE.js")]
    pub modules: Vec<PathBuf>,
    /// Folder imports may read module files from (default: the deepest folder holding every module).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Processor to construct (default: the first registered).
    #[arg(long, value_name = "NAME")]
    pub processor: Option<String>,
    /// AudioWorkletNodeOptions as JSON (or @FILE.json): numberOfInputs, numberOfOutputs, outputChannelCount, parameterData, processorOptions.
    #[arg(long, value_name = "JSON|@FILE")]
    pub options: Option<String>,
    /// Input from a WAV file (its rate becomes the sample rate).
    #[arg(long, value_name = "FILE.wav", conflicts_with = "input_signal")]
    pub input: Option<PathBuf>,
    /// Generated input: sine:FREQ | noise | impulse | silence | dc:VALUE | none (nothing connected).
    #[arg(long = "input-signal", value_name = "KIND")]
    pub input_signal: Option<InputSignal>,
    /// What feeds the node's second input (a plugin's sidechain bus), from a WAV file at the render's rate.
    #[arg(long, value_name = "FILE.wav", conflicts_with = "sidechain_signal")]
    pub sidechain: Option<PathBuf>,
    /// A generated sidechain, as for --input-signal (default: none, input 1 left unconnected).
    #[arg(long = "sidechain-signal", value_name = "KIND")]
    pub sidechain_signal: Option<InputSignal>,
    /// Channels of a generated input.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub channels: u32,
    /// Length in seconds (default 1 s, or the input file's length).
    #[arg(long, value_name = "S", conflicts_with = "frames")]
    pub seconds: Option<f64>,
    /// Length in frames.
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,
    /// Sample rate in Hz.
    #[arg(long = "sample-rate", value_name = "HZ")]
    pub sample_rate: Option<f64>,
    /// Set an AudioParam: NAME=VALUE for the whole render, NAME=VALUE@FRAME from FRAME on (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE[@FRAME]")]
    pub params: Vec<String>,
    /// node.port.postMessage(JSON) before the quantum containing FRAME; FRAME:@FILE.json reads it from a file (repeatable).
    #[arg(long = "post", value_name = "FRAME:JSON|FRAME:@FILE")]
    pub posts: Vec<String>,
    /// audioWorklet.port.postMessage(JSON), same timing (repeatable).
    #[arg(long = "post-global", value_name = "FRAME:JSON|FRAME:@FILE")]
    pub posts_global: Vec<String>,
    /// Play a Standard MIDI File into the processor (`hostEvents`), placed by the file's tempo map (or --tempo); the transport then plays from frame 0.
    #[arg(long, value_name = "FILE.mid")]
    pub midi: Option<PathBuf>,
    /// The host's tempo in quarter notes per minute (the transport is then known; it plays with --transport or --midi).
    #[arg(long, value_name = "BPM", value_parser = parse_tempo)]
    pub tempo: Option<f64>,
    /// The host's time signature, e.g. 3/4 or 6/8 (default 4/4, or the MIDI file's).
    #[arg(long = "time-signature", value_name = "N/D", value_parser = parse_meter)]
    pub time_signature: Option<(u32, u32)>,
    /// The host's transport plays from frame 0 (at --tempo, default 120 BPM).
    #[arg(long)]
    pub transport: bool,
    /// Write the MIDI the processor sends out as a Standard MIDI File.
    #[arg(long = "midi-out", value_name = "FILE.mid")]
    pub midi_out: Option<PathBuf>,
    /// Write the node's first output as a 32-bit float WAV.
    #[arg(long, value_name = "FILE.wav")]
    pub out: Option<PathBuf>,
    /// Write what the main thread observes as JSON lines to FILE, or - for stdout.
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<String>,
    /// Render in an engine process of its own: a crash, the memory cap or the watchdog ends that process with a clear error (exit status 3).
    #[arg(long)]
    pub isolated: bool,
    /// With --isolated: the engine process's memory cap, in MiB.
    #[arg(long = "memory-cap", value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(64..=1 << 20))]
    pub memory_cap: u64,
    /// Interrupt the script where it runs when loading or a render quantum takes longer than this, in seconds (exit status 3); with --isolated, kill the engine process if it is in native code.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    pub deadline: f64,
}

fn parse_tempo(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(bpm) if (1.0..=999.0).contains(&bpm) => Ok(bpm),
        _ => Err(format!("'{text}' is not a tempo between 1 and 999 BPM")),
    }
}

fn parse_meter(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{text}' is not a time signature such as 4/4 or 6/8");
    let (numerator, denominator) = text.split_once('/').ok_or_else(bad)?;
    let numerator: u32 = numerator.trim().parse().map_err(|_| bad())?;
    let denominator: u32 = denominator.trim().parse().map_err(|_| bad())?;
    if !(1..=64).contains(&numerator) || !denominator.is_power_of_two() || denominator > 64 {
        return Err(bad());
    }
    Ok((numerator, denominator))
}

/// `worklet check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Modules, loaded in order into one scope.
    #[arg(required = true, value_name = "MODULE.js")]
    pub modules: Vec<PathBuf>,
    /// Folder imports may read module files from (default: the deepest folder holding every module).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// `worklet bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Modules, loaded in order into one scope per instance.
    #[arg(required = true, value_name = "MODULE.js")]
    pub modules: Vec<PathBuf>,
    /// Folder imports may read module files from (default: the deepest folder holding every module).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Processor to construct (default: the first registered).
    #[arg(long, value_name = "NAME")]
    pub processor: Option<String>,
    /// Audio seconds to render per instance.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub seconds: f64,
    /// Instances rendering side by side (each with its own render thread).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64), value_name = "N")]
    pub instances: u64,
    /// Host block size in frames.
    #[arg(long = "host-block", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=8192), value_name = "FRAMES")]
    pub host_block: u64,
    /// Sample rate in Hz.
    #[arg(long = "sample-rate", default_value_t = 48_000.0, value_name = "HZ")]
    pub sample_rate: f64,
    /// Drive the host side from a real-time clock (and count underruns) instead of as fast as possible.
    #[arg(long)]
    pub realtime: bool,
    /// Drive the host side as a bounce does: offline, each block waits until the
    /// engines rendered all it fed (the plugin's offline path), instead of the
    /// bench's own pacing.
    #[arg(long, conflicts_with = "realtime")]
    pub offline: bool,
    /// Also measure a hot swap (new sources submitted a third of the way in).
    #[arg(long = "hot-swap")]
    pub hot_swap: bool,
    /// Safety margin in whole quanta (default: the plugin's).
    #[arg(long, value_name = "QUANTA")]
    pub safety: Option<u32>,
    /// Do not run the garbage collector in the render threads' idle time.
    #[arg(long = "no-idle-gc")]
    pub no_idle_gc: bool,
    /// Where the engines run: render threads in this process, an engine process per
    /// generation (as in the plugin), or both, measured side by side in one run.
    #[arg(long, value_enum, default_value_t = Isolation::InProcess)]
    pub isolation: Isolation,
    /// Another processor's modules, measured side by side in the same run (its
    /// rounds alternate with the first one's), with the ratios of the two.
    #[arg(long, value_name = "MODULE.js", num_args = 1.., conflicts_with = "isolation")]
    pub against: Vec<PathBuf>,
    /// Where one processor's time goes instead: per quantum, message delivery, the
    /// engine around `process()`, `process()` itself, garbage collection and heap
    /// use (its bare loop, one thread), with the slow patterns in its `process()`
    /// located (FILE:LINE:COL).
    #[arg(long, conflicts_with_all = ["against", "isolation", "instances", "realtime", "hot_swap"])]
    pub profile: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `worklet bench --isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Isolation {
    /// Render threads in this process.
    InProcess,
    /// An engine process per generation, as the plugin runs them.
    Isolated,
    /// Both, alternating in one run, with isolated ÷ in-process ratios.
    Both,
}
