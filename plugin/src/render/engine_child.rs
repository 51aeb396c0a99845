//! An engine process's `main`: one generation's render thread, fed by the plugin
//! in another process through shared memory. The process's main thread relays to
//! the plugin (stdout), a second thread reads what the plugin says (stdin), and
//! the render thread is the one the in-process pipeline uses ([`super::worker`]).
//!
//! The process ends when its render thread ends (the plugin stopped it through the
//! shared stop word), shortly after the plugin closes its stdin (the plugin went
//! away or gave up on it), or when the plugin kills it.

use std::io::{self, BufReader, BufWriter, Write};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use boa_engine::context::InterruptHandle;

use super::config::{PARAM_SLOTS, PipelineConfig};
use super::engine_wire::{FromEngine, Line, Report, Setup, ToEngine, read_line, write_line};
use super::generation_memory::GenerationMemory;
use super::params::SharedParams;
use super::stats::RenderStats;
use super::telemetry::Telemetry;
use super::worker::{Shared, start};
use crate::port::realm_relay;

/// How often the engine process relays messages and reports to the plugin.
const RELAY_EVERY: Duration = Duration::from_millis(5);
/// Render-time histograms go out at most this often (they are large).
const STATS_EVERY: Duration = Duration::from_millis(100);
/// A render thread told to stop that has not ended after this long is stuck in
/// its script: the process ends without it.
const STOP_GRACE: Duration = Duration::from_millis(300);

/// Exit status when the setup could not be read or applied.
pub const EXIT_SETUP: i32 = 2;

/// Runs the engine process; returns its exit status.
pub fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("worklet engine: {error}");
            EXIT_SETUP
        }
    }
}

fn run() -> io::Result<()> {
    let mut input = BufReader::with_capacity(1 << 16, io::stdin());
    let mut buffer = Vec::new();
    let setup: Setup = match read_line(&mut input, &mut buffer) {
        Line::Value(setup) => setup,
        Line::Bad | Line::End => return Err(io::Error::other("no setup line on stdin")),
    };
    // Its render thread's stack overflow is then named on stderr, as the parent expects.
    crate::sys::stack_overflow::report_overflows();
    // An engine process is Worklet's own: its WebAssembly may use signal-based traps
    // (wasmtime's handlers pass every other signal on, to the overflow report too).
    crate::engine::wasm::engine::use_signal_traps();
    if setup.memory_cap > 0 {
        crate::sys::limits::cap_memory(setup.memory_cap)?;
    }
    let memory = GenerationMemory::open(&setup.memory, setup.layout)?;
    let config = PipelineConfig {
        input_channels: setup.input_channels,
        output_channels: setup.output_channels,
        sidechain_channels: setup.sidechain_channels,
        aux_output_channels: setup.aux_output_channels.clone(),
        realtime_priority: setup.realtime_priority,
        idle_gc: setup.idle_gc,
        ..PipelineConfig::new(setup.sample_rate, setup.max_block)
    };
    let params = Arc::new(SharedParams::default());
    for (slot, (&current, &requested)) in setup.current.iter().zip(&setup.requested).enumerate().take(PARAM_SLOTS) {
        params.set_current(slot, f32::from_bits(current));
        params.request(slot, f32::from_bits(requested));
    }
    let telemetry = Arc::new(Telemetry::new(config.sample_rate, config.latency_frames()));
    telemetry.set_active(setup.generation);
    let stats = Arc::new(RenderStats::default());
    let (router, mut to_realm, mut from_realm) = realm_relay();
    let counters = router.counters().clone();
    let (ready_tx, ready_rx) = channel();
    let control = memory.control();
    let shared = Shared { config, params: params.clone(), telemetry: telemetry.clone(), stats: stats.clone() };
    let interrupt = InterruptHandle::new();
    let render = start(setup.generation, setup.recipe, router, shared, &memory, ready_tx, Some(interrupt.clone()))?;

    let reader_control = control.clone();
    let reader_params = params.clone();
    std::thread::Builder::new().name("worklet-engine-stdin".into()).spawn(move || {
        loop {
            match read_line::<ToEngine>(&mut input, &mut buffer) {
                Line::Value(ToEngine::Port(message)) => {
                    if to_realm.push(message).is_err() {
                        counters.count_to_realm();
                    }
                }
                Line::Value(ToEngine::Request { slot, value }) => reader_params.request(slot, f32::from_bits(value)),
                Line::Value(ToEngine::Interrupt) => interrupt.interrupt(),
                Line::Bad => {}
                Line::End => break,
            }
        }
        reader_control.stop();
    })?;

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut reported_quanta = 0;
    let mut previous = Report::default();
    let mut sent_current = [u32::MAX; PARAM_SLOTS];
    let mut last_stats = Instant::now();
    let mut building = true;
    let mut told_to_stop: Option<Instant> = None;
    loop {
        if building {
            match ready_rx.recv_timeout(RELAY_EVERY) {
                Ok((_, built)) => {
                    write_line(&mut out, &FromEngine::Built(built))?;
                    building = false;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => building = false,
            }
        } else {
            std::thread::sleep(RELAY_EVERY);
        }
        while let Ok(message) = from_realm.pop() {
            write_line(&mut out, &FromEngine::Port(message))?;
        }
        let mut report = telemetry.report(&mut reported_quanta);
        for (slot, sent) in sent_current.iter_mut().enumerate() {
            let value = params.current(slot);
            if value.to_bits() != *sent && !value.is_nan() {
                *sent = value.to_bits();
                report.current.push((slot, value.to_bits()));
            }
        }
        if last_stats.elapsed() >= STATS_EVERY {
            report.max_ns = stats.drain(&mut report.stats);
            last_stats = Instant::now();
        }
        if report != previous || report.quanta != 0 {
            write_line(&mut out, &FromEngine::Report(report.clone()))?;
            previous = report;
        }
        if render.is_finished() {
            break;
        }
        if control.stopped() && told_to_stop.get_or_insert_with(Instant::now).elapsed() >= STOP_GRACE {
            break;
        }
    }
    while let Ok(message) = from_realm.pop() {
        write_line(&mut out, &FromEngine::Port(message))?;
    }
    out.flush()?;
    // A render thread stuck in its script ends with the process.
    if render.is_finished() {
        let _ = render.join();
    }
    Ok(())
}
