//! The render thread of one generation: builds the realm from a recipe, then
//! renders a quantum whenever the host has fed one. It owns the Boa context for
//! its whole life (Boa's collector is thread-local) and drops it when it ends.
//!
//! Per quantum: parameter values for the quantum, queued message tasks, the
//! quantum's MIDI and transport into `hostEvents`, `process()`, the microtask
//! checkpoint, then the output, the MIDI the processor sent, and telemetry. When it
//! has nothing to render it delivers messages every few milliseconds and runs the
//! garbage collector in that idle time, so a collection rarely lands inside a
//! quantum that is due.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use boa_engine::context::InterruptHandle;

use super::config::{PARAM_SLOTS, PipelineConfig};
use super::event_ring::EventFeed;
use super::generation_memory::{Control, GenerationMemory, Layout, RenderEnds};
use super::link::GenerationLink;
use super::params::{EVENT_CAPACITY, ParamTrack, SharedParams};
use super::stats::RenderStats;
use super::telemetry::Telemetry;
use crate::engine::quantum::mix_channels;
use crate::engine::{
    AudioBuses, Instance, NodeOptions, ParamDescriptor, RENDER_QUANTUM, Realm, RealmConfig, ScriptError,
};
use crate::port::Router;
use crate::sys::ring::{Consumer, Producer};

/// How long an idle render thread sleeps before looking for work again.
const IDLE_PARK: Duration = Duration::from_millis(1);
/// How often an idle render thread delivers messages (transport stopped).
const IDLE_TASKS: Duration = Duration::from_millis(5);
/// Least time between two idle-time garbage collections.
const IDLE_GC: Duration = Duration::from_millis(20);

/// One module of a recipe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModuleSource {
    /// Its name: a relative path such as `main.js` (imports resolve against it).
    pub name: String,
    /// Its text.
    pub text: String,
    /// The folder its relative imports resolve against instead of its name's (the
    /// folder of the file a linked module follows).
    pub folder: Option<PathBuf>,
}

/// Everything needed to build a generation, as plain data: the render thread
/// constructs the realm from it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recipe {
    /// Modules, evaluated in order.
    pub modules: Vec<ModuleSource>,
    /// Folders that imports not found among `modules` may read module files from.
    pub module_roots: Vec<PathBuf>,
    /// Processor to construct; `None` picks the first registered.
    pub processor: Option<String>,
    /// `AudioWorkletNodeOptions` (wire format); `null` for none.
    pub options: serde_json::Value,
    /// Slot of each descriptor, by name; `None` maps descriptors to slots in order.
    pub slots: Option<Vec<(String, usize)>>,
}

/// What a generation reports once it is built.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    /// The constructed processor.
    pub processor: String,
    /// Every processor the modules registered, in registration order.
    pub registered: Vec<String>,
    /// Its parameter descriptors.
    pub descriptors: Vec<ParamDescriptor>,
    /// Slot of each descriptor.
    pub slots: Vec<Option<usize>>,
    /// The recipe's name→slot map with this processor's new names added
    /// (`None` when the recipe mapped by order).
    pub slot_map: Option<Vec<(String, usize)>>,
}

struct Endpoints {
    rings: RenderEnds,
    control: Control,
}

/// Shared things every generation of a pipeline uses.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) config: PipelineConfig,
    pub(crate) params: Arc<SharedParams>,
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) stats: Arc<RenderStats>,
}

/// Spawns generation `id`'s render thread in this process; returns its join
/// handle, its host link and its control words. The thread reports `Ready` or the
/// build error on `ready`.
pub(crate) fn spawn(
    id: u64,
    recipe: Recipe,
    router: Router,
    shared: &Shared,
    ready: Sender<(u64, Result<Ready, ScriptError>)>,
) -> std::io::Result<(JoinHandle<()>, Box<GenerationLink>, Control)> {
    let memory = GenerationMemory::heap(layout(&shared.config));
    let handle = start(id, recipe, router, shared.clone(), &memory, ready, None)?;
    let link = GenerationLink::new(id, memory.host_ends(), memory.control(), shared.config.latency_frames());
    Ok((handle, Box::new(link), memory.control()))
}

/// Starts generation `id`'s render thread on the render side of `memory` (in
/// this process or in an engine process). `interrupt` stops its script from
/// another thread (an engine process's watchdog).
pub(crate) fn start(
    id: u64,
    recipe: Recipe,
    router: Router,
    shared: Shared,
    memory: &GenerationMemory,
    ready: Sender<(u64, Result<Ready, ScriptError>)>,
    interrupt: Option<InterruptHandle>,
) -> std::io::Result<JoinHandle<()>> {
    let endpoints = Endpoints { rings: memory.render_ends(), control: memory.control() };
    let Shared { config, params, telemetry, stats } = shared;
    std::thread::Builder::new().name(format!("worklet-render-{id}")).stack_size(crate::engine::STACK_BYTES).spawn(
        move || {
            if config.realtime_priority {
                super::priority::request_realtime(super::priority::RENDER_PRIORITY);
            }
            // As browsers' audio threads do: denormals would make a decaying
            // filter or reverb tail many times slower.
            crate::sys::denormals::flush_to_zero();
            // In an engine process: a stack overflow here is named before it kills it.
            crate::sys::stack_overflow::on_this_thread();
            let built = build(&recipe, router, &config, &params, interrupt);
            let (mut instance, ready_info, track) = match built {
                Ok(built) => built,
                Err(error) => {
                    let _ = ready.send((id, Err(error)));
                    return;
                }
            };
            let _ = ready.send((id, Ok(ready_info)));
            let feed = EventFeed::new(config.sample_rate);
            let mut worker = Worker { id, config, params, telemetry, stats, endpoints, track, feed, frame: 0 };
            worker.run(&mut instance);
        },
    )
}

/// The shape of a generation's shared memory under `config`.
pub(crate) fn layout(config: &PipelineConfig) -> Layout {
    Layout {
        input_channels: config.input_buses().iter().sum(),
        output_channels: config.output_buses().iter().sum(),
        ring_frames: config.ring_frames(),
        event_capacity: EVENT_CAPACITY,
    }
}

/// Builds the realm, loads the modules and constructs the processor.
fn build(
    recipe: &Recipe,
    router: Router,
    config: &PipelineConfig,
    params: &SharedParams,
    interrupt: Option<InterruptHandle>,
) -> Result<(Instance, Ready, ParamTrack), ScriptError> {
    let realm_config =
        RealmConfig { module_roots: recipe.module_roots.clone(), interrupt, ..RealmConfig::new(config.sample_rate) };
    let mut realm = Realm::new(&realm_config)?;
    for module in &recipe.modules {
        realm.provide_module_source(&module.name, &module.text);
        if let Some(folder) = &module.folder {
            realm.set_module_folder(&module.name, folder);
        }
    }
    for module in &recipe.modules {
        realm.add_module_source(&module.name, &module.text)?;
    }
    let registered: Vec<String> = realm
        .describe()?
        .as_array()
        .map(|all| all.iter().filter_map(|p| p.get("name")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let processor = match &recipe.processor {
        Some(name) => name.clone(),
        None => registered.first().cloned().ok_or_else(|| {
            ScriptError::new("NotSupportedError", "no processor is registered (call registerProcessor)")
        })?,
    };
    let options = NodeOptions::from_json(&recipe.options).map_err(|e| ScriptError::new(e.name, e.message))?;
    // The main input is always connected (an instrument's with no channels);
    // the sidechain is when the host has one.
    let sidechain = config.sidechain_channels;
    let connected = [Some(config.input_channels as u32), (sidechain > 0).then_some(sidechain as u32)];
    let instance = Instance::new(realm, router, &processor, &options, &connected)
        .map_err(|e| ScriptError::new("InvalidStateError", e.to_string()))?;
    if let Some(error) = instance.construction_error() {
        return Err(error.clone());
    }
    let descriptors = instance.node().descriptors().to_vec();
    let (slots, slot_map): (Vec<Option<usize>>, _) = match &recipe.slots {
        None => ((0..descriptors.len()).map(|i| (i < PARAM_SLOTS).then_some(i)).collect(), None),
        Some(map) => {
            let mut map = map.clone();
            let names: Vec<String> = descriptors.iter().map(|d| d.name.clone()).collect();
            super::params::assign_slots(&mut map, &names);
            let slots = descriptors.iter().map(|d| map.iter().find(|(n, _)| *n == d.name).map(|&(_, s)| s)).collect();
            (slots, Some(map))
        }
    };
    let track = ParamTrack::new(&descriptors, instance.node().initial_values(), slots.clone(), params);
    Ok((instance, Ready { processor, registered, descriptors, slots, slot_map }, track))
}

struct Worker {
    id: u64,
    config: PipelineConfig,
    params: Arc<SharedParams>,
    telemetry: Arc<Telemetry>,
    stats: Arc<RenderStats>,
    endpoints: Endpoints,
    track: ParamTrack,
    feed: EventFeed,
    frame: u64,
}

impl Worker {
    fn run(&mut self, instance: &mut Instance) {
        let counts = |buses: &[usize]| buses.iter().map(|&c| c as u32).collect::<Vec<_>>();
        let mut source = AudioBuses::silent(&counts(&self.config.input_buses()));
        let mut inputs = AudioBuses::silent(instance.node().input_channels());
        let mut outputs = AudioBuses::silent(instance.node().output_channels());
        let mut host_out = AudioBuses::silent(&counts(&self.config.output_buses()));
        let mut last_tasks = Instant::now();
        let mut last_gc = Instant::now();
        let mut slack = false;
        while !self.endpoints.control.stopped() {
            if !self.quantum_ready() {
                if last_tasks.elapsed() >= IDLE_TASKS {
                    // Timed like a quantum: a message handler that never returns
                    // shows as hung, and an engine process's watchdog sees it.
                    let active = self.telemetry.is_active(self.id);
                    if active {
                        self.telemetry.quantum_started(self.telemetry.now_ns());
                    }
                    instance.run_tasks();
                    if active {
                        self.telemetry.quantum_started(0);
                    }
                    last_tasks = Instant::now();
                }
                // Collect only in real slack: after a park that ran out its time,
                // not when the host is feeding as fast as the thread renders.
                if self.config.idle_gc && slack && last_gc.elapsed() >= IDLE_GC {
                    boa_gc::force_collect();
                    last_gc = Instant::now();
                }
                // Announce the sleep, then look once more: a host that fed a
                // quantum in between either is seen there or sees the
                // announcement and wakes it (`Control::sleep`).
                let parked = Instant::now();
                self.endpoints.control.sleep(IDLE_PARK, || self.quantum_ready());
                slack = parked.elapsed() >= IDLE_PARK;
                continue;
            }
            slack = false;
            read_quantum(&mut self.endpoints.rings.input, &mut source);
            for (dest, src) in inputs.buses.iter_mut().zip(&source.buses) {
                mix_channels(src, dest, crate::engine::options::ChannelInterpretation::Speakers);
            }
            let active = self.telemetry.is_active(self.id);
            let started = self.telemetry.now_ns();
            if active {
                self.telemetry.quantum_started(started);
            }
            let params = self.track.frame(self.frame, &mut self.endpoints.rings.events, &self.params);
            instance.set_frame(self.frame);
            instance.run_tasks();
            self.feed.quantum(self.frame, &mut self.endpoints.rings.midi, instance);
            instance.render(&inputs, params, &mut outputs);
            self.feed.send_out(self.frame, &mut self.endpoints.rings.midi_back, instance);
            let elapsed = self.telemetry.now_ns().saturating_sub(started);
            last_tasks = Instant::now();
            if active {
                let errored = instance.node().state() == crate::engine::NodeState::Errored;
                let dropped = instance.router().counters().snapshot().total();
                let nonfinite = instance.node().nonfinite_samples();
                self.telemetry.quantum_finished(elapsed, errored, dropped, nonfinite);
                self.telemetry.set_render_events_dropped(self.feed.dropped(instance));
            }
            self.stats.record(elapsed);
            self.track.publish(&self.params);
            for (bus, dest) in host_out.buses.iter_mut().enumerate() {
                match outputs.buses.get(bus) {
                    Some(src) => mix_channels(src, dest, crate::engine::options::ChannelInterpretation::Speakers),
                    None => dest.iter_mut().for_each(|channel| channel.fill(0.0)),
                }
            }
            write_quantum(&mut self.endpoints.rings.output, &host_out);
            self.endpoints.control.rendered();
            self.frame += RENDER_QUANTUM as u64;
        }
    }
}

impl Worker {
    fn quantum_ready(&self) -> bool {
        self.endpoints.rings.input.iter().all(|ring| ring.slots() >= RENDER_QUANTUM)
            && self.endpoints.rings.output.iter().all(|ring| ring.slots() >= RENDER_QUANTUM)
    }
}

/// Reads a quantum of every ring into the channels of `source`'s buses, in order.
fn read_quantum(input: &mut [Consumer<f32>], source: &mut AudioBuses) {
    for (ring, channel) in input.iter_mut().zip(source.buses.iter_mut().flatten()) {
        if let Some(chunk) = ring.read_chunk(RENDER_QUANTUM) {
            let (first, second) = chunk.as_slices();
            channel[..first.len()].copy_from_slice(first);
            channel[first.len()..].copy_from_slice(second);
            chunk.commit_all();
        }
    }
}

/// Writes a quantum of the channels of `audio`'s buses, in order, to the rings.
fn write_quantum(output: &mut [Producer<f32>], audio: &AudioBuses) {
    for (ring, channel) in output.iter_mut().zip(audio.buses.iter().flatten()) {
        if let Some(mut chunk) = ring.write_chunk(RENDER_QUANTUM) {
            let (first, second) = chunk.as_mut_slices();
            let split = first.len();
            first.copy_from_slice(&channel[..split]);
            second.copy_from_slice(&channel[split..]);
            chunk.commit_all();
        }
    }
}
