//! One node instance: its realm, its processor and its port router. This is what
//! the render thread owns (and what an offline render drives on the caller's
//! thread). All of it runs on that one thread.
//!
//! A quantum is two calls: [`Instance::run_tasks`] (route what the main side
//! posted, run message tasks, each followed by a microtask checkpoint) and
//! [`Instance::render`] (`process()`, then the microtask checkpoint). After every
//! entry into JavaScript, what the script sent is routed at once.

use super::event_mailbox::{EventMailbox, OutEvent};
use super::host_events::{EventData, Transport};
use super::node::{CreateError, Node};
use super::options::NodeOptions;
use super::params::ParamFrame;
use super::quantum::AudioBuses;
use super::realm::{Outgoing, Realm};
use crate::port::{PROCESSOR_PORT, Router};

/// Most message tasks run between two quanta; the rest wait for the next gap, so
/// that a flood of messages cannot make a quantum late.
pub const MAX_TASKS_PER_QUANTUM: usize = 256;

/// A realm with its constructed node and the router of its ports.
pub struct Instance {
    realm: Realm,
    node: Node,
    router: Router,
    outgoing: Vec<Outgoing>,
    construction_error: Option<super::error::ScriptError>,
    events: EventMailbox,
}

impl Instance {
    /// Constructs processor `name` in `realm` (whose modules are loaded). What the
    /// constructor posts, logs or throws is routed to the main side at once.
    pub fn new(
        mut realm: Realm,
        router: Router,
        name: &str,
        options: &NodeOptions,
        connected: &[Option<u32>],
    ) -> Result<Self, CreateError> {
        let events = EventMailbox::install(&mut realm).map_err(|e| CreateError::Script(realm.error(&e)))?;
        let mut node = Node::new(&mut realm, name, options, connected, PROCESSOR_PORT)?;
        if let Some(error) = realm.take_fatal() {
            node.fail(error);
        }
        let construction_error = node.take_error();
        let mut instance =
            Self { realm, node, router, outgoing: Vec::new(), construction_error: construction_error.clone(), events };
        if let Some(error) = construction_error {
            instance.router.processor_error(error);
        }
        instance.flush();
        Ok(instance)
    }

    /// The `processorerror` of a constructor that threw, if it did.
    pub fn construction_error(&self) -> Option<&super::error::ScriptError> {
        self.construction_error.as_ref()
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Records where each quantum's time goes from now on (see
    /// [`Node::last_split`]).
    pub fn record_split(&mut self) {
        self.node.record_split();
    }

    /// The realm.
    pub fn realm(&mut self) -> &mut Realm {
        &mut self.realm
    }

    /// The port router.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The context's sample rate.
    pub fn node_sample_rate(&self) -> f64 {
        self.realm.sample_rate()
    }

    /// Sets `currentFrame` for the tasks and the quantum that follow.
    pub fn set_frame(&mut self, frame: u64) {
        self.realm.set_current_frame(frame);
    }

    /// Starts the next quantum's host events: none yet, and the transport as the
    /// host reports it (`None`: the host gives none).
    pub fn begin_events(&mut self, transport: Option<&Transport>) {
        self.events.begin(transport);
    }

    /// Adds a host event at `frame` inside the next quantum; false (dropped and
    /// counted) when the quantum's event arrays are full.
    pub fn push_event(&mut self, frame: u32, data: &EventData) -> bool {
        self.events.push(frame, data)
    }

    /// Adds a SysEx message (`F0 … F7`) at `frame` inside the next quantum,
    /// from a buffer the caller keeps (no allocation); false (dropped and
    /// counted) when the quantum is full.
    pub fn push_sysex(&mut self, frame: u32, bytes: &[u8]) -> bool {
        self.events.push_sysex(frame, bytes)
    }

    /// Host events dropped because a quantum was full, in total.
    pub fn events_dropped(&self) -> u64 {
        self.events.dropped()
    }

    /// Takes the events the processor sent out during the last quantum; returns
    /// how many it sent that were malformed or did not fit (dropped).
    pub fn take_out_events(&mut self, into: &mut Vec<OutEvent>) -> u64 {
        self.events.take_out(into)
    }

    /// Between quanta: routes at most [`MAX_TASKS_PER_QUANTUM`] envelopes from the
    /// main side and runs at most as many message tasks. Returns the tasks run.
    pub fn run_tasks(&mut self) -> usize {
        self.router.intake(MAX_TASKS_PER_QUANTUM, &mut self.realm);
        let mut ran = 0;
        while ran < MAX_TASKS_PER_QUANTUM && self.realm.run_one_task() {
            ran += 1;
            self.flush();
        }
        self.flush();
        ran
    }

    /// Renders one quantum (see [`Node::render`]) and routes what it sent.
    pub fn render(&mut self, inputs: &AudioBuses, params: &ParamFrame, outputs: &mut AudioBuses) {
        self.node.render(&mut self.realm, inputs, params, outputs);
        self.flush();
    }

    /// Routes the realm's outbox and any new processor error.
    fn flush(&mut self) {
        let dropped = self.realm.take_outbox_dropped();
        if dropped > 0 {
            self.router.counters().count_to_main(dropped);
        }
        self.realm.drain_outbox(&mut self.outgoing);
        for item in self.outgoing.drain(..) {
            match item {
                Outgoing::Message { from, message } => self.router.post(from, message, &mut self.realm),
                Outgoing::Console { level, text } => self.router.console(level, text),
                Outgoing::Closed { port } => self.router.close(port),
                Outgoing::Entangle { a, b } => self.router.entangle(a, b),
            }
        }
        if let Some(error) = self.realm.take_fatal() {
            self.node.fail(error);
        }
        if let Some(report) = self.node.take_nonfinite_report() {
            self.router.console("warn".to_owned(), report);
        }
        if let Some(error) = self.node.take_error() {
            self.router.processor_error(error);
        }
    }
}
