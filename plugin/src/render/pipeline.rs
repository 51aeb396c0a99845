//! The control side of a pipeline (GUI thread, CLI, tests): loads generations,
//! hands finished ones to the host side, and tears retired ones down. It never
//! runs JavaScript and never waits on the render or audio threads.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer, RingBuffer};

use super::config::PipelineConfig;
use super::generation_memory::Control;
use super::host::HostSide;
use super::link::{GenerationLink, SlotMap};
use super::params::SharedParams;
use super::stats::RenderStats;
use super::telemetry::Telemetry;
use super::worker::{Ready, Recipe, Shared, spawn};
use crate::engine::ScriptError;
use crate::port::{MainPorts, channel_pair};

/// Generation links in flight to the host side (a few rapid edits in a row).
const LINK_CAPACITY: usize = 4;
/// Retired links in flight back; twice [`LINK_CAPACITY`] so retiring never fails.
const RETIRED_CAPACITY: usize = 2 * LINK_CAPACITY + 2;

/// What happened to a generation.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineEvent {
    /// Built and handed to the host side; it becomes audible after a crossfade.
    Ready {
        /// The generation.
        generation: u64,
        /// What was built.
        ready: Ready,
        /// From `load` to ready.
        build_time: Duration,
    },
    /// Its modules or its processor failed; the playing generation keeps playing.
    Failed {
        /// The generation.
        generation: u64,
        /// Where and why.
        error: ScriptError,
    },
}

struct Generation {
    id: u64,
    control: Control,
    thread: Option<JoinHandle<()>>,
    /// The host link, until the generation is ready and the link goes to the host.
    link: Option<Box<GenerationLink>>,
    ports: Option<MainPorts>,
    submitted: Instant,
    /// When this side first saw the generation told to stop.
    stopped: Option<Instant>,
    /// Moved to normal scheduling because it did not finish when told to.
    demoted: bool,
}

impl Generation {
    /// Tells the render thread to finish (it looks at the flag once it is awake).
    fn stop(&self) {
        self.control.stop();
    }
}

/// A render thread told to stop that is still running after this long is stuck
/// in its script (one that is not ends within a park interval).
const STUCK_AFTER: Duration = Duration::from_millis(500);

/// Loads and swaps generations; owns the main side's ports of the newest one.
pub struct Pipeline {
    shared: Shared,
    links: Producer<Box<GenerationLink>>,
    retired: Consumer<Box<GenerationLink>>,
    ready_tx: Sender<(u64, Result<Ready, ScriptError>)>,
    ready_rx: Receiver<(u64, Result<Ready, ScriptError>)>,
    generations: Vec<Generation>,
    /// The newest ready link, while the ring to the host side is full.
    pending: Option<Box<GenerationLink>>,
    ports: Option<MainPorts>,
    ready: Option<Ready>,
    next_id: u64,
}

impl Pipeline {
    /// A pipeline with nothing loaded, and its host side.
    pub fn new(config: PipelineConfig) -> (Self, HostSide) {
        let telemetry = Arc::new(Telemetry::new(config.sample_rate, config.latency_frames()));
        let (links, links_rx) = RingBuffer::new(LINK_CAPACITY);
        let (retired_tx, retired) = RingBuffer::new(RETIRED_CAPACITY);
        let host = HostSide::new(&config, links_rx, retired_tx, telemetry.clone());
        let (ready_tx, ready_rx) = channel();
        let shared = Shared {
            config,
            params: Arc::new(SharedParams::default()),
            telemetry,
            stats: Arc::new(RenderStats::default()),
        };
        let pipeline = Self {
            shared,
            links,
            retired,
            ready_tx,
            ready_rx,
            generations: Vec::new(),
            pending: None,
            ports: None,
            ready: None,
            next_id: 1,
        };
        (pipeline, host)
    }

    /// Starts building a generation from `recipe` on its own render thread and
    /// returns its id. The playing generation is untouched until it is ready.
    pub fn load(&mut self, recipe: Recipe) -> std::io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let (ports, router) = channel_pair();
        let (thread, link, control) = spawn(id, recipe, router, &self.shared, self.ready_tx.clone())?;
        self.generations.push(Generation {
            id,
            control,
            thread: Some(thread),
            link: Some(link),
            ports: Some(ports),
            submitted: Instant::now(),
            stopped: None,
            demoted: false,
        });
        Ok(id)
    }

    /// Handles finished builds and retired generations; returns what happened.
    pub fn poll(&mut self) -> Vec<PipelineEvent> {
        let mut events = Vec::new();
        while let Ok((id, result)) = self.ready_rx.try_recv() {
            let Some(generation) = self.generations.iter_mut().find(|g| g.id == id) else { continue };
            match result {
                Ok(ready) => {
                    let mut link = generation.link.take().expect("a generation is ready once");
                    link.set_slots(SlotMap::of(&ready));
                    self.ports = generation.ports.take();
                    let build_time = generation.submitted.elapsed();
                    // The newest ready generation always wins: an older one still
                    // waiting for room in the ring is dropped unheard.
                    if let Some(older) = self.pending.replace(link) {
                        self.stop(older.id);
                    }
                    self.ready = Some(ready.clone());
                    events.push(PipelineEvent::Ready { generation: id, ready, build_time });
                }
                Err(error) => {
                    generation.stop();
                    generation.link = None;
                    generation.ports = None;
                    events.push(PipelineEvent::Failed { generation: id, error });
                }
            }
        }
        if let Some(link) = self.pending.take()
            && let Err(rtrb::PushError::Full(link)) = self.links.push(link)
        {
            // The host side has not taken the links before it (it is not running).
            self.pending = Some(link);
        }
        while let Ok(link) = self.retired.pop() {
            self.stop(link.id);
        }
        self.reap();
        events
    }

    fn stop(&self, id: u64) {
        if let Some(generation) = self.generations.iter().find(|g| g.id == id) {
            generation.stop();
        }
    }

    /// Joins render threads that have finished. One that was told to stop and
    /// is still running after [`STUCK_AFTER`] is stuck in its script: it is moved to
    /// normal scheduling, so it no longer competes with the host's audio thread,
    /// and left to finish.
    fn reap(&mut self) {
        let now = Instant::now();
        self.generations.retain_mut(|generation| {
            if !generation.control.stopped() {
                return true;
            }
            let stopped = *generation.stopped.get_or_insert(now);
            match generation.thread.take_if(|thread| thread.is_finished()) {
                Some(thread) => {
                    let _ = thread.join();
                    false
                }
                None if generation.thread.is_none() => false,
                None => {
                    if !generation.demoted && now - stopped >= STUCK_AFTER {
                        if let Some(thread) = &generation.thread {
                            crate::sys::threads::demote(thread);
                        }
                        generation.demoted = true;
                    }
                    true
                }
            }
        });
    }

    /// The main side's ports of the newest ready generation.
    pub fn ports(&mut self) -> Option<&mut MainPorts> {
        self.ports.as_mut()
    }

    /// What the newest ready generation is.
    pub fn ready(&self) -> Option<&Ready> {
        self.ready.as_ref()
    }

    /// Parameter values shared with the render threads.
    pub fn params(&self) -> &Arc<SharedParams> {
        &self.shared.params
    }

    /// Load, underruns, state, latency.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.shared.telemetry
    }

    /// Per-quantum render times of every generation.
    pub fn stats(&self) -> &Arc<RenderStats> {
        &self.shared.stats
    }

    /// The pipeline's configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.shared.config
    }

    /// Render threads alive (building, playing, or finishing).
    pub fn threads(&self) -> usize {
        self.generations.len()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for generation in &self.generations {
            generation.stop();
        }
        // Threads that are not stuck in JavaScript end within a park interval;
        // a stuck one is abandoned (demoted, the library pinned) rather than waited for.
        let deadline = Instant::now() + Duration::from_millis(200);
        for generation in &mut self.generations {
            while generation.thread.as_ref().is_some_and(|t| !t.is_finished()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            match generation.thread.take() {
                Some(thread) if thread.is_finished() => {
                    let _ = thread.join();
                }
                // Stuck in its script: it must neither compete with the host's
                // audio thread nor lose its code when the host unloads the plugin.
                Some(thread) => crate::sys::threads::abandon(thread),
                None => {}
            }
        }
    }
}
