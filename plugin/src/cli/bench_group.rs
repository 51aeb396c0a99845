//! `worklet bench`: a group of instances of one engine mode (render threads in
//! this process, or engine processes), driven by the caller's thread as a host's
//! audio thread would drive them, timing every host call.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Failure;
use super::bench_bare::bench_signal;
use crate::engine::RENDER_QUANTUM;
use crate::render::{HostSide, Pipeline, PipelineConfig, PipelineEvent, Recipe, RenderStats};

/// How long to wait for a generation to build before giving up.
pub(super) const BUILD_PATIENCE: Duration = Duration::from_secs(60);
/// Longest a free-running bench waits for a render thread before feeding on.
const PACING_PATIENCE: Duration = Duration::from_secs(5);

/// Percentiles of host-call durations, in nanoseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct HostCost {
    pub(super) p50: f64,
    pub(super) p99: f64,
    pub(super) max: f64,
}

/// The hot-swap measurement.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct HotSwap {
    /// From submitting the sources to the new generation being ready.
    pub(super) ready_ms: f64,
    /// From submitting the sources to its output being mixed in (crossfade start).
    pub(super) audible_ms: f64,
    /// Underruns between submitting and the end of the crossfade.
    pub(super) underruns: u64,
}

/// A swap in flight: when it was submitted, its generation, underruns then.
type Swap = (Instant, u64, u64);

/// Instances of one engine mode and what was measured of them.
pub(super) struct Group {
    pub(super) config: PipelineConfig,
    pub(super) instances: Vec<(Pipeline, HostSide)>,
    driver: Driver,
    /// Wall time of the timed blocks.
    pub(super) wall: Duration,
    /// Wall time of each free-running round (same blocks in every group).
    pub(super) rounds: Vec<Duration>,
    /// Timed blocks driven so far.
    pub(super) blocks: usize,
    pub(super) processor: String,
    /// Memory the instances added, divided among them (engine processes included).
    pub(super) memory_mb_per_instance: f64,
    underruns_before: u64,
    swap: Option<Swap>,
    pub(super) hot_swap: Option<HotSwap>,
}

impl Group {
    /// Builds `count` instances of `recipe`, lets each render a little so its
    /// realm reaches its working size, then measures the memory they added.
    pub(super) fn start(config: PipelineConfig, recipe: &Recipe, count: usize) -> Result<Self, Failure> {
        let before = resident_bytes();
        let mut instances = Vec::with_capacity(count);
        let mut processor = String::new();
        for _ in 0..count {
            let (mut pipeline, host) = Pipeline::new(config.clone());
            let id = pipeline.load(recipe.clone()).map_err(Failure::io)?;
            match wait_built(&mut pipeline, id)? {
                PipelineEvent::Ready { ready, .. } => processor = ready.processor,
                PipelineEvent::Failed { error, .. } => return Err(Failure::usage(error)),
                PipelineEvent::Died { message, .. } => return Err(Failure::io(message)),
            }
            instances.push((pipeline, host));
        }
        let mut driver = Driver::new(&config);
        for _ in 0..64 {
            driver.block(&mut instances, false, false);
        }
        let engines: u64 =
            instances.iter().flat_map(|(pipeline, _)| pipeline.engine_processes()).map(private_bytes).sum();
        let added = (resident_bytes() + engines).saturating_sub(before);
        for (pipeline, _) in &instances {
            pipeline.stats().reset();
        }
        let underruns_before = instances.iter().map(|(p, _)| p.telemetry().underruns()).sum();
        Ok(Self {
            config,
            instances,
            driver,
            wall: Duration::ZERO,
            rounds: Vec::new(),
            blocks: 0,
            processor,
            memory_mb_per_instance: added as f64 / 1e6 / count as f64,
            underruns_before,
            swap: None,
            hot_swap: None,
        })
    }

    /// Drives `blocks` timed blocks; paced by the clock when `realtime`. A hot
    /// swap of `recipe` is submitted to the first instance at block `swap_at`.
    pub(super) fn drive(
        &mut self,
        blocks: usize,
        realtime: bool,
        swap_at: Option<(usize, &Recipe)>,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        let period = self.config.max_block as f64 / self.config.sample_rate;
        for n in 0..blocks {
            if let Some((at, recipe)) = swap_at
                && at == self.blocks
            {
                let (pipeline, _) = &mut self.instances[0];
                let id = pipeline.load(recipe.clone()).map_err(Failure::io)?;
                self.swap = Some((Instant::now(), id, pipeline.telemetry().underruns()));
            }
            self.driver.block(&mut self.instances, realtime, true);
            self.blocks += 1;
            if realtime {
                sleep_until(started + Duration::from_secs_f64((n + 1) as f64 * period));
            }
            self.track_swap()?;
        }
        let elapsed = started.elapsed();
        self.wall += elapsed;
        if !realtime {
            self.rounds.push(elapsed);
        }
        Ok(())
    }

    /// Follows a swap submitted near the end to its end (not timed as rendering).
    pub(super) fn finish_swap(&mut self, realtime: bool) -> Result<(), Failure> {
        let deadline = Instant::now() + BUILD_PATIENCE;
        let period = Duration::from_secs_f64(self.config.max_block as f64 / self.config.sample_rate);
        while self.swap.is_some() && Instant::now() < deadline {
            self.driver.block(&mut self.instances, realtime, false);
            self.track_swap()?;
            if realtime {
                std::thread::sleep(period);
            }
        }
        Ok(())
    }

    fn track_swap(&mut self) -> Result<(), Failure> {
        let Some((submitted, id, underruns)) = self.swap else { return Ok(()) };
        let (pipeline, host) = &mut self.instances[0];
        let measured = self.hot_swap.get_or_insert(HotSwap { ready_ms: f64::NAN, audible_ms: f64::NAN, underruns: 0 });
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
            self.swap = None;
        }
        Ok(())
    }

    /// Audio seconds per wall second, per instance.
    pub(super) fn rtf(&self) -> f64 {
        (self.blocks * self.config.max_block) as f64 / self.config.sample_rate / self.wall.as_secs_f64()
    }

    /// Underruns since the timed blocks began.
    pub(super) fn underruns(&self) -> u64 {
        self.instances.iter().map(|(p, _)| p.telemetry().underruns()).sum::<u64>() - self.underruns_before
    }

    /// Per-quantum render times of every instance together.
    pub(super) fn render_us(&self) -> crate::render::Percentiles {
        let stats: Vec<&RenderStats> = self.instances.iter().map(|(p, _)| p.stats().as_ref()).collect();
        RenderStats::combined(&stats)
    }

    /// Percentiles of the timed host calls.
    pub(super) fn host_cost(&mut self) -> HostCost {
        self.driver.host_cost()
    }
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

    /// One block for every instance. Unless `realtime` or offline (where the
    /// host side waits by itself, as in a bounce), first waits until every
    /// engine is within one latency of the host (the bench's pacing, not the
    /// host side's), so the engines always have work, as when a host runs at
    /// full speed.
    fn block(&mut self, instances: &mut [(Pipeline, HostSide)], realtime: bool, record: bool) {
        if !realtime {
            for (pipeline, host) in instances.iter().filter(|(pipeline, _)| !pipeline.config().offline) {
                // After this block is fed, what the host reads must be rendered:
                // the backlog may be at most the latency minus the block.
                let config = pipeline.config();
                let allowed = config.latency_frames().saturating_sub(config.max_block) as u64;
                // Sleep rather than spin (a spinning thread slows a render thread
                // on a sibling hardware thread) until the render side says it
                // rendered enough; once over, wait for one quantum more than
                // needed, so the render side wakes it every other quantum rather
                // than after every one. A hung engine is not waited for past the
                // patience: its lateness shows as underruns.
                if host.backlog_frames() > allowed {
                    host.wait_for_backlog(allowed.saturating_sub(RENDER_QUANTUM as u64), PACING_PATIENCE);
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

/// Memory only process `pid` holds (its unique set: private clean and dirty
/// pages), what its end gives back. Pages it shares with this process (the
/// rings, the executable's code) are in this process's resident size already.
/// Linux `/proc/PID/smaps_rollup`; 0 elsewhere.
fn private_bytes(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { return 0 };
    let kib = |line: &str| line.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    text.lines().filter(|line| line.starts_with("Private_")).map(kib).sum::<u64>() * 1024
}
