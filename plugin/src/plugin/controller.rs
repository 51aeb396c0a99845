//! The control thread of one plugin instance: it owns the [`Pipeline`], builds
//! generations from the saved state and the editor's requests, maps their
//! parameters onto slots, keeps the saved state current, follows linked files,
//! and drains what the processor sends into the console. It is never the audio
//! thread and never waits on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nice_plug::prelude::*;

use super::console::{ConsoleLine, LineKind, port_label};
use super::params::WorkletParams;
use super::state::{SavedState, Sources};
use super::status::{Request, Status};
use super::watch::{FileChange, Watcher};
use crate::engine::PortName;
use crate::render::{Pipeline, PipelineEvent, Ready};

/// How often the control thread looks at the pipeline.
const POLL: Duration = Duration::from_millis(5);

/// Handle to the control thread (held by the plugin).
pub struct Controller {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Controller {
    /// Starts the control thread and loads `state` (falling back to the factory
    /// default if it fails); waits at most `patience` for the first generation so
    /// that the first processed block already makes sound.
    pub fn start(
        pipeline: Pipeline,
        params: Arc<WorkletParams>,
        status: Arc<Status>,
        (state, loads_seen): (SavedState, u64),
        patience: Duration,
    ) -> std::io::Result<Self> {
        let (ready_tx, ready_rx) = channel();
        let reload = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (reload_flag, stop_flag) = (reload.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("worklet-control".into()).spawn(move || {
            status.set_external(state.sources());
            *status.telemetry.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(pipeline.telemetry().clone());
            let mut control = Control {
                pipeline,
                params,
                status,
                state,
                loads_seen,
                fallback: None,
                recovering: None,
                ready: Some(ready_tx),
                building: Vec::new(),
                audible: 0,
                watcher: Watcher::default(),
            };
            control.run(&stop_flag, &reload_flag);
        })?;
        let controller = Self { stop, reload, thread: Some(thread) };
        let _ = ready_rx.recv_timeout(patience);
        Ok(controller)
    }

    /// Asks for a fresh generation of the current state. Allocation-free, so the
    /// host may call it from its audio thread (`reset`).
    pub fn request_reload(&self) {
        self.reload.store(true, Ordering::Release);
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

struct Control {
    pipeline: Pipeline,
    params: Arc<WorkletParams>,
    status: Arc<Status>,
    state: SavedState,
    /// The host's state loads this thread has adopted (see `StateField`).
    loads_seen: u64,
    /// The generation built from the factory default after the state failed.
    fallback: Option<u64>,
    /// The generation the pipeline started to recover from a dead engine process.
    recovering: Option<u64>,
    ready: Option<Sender<()>>,
    /// Generations being built, with the sources they were built from.
    building: Vec<(u64, Sources)>,
    /// The generation last reported audible.
    audible: u64,
    watcher: Watcher,
}

impl Control {
    fn run(&mut self, stop: &AtomicBool, reload: &AtomicBool) {
        self.build();
        let mut last_sync = Instant::now();
        while !stop.load(Ordering::Acquire) {
            std::thread::park_timeout(POLL);
            if self.params.state.loads() != self.loads_seen {
                self.adopt_loaded_state();
            }
            if reload.swap(false, Ordering::AcqRel) {
                self.build();
            }
            for request in self.status.take_requests() {
                self.serve(request);
            }
            self.follow_files();
            for event in self.pipeline.poll() {
                self.handle(event);
            }
            self.drain_ports();
            self.report_audible();
            if last_sync.elapsed() > Duration::from_millis(100) {
                self.sync_touched();
                last_sync = Instant::now();
            }
        }
    }

    /// Builds a generation from the state's sources.
    fn build(&mut self) {
        if let Some(id) = self.load(self.state.recipe()) {
            self.building.push((id, self.state.sources()));
        }
    }

    /// Builds the factory default, played because the state's own sources failed.
    fn build_fallback(&mut self) {
        self.fallback = self.load(SavedState::default().recipe());
    }

    fn load(&mut self, recipe: crate::render::Recipe) -> Option<u64> {
        self.pipeline
            .load(recipe)
            .map_err(|error| {
                let text = format!("cannot start the engine: {error}");
                nice_error!("Worklet: {text}");
                self.status.log(ConsoleLine::new(LineKind::Error, text.clone()));
                self.status.set_error(Some(text), None);
            })
            .ok()
    }

    /// Carries out an editor request.
    fn serve(&mut self, request: Request) {
        match request {
            Request::Apply(sources) => {
                self.state.set_sources(sources);
                // The edit is saved even if it fails to build: nothing typed is lost.
                self.save();
                self.build();
            }
            Request::Post { port, data } => {
                let line = ConsoleLine::sent(port, &data);
                let outcome = match self.pipeline.ports() {
                    Some(ports) => ports.post(port, data, &[]).map_err(|e| e.to_string()),
                    None => Err("nothing is playing".to_owned()),
                };
                match outcome {
                    Ok(()) => self.status.log(line),
                    Err(error) => self.status.log(ConsoleLine::new(
                        LineKind::Error,
                        format!("cannot post to {}: {error}", port_label(PortName::of(port))),
                    )),
                }
            }
        }
    }

    /// Reloads modules whose linked files were saved elsewhere.
    fn follow_files(&mut self) {
        let changes = self.watcher.poll(&self.state.modules);
        if changes.is_empty() {
            return;
        }
        let mut changed = false;
        for change in changes {
            match change {
                FileChange::Changed { index, text } => {
                    let module = &mut self.state.modules[index];
                    module.text = text;
                    nice_log!("Worklet: {} changed on disk; reloading", module.name);
                    self.status.log(ConsoleLine::new(LineKind::Note, format!("reloaded {} from disk", module.name)));
                    changed = true;
                }
                FileChange::Unreadable { index, error } => {
                    let name = &self.state.modules[index].name;
                    self.status.log(ConsoleLine::new(
                        LineKind::Note,
                        format!("cannot read the file {name} is linked to ({error}); keeping its saved copy"),
                    ));
                }
            }
        }
        if changed {
            self.status.set_external(self.state.sources());
            self.save();
            self.build();
        }
    }

    /// Logs when the host starts hearing a new generation.
    fn report_audible(&mut self) {
        let active = self.pipeline.telemetry().active_generation();
        if active != self.audible && active != 0 {
            self.audible = active;
            nice_log!("Worklet: generation {active} is playing");
        }
    }

    fn handle(&mut self, event: PipelineEvent) {
        let generation = event.generation();
        let fallback = self.fallback == Some(generation) || self.recovering == Some(generation);
        let sources = self.building.iter().position(|(id, _)| *id == generation).map(|i| self.building.remove(i).1);
        match event {
            PipelineEvent::Ready { ready, build_time, .. } => {
                nice_log!(
                    "Worklet: generation {generation} ready in {:.1} ms: processor '{}'",
                    build_time.as_secs_f64() * 1e3,
                    ready.processor
                );
                if !fallback {
                    self.status.set_error(None, None);
                    self.map_slots(&ready);
                    if let Some(sources) = sources {
                        *self.status.good.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sources);
                    }
                }
                *self.status.registered.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    ready.registered.clone();
                *self.status.processor.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(ready.processor);
                self.status.generations.fetch_add(1, Ordering::Relaxed);
                self.signal_ready();
            }
            PipelineEvent::Failed { error, .. } => {
                let keeping = self.status.processor().map_or_else(String::new, |p| format!("; '{p}' keeps playing"));
                nice_error!("Worklet: generation {generation} failed: {error}{keeping}");
                self.status.set_error(Some(error.to_string()), Some(error.clone()));
                self.status.log(ConsoleLine::build_error(&error));
                // Nothing plays yet (a broken saved state): play the factory default,
                // keeping the user's sources in the state to be fixed.
                if self.pipeline.ready().is_none() && !fallback {
                    self.build_fallback();
                } else {
                    self.signal_ready();
                }
            }
            PipelineEvent::Died { message, recovery, .. } => {
                let then = if recovery.is_some() { "; playing the last good code again" } else { "" };
                let text = format!("generation {generation}: {message}{then}");
                nice_error!("Worklet: {text}");
                self.status.set_error(Some(text.clone()), None);
                self.status.log(ConsoleLine::new(LineKind::Error, text));
                self.recovering = recovery;
                if self.pipeline.ready().is_none() && recovery.is_none() && !fallback {
                    self.build_fallback();
                } else {
                    self.signal_ready();
                }
            }
        }
    }

    fn signal_ready(&mut self) {
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
    }

    /// Maps the new generation's descriptors onto slots and saves the mapping.
    fn map_slots(&mut self, ready: &Ready) {
        if let Some(map) = &ready.slot_map {
            self.state.adopt_slots(map);
        }
        let mapping: Vec<(usize, crate::engine::ParamDescriptor)> = ready
            .descriptors
            .iter()
            .zip(&ready.slots)
            .filter_map(|(descriptor, slot)| slot.map(|s| (s, descriptor.clone())))
            .collect();
        self.params.table.set(&mapping, &self.state.touched);
        self.save();
    }

    /// Copies the slots moved on the audio thread into the saved state.
    fn sync_touched(&mut self) {
        let touched = self.params.table.touched_slots();
        if self.pipeline.ready().is_some() && touched != self.state.touched {
            self.state.touched = touched;
            self.save();
        }
    }

    /// Writes the state into the persisted field, unless the host loaded one that
    /// this thread has not adopted yet: then that state is adopted instead, so an
    /// older state never overwrites a newer one.
    fn save(&mut self) {
        if !self.params.state.store_unless_loaded(self.state.to_json(), self.loads_seen) {
            self.adopt_loaded_state();
        }
    }

    /// The host loaded a state (while active: a preset, undo, a late restore):
    /// rebuild from it and show it in the editor. A corrupt one is reported and
    /// the factory default plays, as at activation.
    fn adopt_loaded_state(&mut self) {
        let (text, loads) = self.params.state.snapshot();
        self.loads_seen = loads;
        self.status.set_error(None, None);
        self.state = parse_or_default(&text, &self.status);
        nice_log!("Worklet: the host loaded a state; rebuilding");
        self.status.log(ConsoleLine::new(LineKind::Note, "the host loaded a saved state".to_owned()));
        self.status.set_external(self.state.sources());
        self.build();
    }

    /// Moves what the processor sends into the console.
    fn drain_ports(&mut self) {
        let Some(ports) = self.pipeline.ports() else { return };
        let mut lines = Vec::new();
        while let Some(received) = ports.try_receive() {
            if let crate::port::Received::ProcessorError(error) = &received {
                // Marked at its line in the editor until the next good build.
                self.status.set_error(Some(error.to_string()), Some(error.clone()));
            }
            lines.push(ConsoleLine::received(received));
        }
        self.status.log_all(lines);
    }
}

/// The saved state in `text`; if it is corrupt, the factory default, with the
/// error logged and kept for the editor (activation and a host's state load).
pub(crate) fn parse_or_default(text: &str, status: &Status) -> SavedState {
    SavedState::parse(text).unwrap_or_else(|error| {
        nice_error!("Worklet: {error}; playing the default processor");
        status.set_error(Some(format!("{error}; playing the default processor")), None);
        SavedState::default()
    })
}
