//! The engine's ceiling for `worklet bench`: the processor called directly in a
//! loop on the caller's thread, with no pipeline around it.

use std::time::{Duration, Instant};

use super::Failure;
use super::signal::InputSignal;
use crate::engine::{AudioBuses, Instance, NodeOptions, ParamFrame, QuantumSplit, RENDER_QUANTUM, Realm, RealmConfig};
use crate::port::channel_pair;
use crate::render::Recipe;

/// One instance rendered in a loop; `run` adds to the totals.
pub(super) struct Bare {
    instance: Instance,
    inputs: AudioBuses,
    outputs: AudioBuses,
    params: ParamFrame,
    frame: u64,
    rendered: u64,
    time: Duration,
    /// `process()`'s own time and calls when the totals were last reset.
    process_before: (Duration, u64),
}

impl Bare {
    /// Builds the recipe's processor in a realm of its own.
    pub(super) fn new(recipe: &Recipe, sample_rate: f64) -> Result<Self, Failure> {
        let config = RealmConfig { module_roots: recipe.module_roots.clone(), ..RealmConfig::new(sample_rate) };
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
        let instance =
            Instance::new(realm, router, &name, &NodeOptions::default(), &[Some(2)]).map_err(Failure::usage)?;
        let mut inputs = AudioBuses::silent(instance.node().input_channels());
        let signal = bench_signal(2, sample_rate);
        for (channel, samples) in inputs.buses.iter_mut().flatten().zip(&signal) {
            channel.copy_from_slice(&samples[..RENDER_QUANTUM]);
        }
        let outputs = AudioBuses::silent(instance.node().output_channels());
        let params = ParamFrame::constant(instance.node().initial_values());
        Ok(Self {
            instance,
            inputs,
            outputs,
            params,
            frame: 0,
            rendered: 0,
            time: Duration::ZERO,
            process_before: (Duration::ZERO, 0),
        })
    }

    /// Renders `frames` more frames, adding to the totals.
    pub(super) fn run(&mut self, frames: usize) {
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

    /// Renders one quantum with its stages timed (`worklet bench --profile`,
    /// after [`Instance::record_split`]): the message tasks and the whole render
    /// call; the node's split has the stages inside the render call.
    pub(super) fn profiled_quantum(&mut self) -> (Duration, Duration, QuantumSplit) {
        self.instance.set_frame(self.frame);
        let started = Instant::now();
        self.instance.run_tasks();
        let tasks = started.elapsed();
        self.instance.render(&self.inputs, &self.params, &mut self.outputs);
        let render = started.elapsed() - tasks;
        self.frame += RENDER_QUANTUM as u64;
        (tasks, render, self.instance.node().last_split().unwrap_or_default())
    }

    /// The instance (to turn recording on).
    pub(super) fn instance(&mut self) -> &mut Instance {
        &mut self.instance
    }

    /// Forgets what was rendered so far (after a warm-up).
    pub(super) fn reset(&mut self) {
        self.rendered = 0;
        self.time = Duration::ZERO;
        self.process_before = self.instance.node().process_time();
    }

    /// Mean microseconds per quantum: the whole quantum (tasks, `process()`, the
    /// engine around it) and `process()` alone.
    pub(super) fn quantum_and_process_us(&self) -> (f64, f64) {
        let quanta = (self.rendered / RENDER_QUANTUM as u64).max(1) as f64;
        let (time, calls) = self.instance.node().process_time();
        let process = (time - self.process_before.0).as_secs_f64() / (calls - self.process_before.1).max(1) as f64;
        (self.time.as_secs_f64() * 1e6 / quanta, process * 1e6)
    }

    /// Audio seconds per wall second so far.
    pub(super) fn rtf(&self, sample_rate: f64) -> f64 {
        self.rendered as f64 / sample_rate / self.time.as_secs_f64()
    }
}

/// One second of the input every bench uses: `--input-signal sine:440`.
pub(super) fn bench_signal(channels: usize, sample_rate: f64) -> Vec<Vec<f32>> {
    let frames = sample_rate.round() as u64;
    InputSignal::Sine(440.0).generate(channels as u32, frames, sample_rate).unwrap_or_default()
}
