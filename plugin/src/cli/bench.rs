//! `worklet bench`: speed, host-thread cost, underruns, hot swap and memory,
//! measured over the same pipeline the plugin uses (the caller's thread plays
//! the host; render threads or engine processes are real), in-process,
//! isolated, or both side by side in one run; or two processors side by side
//! (`--against`).

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::args::{BenchArgs, Isolation};
use super::bench_bare::Bare;
use super::bench_group::{Group, HostCost, HotSwap};
use super::{Failure, module_roots};
use crate::render::{EngineProcess, ModuleSource, Percentiles, PipelineConfig, Recipe};

/// Alternating bare/pipeline rounds of a non-real-time run.
const ROUNDS: usize = 21;

#[derive(Debug, Serialize)]
struct Report {
    processor: String,
    /// `in-process` (render threads) or `isolated` (engine processes).
    isolation: &'static str,
    instances: usize,
    host_block: usize,
    sample_rate: f64,
    seconds: f64,
    rtf: f64,
    bare_rtf: f64,
    overhead: f64,
    /// Mean time of a whole quantum in the bare loop (tasks, `process()`, the
    /// engine around it), and of `process()` alone, in µs.
    quantum_us: f64,
    process_us: f64,
    render_us: Percentiles,
    host_ns_per_block: HostCost,
    underruns: u64,
    latency_frames: u64,
    realtime: bool,
    /// Driven as a bounce (`--offline`).
    offline: bool,
    idle_gc: bool,
    /// Resident memory the instances added to this process, plus their engine
    /// processes' private memory, per instance.
    rss_mb_per_instance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    hot_swap: Option<HotSwap>,
}

/// `--isolation both`: the two runs and isolated ÷ in-process ratios.
#[derive(Debug, Serialize)]
struct Comparison {
    in_process: Report,
    isolated: Report,
    /// Isolated ÷ in-process.
    ratios: Ratios,
}

#[derive(Debug, Serialize)]
struct Ratios {
    rtf: f64,
    /// The median over the free-running rounds of the in-process round's wall
    /// time ÷ the isolated one's (the same blocks): throughput, robust to a
    /// round that another process on the machine slowed down. Absent in real
    /// time, where one mode follows the other.
    #[serde(skip_serializing_if = "Option::is_none")]
    rtf_median_round: Option<f64>,
    host_p50: f64,
    host_p99: f64,
    render_p50: f64,
    memory: f64,
}

/// `--against`: two processors measured side by side in one run.
#[derive(Debug, Serialize)]
struct Versus {
    processor: Report,
    against: Report,
    /// How many times faster the first is: `rtf` and `bare_rtf` divided, the
    /// times (`render_p50`, `quantum`, `process`) the other way round.
    speedup: Speedup,
}

#[derive(Debug, Serialize)]
struct Speedup {
    rtf: f64,
    bare_rtf: f64,
    render_p50: f64,
    quantum: f64,
    process: f64,
}

pub(crate) fn run(args: &BenchArgs, stdout: &mut dyn Write) -> Result<(), Failure> {
    if args.profile {
        return super::bench_profile::run(args, stdout);
    }
    let mut recipes = vec![recipe(args, &args.modules)?];
    if !args.against.is_empty() {
        recipes.push(recipe(args, &args.against)?);
    }
    let host_block = args.host_block as usize;
    let frames = (args.seconds * args.sample_rate).round() as usize;
    let mut bares = Vec::with_capacity(recipes.len());
    for recipe in &recipes {
        let mut bare = Bare::new(recipe, args.sample_rate)?;
        // Warm the engine up before anything is timed.
        bare.run(frames / 20);
        bare.reset();
        bares.push(bare);
    }

    let mut config = PipelineConfig::new(args.sample_rate, host_block);
    config.realtime_priority = args.realtime;
    config.offline = args.offline;
    config.idle_gc = !args.no_idle_gc;
    if let Some(safety) = args.safety {
        config.safety_quanta = safety;
    }
    let modes: &[Isolation] = match args.isolation {
        Isolation::Both => &[Isolation::InProcess, Isolation::Isolated],
        ref one => std::slice::from_ref(one),
    };
    // (index of the recipe, engine mode, its instances)
    let mut groups = Vec::with_capacity(modes.len() * recipes.len());
    for (index, recipe) in recipes.iter().enumerate() {
        for mode in modes {
            let mut config = config.clone();
            if *mode == Isolation::Isolated {
                config.isolation = Some(EngineProcess::new(super::isolated::engine_exe()?));
            }
            groups.push((index, *mode, Group::start(config, recipe, args.instances as usize)?));
        }
    }

    if args.realtime {
        // Like a DAW's audio thread: above the render threads.
        crate::render::priority::request_realtime(crate::render::priority::HOST_PRIORITY);
    }
    let blocks = frames.div_ceil(host_block);
    if args.realtime {
        for bare in &mut bares {
            bare.run(frames);
        }
        // One after the other, each paced by the clock from its start.
        for (index, _, group) in &mut groups {
            let swap_at = args.hot_swap.then_some((blocks / 3, &recipes[*index]));
            group.drive(blocks, true, swap_at)?;
        }
    } else {
        // Bare and pipeline segments alternate so every mode and processor sees
        // the same machine (frequency scaling, other load).
        let segment = blocks.div_ceil(ROUNDS);
        let mut done = 0;
        while done < blocks {
            let n = segment.min(blocks - done);
            for bare in &mut bares {
                bare.run(n * host_block);
            }
            // Every other round in the other order, so neither mode always
            // follows the other.
            let forward = done / segment % 2 == 0;
            let mut order: Vec<&mut (usize, Isolation, Group)> = groups.iter_mut().collect();
            if !forward {
                order.reverse();
            }
            for (index, _, group) in order {
                let swap_at = args.hot_swap.then_some((blocks / 3, &recipes[*index]));
                group.drive(n, false, swap_at)?;
            }
            done += n;
        }
    }
    for (_, _, group) in &mut groups {
        group.finish_swap(args.realtime)?;
    }
    let mut reports: Vec<Report> =
        groups.iter_mut().map(|(index, mode, group)| report(args, *mode, group, &bares[*index])).collect();
    let text = match (reports.pop(), reports.pop()) {
        (Some(against), Some(processor)) if !args.against.is_empty() => {
            let versus = Versus { speedup: speedup(&processor, &against), processor, against };
            if args.json { serde_json::to_string(&versus).map_err(Failure::io)? } else { versus_text(&versus) }
        }
        (Some(isolated), Some(in_process)) => {
            let rounds = (&groups[0].2.rounds[..], &groups[1].2.rounds[..]);
            let comparison = Comparison { ratios: ratios(&in_process, &isolated, rounds), in_process, isolated };
            if args.json { serde_json::to_string(&comparison).map_err(Failure::io)? } else { compared(&comparison) }
        }
        (Some(one), None) => {
            if args.json {
                serde_json::to_string(&one).map_err(Failure::io)?
            } else {
                human(&one)
            }
        }
        _ => unreachable!("one or two groups"),
    };
    writeln!(stdout, "{text}").map_err(Failure::io)
}

fn report(args: &BenchArgs, mode: Isolation, group: &mut Group, bare: &Bare) -> Report {
    let rtf = group.rtf();
    let bare_rtf = bare.rtf(args.sample_rate);
    let (quantum_us, process_us) = bare.quantum_and_process_us();
    Report {
        processor: group.processor.clone(),
        isolation: if mode == Isolation::Isolated { "isolated" } else { "in-process" },
        instances: group.instances.len(),
        host_block: group.config.max_block,
        sample_rate: args.sample_rate,
        seconds: args.seconds,
        rtf,
        bare_rtf,
        overhead: bare_rtf / rtf - 1.0,
        quantum_us,
        process_us,
        render_us: group.render_us(),
        host_ns_per_block: group.host_cost(),
        underruns: group.underruns(),
        latency_frames: group.config.latency_frames() as u64,
        realtime: args.realtime,
        offline: args.offline,
        idle_gc: group.config.idle_gc,
        rss_mb_per_instance: group.memory_mb_per_instance,
        hot_swap: group.hot_swap,
    }
}

fn ratios(in_process: &Report, isolated: &Report, rounds: (&[Duration], &[Duration])) -> Ratios {
    let (a, b) = (in_process, isolated);
    let mut per_round: Vec<f64> =
        rounds.0.iter().zip(rounds.1).map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-9)).collect();
    per_round.sort_by(f64::total_cmp);
    Ratios {
        rtf: b.rtf / a.rtf,
        rtf_median_round: per_round.get(per_round.len() / 2).copied(),
        host_p50: b.host_ns_per_block.p50 / a.host_ns_per_block.p50,
        host_p99: b.host_ns_per_block.p99 / a.host_ns_per_block.p99,
        render_p50: b.render_us.p50 / a.render_us.p50,
        memory: b.rss_mb_per_instance / a.rss_mb_per_instance,
    }
}

fn speedup(processor: &Report, against: &Report) -> Speedup {
    let (a, b) = (processor, against);
    Speedup {
        rtf: a.rtf / b.rtf,
        bare_rtf: a.bare_rtf / b.bare_rtf,
        render_p50: b.render_us.p50 / a.render_us.p50,
        quantum: b.quantum_us / a.quantum_us,
        process: b.process_us / a.process_us,
    }
}

pub(super) fn recipe(args: &BenchArgs, paths: &[std::path::PathBuf]) -> Result<Recipe, Failure> {
    let roots = module_roots(paths, args.root.as_deref())?;
    let modules = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            Ok(ModuleSource { name: path.display().to_string(), text, folder: None })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok(Recipe { modules, module_roots: roots, processor: args.processor.clone(), ..Recipe::default() })
}

fn human(report: &Report) -> String {
    let mut text = format!(
        "{} x{} @ {} Hz, host block {}, {} s, {}{}\n",
        report.processor,
        report.instances,
        report.sample_rate,
        report.host_block,
        report.seconds,
        report.isolation,
        match (report.realtime, report.offline) {
            (true, _) => " (real-time)",
            (_, true) => " (offline, as a bounce)",
            _ => "",
        }
    );
    text +=
        &format!("  rtf {:.1} (bare {:.1}, overhead {:+.1} %)\n", report.rtf, report.bare_rtf, report.overhead * 100.0);
    text += &format!(
        "  bare loop per quantum: {:.2} µs, of which process() {:.2} µs\n",
        report.quantum_us, report.process_us
    );
    let r = report.render_us;
    text += &format!(
        "  render per quantum: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs\n",
        r.p50, r.p99, r.p999, r.max
    );
    let h = report.host_ns_per_block;
    text += &format!("  host per block: p50 {:.0} ns, p99 {:.0} ns, max {:.0} ns\n", h.p50, h.p99, h.max);
    text += &format!(
        "  underruns {}, latency {} frames, {:.1} MB per instance",
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

fn compared(comparison: &Comparison) -> String {
    let r = &comparison.ratios;
    let median = r.rtf_median_round.map_or(String::new(), |m| format!(" (median round {m:.3})"));
    format!(
        "{}\n{}\nisolated ÷ in-process: rtf {:.3}{median}, host p50 {:.2}, host p99 {:.2}, render p50 {:.2}, memory {:.2}",
        human(&comparison.in_process),
        human(&comparison.isolated),
        r.rtf,
        r.host_p50,
        r.host_p99,
        r.render_p50,
        r.memory
    )
}

fn versus_text(versus: &Versus) -> String {
    let s = &versus.speedup;
    format!(
        "{}\n{}\n{} ÷ {}: rtf {:.1}x, bare rtf {:.1}x, render p50 {:.1}x, quantum {:.1}x, process() {:.1}x",
        human(&versus.processor),
        human(&versus.against),
        versus.processor.processor,
        versus.against.processor,
        s.rtf,
        s.bare_rtf,
        s.render_p50,
        s.quantum,
        s.process
    )
}
