//! What the control thread shares with the editor and the tests (any thread):
//! the last error, what plays, the console, the last good sources, telemetry,
//! and the editor's requests. Locks here are held only for a copy or a push,
//! never across work, so the GUI thread never waits on JavaScript or audio.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use super::console::ConsoleLine;
use super::state::Sources;
use crate::engine::ScriptError;
use crate::port::PortId;
use crate::render::Telemetry;

/// Console lines kept for the editor.
pub const CONSOLE_LINES: usize = 1024;
/// Editor requests waiting for the control thread; more are dropped and counted.
pub const REQUEST_CAPACITY: usize = 256;

/// What the editor asks the control thread to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Build these sources (hot swap); the playing processor stays if they fail.
    Apply(Sources),
    /// Post a wire-format value to a node-side port.
    Post {
        /// `NODE_PORT` or `GLOBAL_PORT`.
        port: PortId,
        /// The message.
        data: Value,
    },
}

/// Shared between the plugin, its control thread and its editor.
#[derive(Debug, Default)]
pub struct Status {
    /// The last load or state error, with its location.
    pub error: Mutex<Option<String>>,
    /// The script error behind `error`, for marking its line.
    pub script_error: Mutex<Option<ScriptError>>,
    /// The processor that plays (the newest ready generation).
    pub processor: Mutex<Option<String>>,
    /// Processors the playing generation's modules registered.
    pub registered: Mutex<Vec<String>>,
    /// The sources of the newest generation that built ("revert to last good").
    pub good: Mutex<Option<Sources>>,
    /// The sources the control thread holds, when they changed other than by an
    /// editor request (project load, a linked file saved elsewhere).
    pub external: Mutex<Option<Sources>>,
    /// Bumped with every `external` change.
    pub revision: AtomicU64,
    /// Recent console output, messages and processor errors.
    pub console: Mutex<VecDeque<ConsoleLine>>,
    /// Bumped with every console line (the editor scrolls on change).
    pub console_count: AtomicU64,
    /// Generations that became ready.
    pub generations: AtomicU64,
    /// The running pipeline's telemetry.
    pub telemetry: Mutex<Option<Arc<Telemetry>>>,
    /// Notes from the editor's on-screen keyboard to the audio thread.
    pub keyboard: super::keyboard::KeyboardSender,
    requests: Mutex<VecDeque<Request>>,
    dropped_requests: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Status {
    /// The last error, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    /// The script error behind the last error, if it came from a script.
    pub fn script_error(&self) -> Option<ScriptError> {
        lock(&self.script_error).clone()
    }

    /// The playing processor's name.
    pub fn processor(&self) -> Option<String> {
        lock(&self.processor).clone()
    }

    /// Processors registered by the playing generation.
    pub fn registered(&self) -> Vec<String> {
        lock(&self.registered).clone()
    }

    /// The last sources that built.
    pub fn good(&self) -> Option<Sources> {
        lock(&self.good).clone()
    }

    /// The sources as last changed outside the editor, with their revision.
    pub fn external(&self) -> (u64, Option<Sources>) {
        let sources = lock(&self.external).clone();
        (self.revision.load(Ordering::Acquire), sources)
    }

    /// The running pipeline's telemetry.
    pub fn telemetry(&self) -> Option<Arc<Telemetry>> {
        lock(&self.telemetry).clone()
    }

    /// A copy of the console lines kept.
    pub fn console_lines(&self) -> Vec<ConsoleLine> {
        lock(&self.console).iter().cloned().collect()
    }

    /// The lines logged after the first `seen` ever logged (as many as are
    /// still kept), and the count to pass next time.
    pub fn console_since(&self, seen: u64) -> (Vec<ConsoleLine>, u64) {
        let console = lock(&self.console);
        let count = self.console_count.load(Ordering::Acquire);
        let new = usize::try_from(count.saturating_sub(seen)).unwrap_or(usize::MAX).min(console.len());
        (console.iter().skip(console.len() - new).cloned().collect(), count)
    }

    /// Queues a request for the control thread; a full queue drops it (counted).
    pub fn request(&self, request: Request) -> bool {
        let mut requests = lock(&self.requests);
        if requests.len() >= REQUEST_CAPACITY {
            self.dropped_requests.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        requests.push_back(request);
        true
    }

    /// Requests dropped because the control thread was not keeping up.
    pub fn dropped_requests(&self) -> u64 {
        self.dropped_requests.load(Ordering::Relaxed)
    }

    pub(crate) fn take_requests(&self) -> Vec<Request> {
        lock(&self.requests).drain(..).collect()
    }

    pub(crate) fn set_error(&self, error: Option<String>, script: Option<ScriptError>) {
        *lock(&self.error) = error;
        *lock(&self.script_error) = script;
    }

    pub(crate) fn set_external(&self, sources: Sources) {
        *lock(&self.external) = Some(sources);
        self.revision.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn log(&self, line: ConsoleLine) {
        self.log_all(std::iter::once(line));
    }

    pub(crate) fn log_all(&self, lines: impl IntoIterator<Item = ConsoleLine>) {
        let mut console = lock(&self.console);
        for line in lines {
            if console.len() == CONSOLE_LINES {
                console.pop_front();
            }
            console.push_back(line);
            // Counted under the lock, so `console_since` sees lines and count together.
            self.console_count.fetch_add(1, Ordering::Release);
        }
    }
}
