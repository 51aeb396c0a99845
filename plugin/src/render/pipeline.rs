//! The control side of a pipeline (GUI thread, CLI, tests): loads generations,
//! hands finished ones to the host side, and tears retired ones down. It never
//! runs JavaScript and never waits on the render or audio threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer, RingBuffer};

use super::config::PipelineConfig;
use super::host::HostSide;
use super::link::GenerationLink;
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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The host link, until the generation is ready and the link goes to the host.
    link: Option<Box<GenerationLink>>,
    ports: Option<MainPorts>,
    submitted: Instant,
}

/// Loads and swaps generations; owns the main side's ports of the newest one.
pub struct Pipeline {
    shared: Shared,
    links: Producer<Box<GenerationLink>>,
    retired: Consumer<Box<GenerationLink>>,
    ready_tx: Sender<(u64, Result<Ready, ScriptError>)>,
    ready_rx: Receiver<(u64, Result<Ready, ScriptError>)>,
    generations: Vec<Generation>,
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
        let (thread, link, stop) = spawn(id, recipe, router, &self.shared, self.ready_tx.clone())?;
        self.generations.push(Generation {
            id,
            stop,
            thread: Some(thread),
            link: Some(link),
            ports: Some(ports),
            submitted: Instant::now(),
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
                    let link = generation.link.take().expect("a generation is ready once");
                    if self.links.push(link).is_err() {
                        // The host has not taken the previous links yet (it is not
                        // running); this generation is dropped, a later load wins.
                        generation.stop.store(true, Ordering::Release);
                        continue;
                    }
                    self.ports = generation.ports.take();
                    self.ready = Some(ready.clone());
                    events.push(PipelineEvent::Ready {
                        generation: id,
                        ready,
                        build_time: generation.submitted.elapsed(),
                    });
                }
                Err(error) => {
                    generation.stop.store(true, Ordering::Release);
                    generation.link = None;
                    generation.ports = None;
                    events.push(PipelineEvent::Failed { generation: id, error });
                }
            }
        }
        while let Ok(link) = self.retired.pop() {
            if let Some(generation) = self.generations.iter_mut().find(|g| g.id == link.id) {
                generation.stop.store(true, Ordering::Release);
            }
            drop(link);
        }
        self.reap();
        events
    }

    /// Joins render threads that have finished (a hung one is left to finish).
    fn reap(&mut self) {
        self.generations.retain_mut(|generation| {
            let finished = generation.thread.as_ref().is_none_or(JoinHandle::is_finished);
            if finished && generation.stop.load(Ordering::Acquire) {
                if let Some(thread) = generation.thread.take() {
                    let _ = thread.join();
                }
                return false;
            }
            true
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
            generation.stop.store(true, Ordering::Release);
            if let Some(thread) = &generation.thread {
                thread.thread().unpark();
            }
        }
        // Threads that are not stuck in JavaScript end within a park interval;
        // a stuck one is detached rather than waited for.
        let deadline = Instant::now() + Duration::from_millis(200);
        for generation in &mut self.generations {
            while generation.thread.as_ref().is_some_and(|t| !t.is_finished()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if let Some(thread) = generation.thread.take().filter(JoinHandle::is_finished) {
                let _ = thread.join();
            }
        }
    }
}
