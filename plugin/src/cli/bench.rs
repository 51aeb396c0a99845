//! `worklet bench`: speed, host-thread cost, underruns, hot swap and memory,
//! measured over the same pipeline the plugin uses (the caller's thread plays
//! the host; render threads are real).

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::args::BenchArgs;
use super::signal::InputSignal;
use super::{Failure, module_roots};
use crate::engine::{AudioBuses, Instance, NodeOptions, ParamFrame, RENDER_QUANTUM, Realm, RealmConfig};
use crate::port::channel_pair;
use crate::render::{
    HostSide, ModuleSource, Percentiles, Pipeline, PipelineConfig, PipelineEvent, Recipe, RenderStats,
};

/// Alternating bare/pipeline rounds of a non-real-time run.
const ROUNDS: usize = 5;
/// How long to wait for a generation to build before giving up.
const BUILD_PATIENCE: Duration = Duration::from_secs(60);

/// Percentiles of host-call durations, in nanoseconds.
#[derive(Debug, Clone, Copy, Serialize)]
struct HostCost {
    p50: f64,
    p99: f64,
    max: f64,
}

/// The hot-swap measurement.
#[derive(Debug, Clone, Copy, Serialize)]
struct HotSwap {
    /// From submitting the sources to the new generation being ready.
    ready_ms: f64,
    /// From submitting the sources to its output being mixed in (crossfade start).
    audible_ms: f64,
    /// Underruns between submitting and the end of the crossfade.
    underruns: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    processor: String,
    instances: usize,
    host_block: usize,
    sample_rate: f64,
    seconds: f64,
    rtf: f64,
    bare_rtf: f64,
    overhead: f64,
    render_us: Percentiles,
    host_ns_per_block: HostCost,
    underruns: u64,
    latency_frames: u64,
    realtime: bool,
    idle_gc: bool,
    rss_mb_per_instance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    hot_swap: Option<HotSwap>,
}

pub(crate) fn run(args: &BenchArgs, stdout: &mut dyn Write) -> Result<(), Failure> {
    let recipe = recipe(args)?;
    let frames = (args.seconds * args.sample_rate).round() as usize;
    let mut bare = bare(&recipe, args)?;
    // Warm the engine up before anything is timed.
    bare.run(frames / 20);
    bare.rendered = 0;
    bare.time = Duration::ZERO;

    let mut config = PipelineConfig::new(args.sample_rate, args.host_block as usize);
    config.realtime_priority = args.realtime;
    config.idle_gc = !args.no_idle_gc;
    if let Some(safety) = args.safety {
        config.safety_quanta = safety;
    }
    let rss_before = resident_bytes();
    let mut instances = Vec::with_capacity(args.instances as usize);
    let mut processor = String::new();
    for _ in 0..args.instances {
        let (mut pipeline, host) = Pipeline::new(config.clone());
        let id = pipeline.load(recipe.clone()).map_err(Failure::io)?;
        match wait_built(&mut pipeline, id)? {
            PipelineEvent::Ready { ready, .. } => processor = ready.processor,
            PipelineEvent::Failed { error, .. } => return Err(Failure::usage(error)),
            PipelineEvent::Died { message, .. } => return Err(Failure::io(message)),
        }
        instances.push((pipeline, host));
    }
    // Let every instance render a little, so its realm has reached its working size.
    let mut driver = Driver::new(&config);
    for _ in 0..64 {
        driver.block(&mut instances, false, false);
    }
    let rss_mb_per_instance =
        resident_bytes().saturating_sub(rss_before) as f64 / 1e6 / (args.instances as usize) as f64;
    for (pipeline, _) in &instances {
        pipeline.stats().reset();
    }
    let underruns_before: u64 = instances.iter().map(|(p, _)| p.telemetry().underruns()).sum();

    if args.realtime {
        // Like a DAW's audio thread: above the render threads.
        crate::render::priority::request_realtime(crate::render::priority::HOST_PRIORITY);
    }
    let blocks = frames.div_ceil(args.host_block as usize);
    let swap_at = args.hot_swap.then_some(blocks / 3);
    let mut swap: Option<(Instant, u64, u64)> = None;
    let mut hot_swap = None;
    if args.realtime {
        bare.run(frames);
    }
    // Off real time, bare and pipeline segments alternate so both see the same
    // machine (frequency scaling, other load).
    let segment = if args.realtime { blocks } else { blocks.div_ceil(ROUNDS) };
    let mut wall = Duration::ZERO;
    let mut started = Instant::now();
    let realtime_start = started;
    for block in 0..blocks {
        if !args.realtime && block % segment == 0 {
            wall += started.elapsed();
            bare.run(segment * args.host_block as usize);
            started = Instant::now();
        }
        if swap_at == Some(block) {
            let (pipeline, _) = &mut instances[0];
            let id = pipeline.load(recipe.clone()).map_err(Failure::io)?;
            swap = Some((Instant::now(), id, pipeline.telemetry().underruns()));
        }
        driver.block(&mut instances, args.realtime, true);
        if args.realtime {
            let due = realtime_start
                + Duration::from_secs_f64((block + 1) as f64 * (args.host_block as usize) as f64 / args.sample_rate);
            sleep_until(due);
        }
        track_swap(&mut swap, &mut hot_swap, &mut instances[0])?;
    }
    let wall = wall + started.elapsed();
    // A swap submitted near the end is followed to its end (not timed as rendering).
    let deadline = Instant::now() + BUILD_PATIENCE;
    while swap.is_some() && Instant::now() < deadline {
        driver.block(&mut instances, args.realtime, false);
        track_swap(&mut swap, &mut hot_swap, &mut instances[0])?;
        if args.realtime {
            std::thread::sleep(Duration::from_secs_f64(args.host_block as f64 / args.sample_rate));
        }
    }
    let wall = wall.as_secs_f64();
    let rtf = (blocks * args.host_block as usize) as f64 / args.sample_rate / wall;
    let bare_rtf = bare.rtf(args.sample_rate);
    let stats: Vec<&RenderStats> = instances.iter().map(|(p, _)| p.stats().as_ref()).collect();
    let report = Report {
        processor,
        instances: (args.instances as usize),
        host_block: (args.host_block as usize),
        sample_rate: args.sample_rate,
        seconds: args.seconds,
        rtf,
        bare_rtf,
        overhead: bare_rtf / rtf - 1.0,
        render_us: RenderStats::combined(&stats),
        host_ns_per_block: driver.host_cost(),
        underruns: instances.iter().map(|(p, _)| p.telemetry().underruns()).sum::<u64>() - underruns_before,
        latency_frames: config.latency_frames() as u64,
        realtime: args.realtime,
        idle_gc: config.idle_gc,
        rss_mb_per_instance,
        hot_swap,
    };
    let text = if args.json { serde_json::to_string(&report).map_err(Failure::io)? } else { human(&report) };
    writeln!(stdout, "{text}").map_err(Failure::io)
}

/// Follows a hot swap: `swap` is (submitted, generation, underruns then).
fn track_swap(
    swap: &mut Option<(Instant, u64, u64)>,
    hot_swap: &mut Option<HotSwap>,
    (pipeline, host): &mut (Pipeline, HostSide),
) -> Result<(), Failure> {
    let Some((submitted, id, underruns)) = *swap else { return Ok(()) };
    let measured = hot_swap.get_or_insert(HotSwap { ready_ms: f64::NAN, audible_ms: f64::NAN, underruns: 0 });
    for event in pipeline.poll() {
        match event {
            PipelineEvent::Ready { generation, build_time, .. } if generation == id => {
                measured.ready_ms = build_time.as_secs_f64() * 1e3;
            }
            PipelineEvent::Failed { error, .. } => return Err(Failure::usage(error)),
            PipelineEvent::Died { message, .. } => return Err(Failure::io(message)),
            PipelineEvent::Ready { .. } => {}
        }
    }
    if measured.audible_ms.is_nan() && (host.fading_in() == Some(id) || host.playing() == id) {
        measured.audible_ms = submitted.elapsed().as_secs_f64() * 1e3;
    }
    if host.playing() == id {
        measured.underruns = pipeline.telemetry().underruns() - underruns;
        *swap = None;
    }
    Ok(())
}

fn recipe(args: &BenchArgs) -> Result<Recipe, Failure> {
    let roots = module_roots(&args.modules, args.root.as_deref())?;
    let modules = args
        .modules
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            Ok(ModuleSource { name: path.display().to_string(), text, folder: None })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok(Recipe { modules, module_roots: roots, processor: args.processor.clone(), ..Recipe::default() })
}

/// The engine's ceiling: the processor called directly in a loop on this thread.
struct Bare {
    instance: Instance,
    inputs: AudioBuses,
    outputs: AudioBuses,
    params: ParamFrame,
    frame: u64,
    rendered: u64,
    time: Duration,
}

impl Bare {
    /// Renders `frames` more frames, adding to the totals.
    fn run(&mut self, frames: usize) {
        let started = Instant::now();
        for _ in 0..frames.div_ceil(RENDER_QUANTUM) {
            self.instance.set_frame(self.frame);
            self.instance.run_tasks();
            self.instance.render(&self.inputs, &self.params, &mut self.outputs);
            self.frame += RENDER_QUANTUM as u64;
            self.rendered += RENDER_QUANTUM as u64;
        }
        self.time += started.elapsed();
    }

    fn rtf(&self, sample_rate: f64) -> f64 {
        self.rendered as f64 / sample_rate / self.time.as_secs_f64()
    }
}

fn bare(recipe: &Recipe, args: &BenchArgs) -> Result<Bare, Failure> {
    let config = RealmConfig { module_roots: recipe.module_roots.clone(), ..RealmConfig::new(args.sample_rate) };
    let mut realm = Realm::new(&config)?;
    for module in &recipe.modules {
        realm.add_module_source(&module.name, &module.text)?;
    }
    let name = match &recipe.processor {
        Some(name) => name.clone(),
        None => crate::engine::offline::first_processor(&mut realm)
            .ok_or_else(|| Failure::usage("no processor is registered"))?,
    };
    let (_main, router) = channel_pair();
    let instance = Instance::new(realm, router, &name, &NodeOptions::default(), Some(2)).map_err(Failure::usage)?;
    let mut inputs = AudioBuses::silent(instance.node().input_channels());
    let signal = bench_signal(2, args.sample_rate);
    for (channel, samples) in inputs.buses.iter_mut().flatten().zip(&signal) {
        channel.copy_from_slice(&samples[..RENDER_QUANTUM]);
    }
    let outputs = AudioBuses::silent(instance.node().output_channels());
    let params = ParamFrame::constant(instance.node().initial_values());
    Ok(Bare { instance, inputs, outputs, params, frame: 0, rendered: 0, time: Duration::ZERO })
}

/// One second of the input every bench uses: `--input-signal sine:440`.
fn bench_signal(channels: usize, sample_rate: f64) -> Vec<Vec<f32>> {
    let frames = sample_rate.round() as u64;
    InputSignal::Sine(440.0).generate(channels as u32, frames, sample_rate).unwrap_or_default()
}

fn wait_built(pipeline: &mut Pipeline, id: u64) -> Result<PipelineEvent, Failure> {
    let deadline = Instant::now() + BUILD_PATIENCE;
    loop {
        if let Some(event) = pipeline.poll().into_iter().find(|e| e.generation() == id) {
            return Ok(event);
        }
        if Instant::now() > deadline {
            return Err(Failure::io("the processor did not finish building within 60 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Plays the host: a sine input, one block per call, timing every call.
struct Driver {
    signal: Vec<Vec<f32>>,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    position: usize,
    costs: Vec<u64>,
}

impl Driver {
    fn new(config: &PipelineConfig) -> Self {
        Self {
            signal: bench_signal(config.input_channels, config.sample_rate),
            input: vec![vec![0.0; config.max_block]; config.input_channels],
            output: vec![vec![0.0; config.max_block]; config.output_channels],
            position: 0,
            costs: Vec::with_capacity(1 << 20),
        }
    }

    /// One block for every instance. Unless `realtime`, first waits until every
    /// render thread is within one latency of the host (the bench's pacing, not
    /// the host side's), so the render threads always have work, as when a host
    /// runs at full speed.
    fn block(&mut self, instances: &mut [(Pipeline, HostSide)], realtime: bool, record: bool) {
        if !realtime {
            for (pipeline, host) in instances.iter() {
                // After this block is fed, what the host reads must be rendered:
                // the backlog may be at most the latency minus the block.
                let config = pipeline.config();
                let allowed = config.latency_frames().saturating_sub(config.max_block) as u64;
                // Sleep rather than spin: a spinning thread slows a render thread
                // on a sibling hardware thread.
                while host.backlog_frames() > allowed {
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
        }
        for (channel, signal) in self.input.iter_mut().zip(&self.signal) {
            for (n, sample) in channel.iter_mut().enumerate() {
                *sample = signal[(self.position + n) % signal.len()];
            }
        }
        self.position =
            (self.position + self.input.first().map_or(0, Vec::len)) % self.signal.first().map_or(1, Vec::len);
        let inputs: Vec<&[f32]> = self.input.iter().map(Vec::as_slice).collect();
        for (_, host) in instances.iter_mut() {
            let mut outputs: Vec<&mut [f32]> = self.output.iter_mut().map(Vec::as_mut_slice).collect();
            let started = Instant::now();
            host.process(&inputs, &mut outputs, &[]);
            if record {
                self.costs.push(started.elapsed().as_nanos() as u64);
            }
        }
    }

    fn host_cost(&mut self) -> HostCost {
        self.costs.sort_unstable();
        let at = |q: f64| {
            self.costs
                .get(((self.costs.len() as f64 * q) as usize).min(self.costs.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
        };
        HostCost { p50: at(0.5), p99: at(0.99), max: self.costs.last().copied().unwrap_or(0) as f64 }
    }
}

fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

/// Resident memory of this process (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn human(report: &Report) -> String {
    let mut text = format!(
        "{} x{} @ {} Hz, host block {}, {} s{}\n",
        report.processor,
        report.instances,
        report.sample_rate,
        report.host_block,
        report.seconds,
        if report.realtime { " (real-time)" } else { "" }
    );
    text +=
        &format!("  rtf {:.1} (bare {:.1}, overhead {:+.1} %)\n", report.rtf, report.bare_rtf, report.overhead * 100.0);
    let r = report.render_us;
    text += &format!(
        "  render per quantum: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs\n",
        r.p50, r.p99, r.p999, r.max
    );
    let h = report.host_ns_per_block;
    text += &format!("  host per block: p50 {:.0} ns, p99 {:.0} ns, max {:.0} ns\n", h.p50, h.p99, h.max);
    text += &format!(
        "  underruns {}, latency {} frames, {:.1} MB resident per instance",
        report.underruns, report.latency_frames, report.rss_mb_per_instance
    );
    if let Some(swap) = report.hot_swap {
        text += &format!(
            "\n  hot swap: ready {:.1} ms, audible {:.1} ms, {} underruns",
            swap.ready_ms, swap.audible_ms, swap.underruns
        );
    }
    text
}
