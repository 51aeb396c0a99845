//! The control thread of one plugin instance: it owns the [`Pipeline`], builds
//! generations from the saved state, maps their parameters onto slots, keeps the
//! saved state current, and drains what the processor sends. It is never the
//! audio thread and never waits on it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nice_plug::prelude::*;

use super::params::WorkletParams;
use super::state::SavedState;
use crate::port::Received;
use crate::render::{Pipeline, PipelineEvent, Ready};

/// How often the control thread looks at the pipeline.
const POLL: Duration = Duration::from_millis(5);
/// Console lines kept for the editor.
const CONSOLE_LINES: usize = 512;

/// What the editor and the tests can see of an instance (any thread).
#[derive(Debug, Default)]
pub struct Status {
    /// The last load or state error, with its location.
    pub error: Mutex<Option<String>>,
    /// The processor that plays (the newest ready generation).
    pub processor: Mutex<Option<String>>,
    /// Recent console output, messages and processor errors.
    pub console: Mutex<VecDeque<String>>,
    /// Generations that became ready.
    pub generations: std::sync::atomic::AtomicU64,
}

impl Status {
    fn set_error(&self, error: Option<String>) {
        *self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    }

    fn log(&self, line: String) {
        let mut console = self.console.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if console.len() == CONSOLE_LINES {
            console.pop_front();
        }
        console.push_back(line);
    }

    /// The last error, if any.
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

enum Command {
    Load(SavedState),
    Shutdown,
}

/// Handle to the control thread (held by the plugin).
pub struct Controller {
    commands: Sender<Command>,
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
        state: SavedState,
        patience: Duration,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = channel();
        let (ready_tx, ready_rx) = channel();
        let reload = Arc::new(AtomicBool::new(false));
        let flag = reload.clone();
        let thread = std::thread::Builder::new().name("worklet-control".into()).spawn(move || {
            let mut control = Control { pipeline, params, status, state, fallback: None, ready: Some(ready_tx) };
            control.run(&receiver, &flag);
        })?;
        let controller = Self { commands, reload, thread: Some(thread) };
        let _ = ready_rx.recv_timeout(patience);
        Ok(controller)
    }

    /// Builds a new generation from `state` (hot swap).
    pub fn load(&self, state: SavedState) {
        let _ = self.commands.send(Command::Load(state));
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
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Control {
    pipeline: Pipeline,
    params: Arc<WorkletParams>,
    status: Arc<Status>,
    state: SavedState,
    /// The generation built from the factory default after the state failed.
    fallback: Option<u64>,
    ready: Option<Sender<()>>,
}

impl Control {
    fn run(&mut self, commands: &Receiver<Command>, reload: &AtomicBool) {
        self.build(self.state.recipe(), false);
        let mut last_sync = Instant::now();
        loop {
            match commands.recv_timeout(POLL) {
                Ok(Command::Load(state)) => {
                    self.state = state;
                    self.build(self.state.recipe(), false);
                }
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if reload.swap(false, Ordering::AcqRel) {
                self.build(self.state.recipe(), false);
            }
            for event in self.pipeline.poll() {
                self.handle(event);
            }
            self.drain_ports();
            if last_sync.elapsed() > Duration::from_millis(100) {
                self.sync_touched();
                last_sync = Instant::now();
            }
        }
    }

    /// Builds a generation; `fallback` marks the factory default played because
    /// the state's own sources failed.
    fn build(&mut self, recipe: crate::render::Recipe, fallback: bool) {
        match self.pipeline.load(recipe) {
            Ok(id) => {
                if fallback {
                    self.fallback = Some(id);
                }
            }
            Err(error) => self.status.set_error(Some(format!("cannot start a render thread: {error}"))),
        }
    }

    fn handle(&mut self, event: PipelineEvent) {
        let generation = match &event {
            PipelineEvent::Ready { generation, .. } | PipelineEvent::Failed { generation, .. } => *generation,
        };
        let fallback = self.fallback == Some(generation);
        match event {
            PipelineEvent::Ready { ready, .. } => {
                if !fallback {
                    self.status.set_error(None);
                    self.map_slots(&ready);
                }
                *self.status.processor.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(ready.processor);
                self.status.generations.fetch_add(1, Ordering::Relaxed);
                self.signal_ready();
            }
            PipelineEvent::Failed { error, .. } => {
                nice_error!("Worklet: {error}");
                self.status.set_error(Some(error.to_string()));
                self.status.log(format!("error: {error}"));
                // Nothing plays yet (a broken saved state): play the factory default,
                // keeping the user's sources in the state to be fixed.
                if self.pipeline.ready().is_none() && !fallback {
                    self.build(SavedState::default().recipe(), true);
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

    fn save(&self) {
        let json = self.state.to_json();
        *self.params.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = json;
    }

    /// Keeps the processor's messages flowing (and visible) while no editor reads them.
    fn drain_ports(&mut self) {
        let Some(ports) = self.pipeline.ports() else { return };
        let mut lines = Vec::new();
        while let Some(received) = ports.try_receive() {
            lines.push(match received {
                Received::Message { port, data, .. } => format!("message on port {port}: {data}"),
                Received::MessageError { port } => format!("messageerror on port {port}"),
                Received::Console { level, text } => format!("{level}: {text}"),
                Received::ProcessorError(error) => format!("processorerror: {error}"),
            });
        }
        for line in lines {
            self.status.log(line);
        }
    }
}
