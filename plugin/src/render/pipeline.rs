//! The control side of a pipeline (GUI thread, CLI, tests): loads generations,
//! hands finished ones to the host side, and tears retired ones down. It never
//! runs JavaScript and never waits on the render or audio threads.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer, RingBuffer};

use super::config::PipelineConfig;
use super::engine_process::{self, Ended, EngineChild};
use super::generation_memory::Control;
use super::host::HostSide;
use super::link::{GenerationLink, SlotMap};
use super::params::SharedParams;
use super::stats::RenderStats;
use super::telemetry::Telemetry;
use super::worker::{Ready, Recipe, Shared, spawn};
use crate::engine::ScriptError;
use crate::port::{MainPorts, channel_pair, main_relay};

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
    /// Its engine process died (crash, memory cap) or was killed by the watchdog.
    Died {
        /// The generation.
        generation: u64,
        /// What happened: `out of memory (cap 1024 MiB) while rendering`, ...
        message: String,
        /// The generation started to play the last good code again, if any.
        recovery: Option<u64>,
    },
}

impl PipelineEvent {
    /// The generation the event is about.
    pub fn generation(&self) -> u64 {
        match self {
            Self::Ready { generation, .. } | Self::Failed { generation, .. } | Self::Died { generation, .. } => {
                *generation
            }
        }
    }
}

/// What renders a generation.
enum Runner {
    /// A render thread of this process.
    Thread(JoinHandle<()>),
    /// An engine process.
    Process(EngineChild),
}

/// Automatic restarts of the last good code after deaths, per user load (so a
/// script that keeps dying is not restarted in a loop).
const RESTARTS_PER_LOAD: u32 = 2;
/// Recipes of recent ready generations kept to recover from a death.
const GOOD_KEPT: usize = 4;

struct Generation {
    id: u64,
    control: Control,
    runner: Option<Runner>,
    recipe: Recipe,
    /// Built (it has played or is playing).
    ready: bool,
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
    /// The newest ready generation.
    newest_ready: u64,
    /// Recipes of ready generations that have not died, newest last.
    good: Vec<(u64, Recipe)>,
    restarts_left: u32,
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
            newest_ready: 0,
            good: Vec::new(),
            restarts_left: RESTARTS_PER_LOAD,
            next_id: 1,
        };
        (pipeline, host)
    }

    /// Starts building a generation from `recipe` on its own render thread (or
    /// engine process) and returns its id. The playing generation is untouched
    /// until it is ready.
    pub fn load(&mut self, recipe: Recipe) -> std::io::Result<u64> {
        self.restarts_left = RESTARTS_PER_LOAD;
        self.start(recipe)
    }

    fn start(&mut self, recipe: Recipe) -> std::io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let ready = self.ready_tx.clone();
        let (runner, link, control, ports) = match &self.shared.config.isolation {
            None => {
                let (ports, router) = channel_pair();
                let (thread, link, control) = spawn(id, recipe.clone(), router, &self.shared, ready)?;
                (Runner::Thread(thread), link, control, ports)
            }
            Some(engine) => {
                let (ports, to_main, from_main) = main_relay();
                let relay = (to_main, from_main, ports.counters().clone());
                let (child, link, control) =
                    engine_process::spawn(id, recipe.clone(), relay, &self.shared, ready, engine)?;
                (Runner::Process(child), link, control, ports)
            }
        };
        self.generations.push(Generation {
            id,
            control,
            runner: Some(runner),
            recipe,
            ready: false,
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
                    let older = self.pending.replace(link);
                    self.ready = Some(ready.clone());
                    generation.ready = true;
                    self.newest_ready = id;
                    let recipe = generation.recipe.clone();
                    self.good.retain(|(_, kept)| *kept != recipe);
                    self.good.push((id, recipe));
                    if self.good.len() > GOOD_KEPT {
                        self.good.remove(0);
                    }
                    events.push(PipelineEvent::Ready { generation: id, ready, build_time });
                    if let Some(older) = older {
                        self.stop(older.id);
                    }
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
        self.watch(&mut events);
        self.reap();
        events
    }

    /// Turns engine processes that died into events, and plays the last good
    /// code again when the one that died was the newest ready generation.
    fn watch(&mut self, events: &mut Vec<PipelineEvent>) {
        let mut died = Vec::new();
        for generation in &mut self.generations {
            let Some(Runner::Process(child)) = &mut generation.runner else { continue };
            if let Some(Ended::Died(message)) = child.poll() {
                generation.stop();
                generation.link = None;
                generation.ports = None;
                died.push((generation.id, generation.ready, message));
            }
        }
        for (id, was_ready, message) in died {
            self.good.retain(|(good, _)| *good != id);
            let mut recovery = None;
            if was_ready && id == self.newest_ready && self.restarts_left > 0 {
                if let Some((_, recipe)) = self.good.last().cloned() {
                    self.restarts_left -= 1;
                    recovery = self.start(recipe).ok();
                }
            }
            events.push(PipelineEvent::Died { generation: id, message, recovery });
        }
    }

    fn stop(&self, id: u64) {
        if let Some(generation) = self.generations.iter().find(|g| g.id == id) {
            generation.stop();
        }
    }

    /// Joins render threads and engine processes that have finished. One that
    /// was told to stop and is still running after [`STUCK_AFTER`] is stuck in
    /// its script: an engine process is killed; a render thread is moved to
    /// normal scheduling, so it no longer competes with the host's audio thread,
    /// and left to finish.
    fn reap(&mut self) {
        let now = Instant::now();
        self.generations.retain_mut(|generation| {
            if !generation.control.stopped() {
                return true;
            }
            let stopped = *generation.stopped.get_or_insert(now);
            let stuck = now - stopped >= STUCK_AFTER;
            match &mut generation.runner {
                None => false,
                Some(Runner::Process(child)) => {
                    child.poll();
                    if !child.has_ended() && stuck {
                        child.kill();
                    }
                    !child.has_ended()
                }
                Some(Runner::Thread(thread)) if thread.is_finished() => {
                    if let Some(Runner::Thread(thread)) = generation.runner.take() {
                        let _ = thread.join();
                    }
                    false
                }
                Some(Runner::Thread(thread)) => {
                    if !generation.demoted && stuck {
                        crate::sys::threads::demote(thread);
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

    /// Render threads or engine processes alive (building, playing, or finishing).
    pub fn threads(&self) -> usize {
        self.generations.len()
    }

    /// Process ids of the engine processes alive.
    pub fn engine_processes(&self) -> Vec<u32> {
        let ids = self.generations.iter().filter_map(|g| match &g.runner {
            Some(Runner::Process(child)) if !child.has_ended() => Some(child.id()),
            _ => None,
        });
        ids.collect()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for generation in &self.generations {
            generation.stop();
        }
        // Threads and processes that are not stuck in JavaScript end within a
        // park interval; a stuck engine process is killed, a stuck thread is
        // abandoned (demoted, the library pinned) rather than waited for.
        let deadline = Instant::now() + Duration::from_millis(200);
        for generation in &mut self.generations {
            let running = |runner: &mut Option<Runner>| match runner {
                Some(Runner::Thread(thread)) => !thread.is_finished(),
                Some(Runner::Process(child)) => {
                    child.poll();
                    !child.has_ended()
                }
                None => false,
            };
            while running(&mut generation.runner) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            match generation.runner.take() {
                Some(Runner::Thread(thread)) if thread.is_finished() => {
                    let _ = thread.join();
                }
                // Stuck in its script: it must neither compete with the host's
                // audio thread nor lose its code when the host unloads the plugin.
                Some(Runner::Thread(thread)) => crate::sys::threads::abandon(thread),
                Some(Runner::Process(mut child)) => child.kill(),
                None => {}
            }
        }
    }
}
