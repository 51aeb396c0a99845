//! `worklet bench --profile`: where one processor's time goes, quantum by quantum,
//! in the bare loop on the caller's thread (message delivery, the engine before
//! and after `process()`, `process()` itself, the microtask checkpoint, garbage
//! collection, heap use), and the slow patterns in its source, located.

use std::io::Write;
use std::time::Duration;

use boa_gc::{Gc, WeakGc};
use serde::Serialize;

use super::Failure;
use super::args::BenchArgs;
use super::bench_bare::Bare;
use super::bench_hints::{self, Hint};
use crate::engine::{QuantumSplit, RENDER_QUANTUM};
use crate::render::Percentiles;

#[derive(Debug, Serialize)]
struct Profile {
    processor: String,
    sample_rate: f64,
    seconds: f64,
    quanta: usize,
    /// Mean time of a whole quantum, µs.
    quantum_us: f64,
    /// Mean time of each stage per quantum, µs.
    stages_us: Stages,
    /// `process()` per call, µs.
    process_us: Percentiles,
    gc: GcCost,
    /// Heap operations (allocations, reallocations, frees) inside `process()`.
    heap_ops_per_call: f64,
    heap_ops_max: u64,
    hints: Vec<Hint>,
    hints_left_out: usize,
}

#[derive(Debug, Default, Serialize)]
struct Stages {
    /// Message tasks from the main side, each with its microtask checkpoint.
    tasks: f64,
    /// Inputs copied in, outputs zeroed, the `parameters` object, `process` looked up.
    before: f64,
    process: f64,
    /// Outputs read back and checked for non-finite samples.
    after: f64,
    microtasks: f64,
    /// The rest of the render call: routing what the script sent.
    routing: f64,
}

/// Garbage collection, estimated from the quanta in which a collection ran:
/// what they took beyond the median quantum without one.
#[derive(Debug, Default, Serialize)]
struct GcCost {
    collections: u64,
    us_each: f64,
    /// Of all the time measured.
    share: f64,
}

/// One measured quantum.
struct Sample {
    tasks: Duration,
    render: Duration,
    split: QuantumSplit,
    collected: bool,
}

impl Sample {
    fn total(&self) -> Duration {
        self.tasks + self.render
    }
}

/// Tells whether the collector ran: a collectable object no one holds survives
/// until the next collection.
struct GcWatch(WeakGc<u8>);

impl GcWatch {
    fn new() -> Self {
        Self(WeakGc::new(&Gc::new(0)))
    }

    /// Whether a collection ran since the last call.
    fn collected(&mut self) -> bool {
        let ran = !self.0.is_upgradable();
        if ran {
            *self = Self::new();
        }
        ran
    }
}

pub(super) fn run(args: &BenchArgs, stdout: &mut dyn Write) -> Result<(), Failure> {
    let recipe = super::bench::recipe(args, &args.modules)?;
    let mut bare = Bare::new(&recipe, args.sample_rate)?;
    let quanta = ((args.seconds * args.sample_rate / RENDER_QUANTUM as f64).ceil() as usize).max(1);
    // Warm the engine up before anything is timed, as the bench does.
    bare.run(quanta.div_ceil(20) * RENDER_QUANTUM);
    bare.instance().record_split();
    let mut samples = Vec::with_capacity(quanta);
    let mut watch = GcWatch::new();
    for _ in 0..quanta {
        let (tasks, render, split) = bare.profiled_quantum();
        samples.push(Sample { tasks, render, split, collected: watch.collected() });
    }
    let mut hints = Vec::new();
    let mut hints_left_out = 0;
    for module in &recipe.modules {
        let (found, left_out) = bench_hints::find(&module.name, &module.text);
        hints.extend(found);
        hints_left_out += left_out;
    }
    let processor = bare.instance().node().name().to_owned();
    let profile = summarize(processor, args, &samples, hints, hints_left_out);
    let text = if args.json { serde_json::to_string(&profile).map_err(Failure::io)? } else { human(&profile) };
    writeln!(stdout, "{text}").map_err(Failure::io)
}

fn summarize(processor: String, args: &BenchArgs, samples: &[Sample], hints: Vec<Hint>, left_out: usize) -> Profile {
    let n = samples.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Sample) -> Duration| samples.iter().map(|s| f(s).as_secs_f64()).sum::<f64>() * 1e6 / n;
    let stages = Stages {
        tasks: mean(&|s| s.tasks),
        before: mean(&|s| s.split.before),
        process: mean(&|s| s.split.process),
        after: mean(&|s| s.split.after),
        microtasks: mean(&|s| s.split.microtasks),
        routing: mean(&|s| {
            let inside = s.split.before + s.split.process + s.split.after + s.split.microtasks;
            s.render.saturating_sub(inside)
        }),
    };
    let mut process: Vec<f64> = samples.iter().map(|s| s.split.process.as_secs_f64() * 1e6).collect();
    let heap: Vec<u64> = samples.iter().map(|s| s.split.heap_ops).collect();
    Profile {
        processor,
        sample_rate: args.sample_rate,
        seconds: args.seconds,
        quanta: samples.len(),
        quantum_us: mean(&Sample::total),
        stages_us: stages,
        process_us: percentiles(&mut process),
        gc: gc_cost(samples),
        heap_ops_per_call: heap.iter().sum::<u64>() as f64 / n,
        heap_ops_max: heap.iter().copied().max().unwrap_or(0),
        hints,
        hints_left_out: left_out,
    }
}

fn gc_cost(samples: &[Sample]) -> GcCost {
    let mut quiet: Vec<f64> = samples.iter().filter(|s| !s.collected).map(|s| s.total().as_secs_f64()).collect();
    quiet.sort_by(f64::total_cmp);
    let baseline = quiet.get(quiet.len() / 2).copied().unwrap_or(0.0);
    let excess: Vec<f64> =
        samples.iter().filter(|s| s.collected).map(|s| (s.total().as_secs_f64() - baseline).max(0.0)).collect();
    let all: f64 = samples.iter().map(|s| s.total().as_secs_f64()).sum();
    let spent: f64 = excess.iter().sum();
    GcCost {
        collections: excess.len() as u64,
        us_each: if excess.is_empty() { 0.0 } else { spent * 1e6 / excess.len() as f64 },
        share: if all > 0.0 && spent > 0.0 { spent / all } else { 0.0 },
    }
}

fn percentiles(values: &mut [f64]) -> Percentiles {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((values.len() as f64 * q).ceil() as usize).saturating_sub(1);
        values.get(index).copied().unwrap_or(0.0)
    };
    Percentiles { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: values.last().copied().unwrap_or(0.0) }
}

fn human(profile: &Profile) -> String {
    let s = &profile.stages_us;
    let share = |us: f64| if profile.quantum_us > 0.0 { us / profile.quantum_us * 100.0 } else { 0.0 };
    let p = profile.process_us;
    let mut text = format!(
        "{}: where the time goes, {} quanta ({} s at {} Hz, stereo 440 Hz sine in)\n",
        profile.processor, profile.quanta, profile.seconds, profile.sample_rate
    );
    text += &format!("  per quantum {:.2} µs:\n", profile.quantum_us);
    let rows = [
        ("process()", s.process, format!("p50 {:.2}, p99 {:.2}, max {:.1} µs", p.p50, p.p99, p.max)),
        ("before process()", s.before, "inputs in, outputs zeroed, parameters".to_owned()),
        ("after process()", s.after, "outputs read back and checked".to_owned()),
        ("microtask checkpoint", s.microtasks, String::new()),
        ("message delivery", s.tasks, "tasks from the main side".to_owned()),
        ("routing", s.routing, "what the script sent".to_owned()),
    ];
    for (name, us, note) in rows {
        text += &format!("    {name:<21}{us:>9.2} µs {:>6.1} %   {note}\n", share(us));
    }
    let gc = &profile.gc;
    text += &format!(
        "  garbage collection: {} collections, about {:.0} µs each, {:.1} % of the time (within the stages above)\n",
        gc.collections,
        gc.us_each,
        gc.share * 100.0
    );
    text += &format!(
        "  heap inside process(): {:.1} operations per call (max {})\n",
        profile.heap_ops_per_call, profile.heap_ops_max
    );
    if profile.hints.is_empty() {
        text += "no slow patterns found in process()";
    } else {
        text += "slow patterns in process() (the fast style: processors/README.md, \"Performance on Boa\"):";
        for hint in &profile.hints {
            text += &format!("\n  {hint}");
        }
        if profile.hints_left_out > 0 {
            text += &format!("\n  and {} more", profile.hints_left_out);
        }
    }
    text
}
