//! The node (main-thread) side of the ports: `node.port`, `audioWorklet.port` and
//! any port transferred to the main side. Used on one thread (GUI or CLI); it
//! never blocks: a full queue drops the message and counts it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use rtrb::{Consumer, Producer};
use serde_json::Value;

use super::envelope::{DropCounters, DropCounts, Message, MovedPort, Pending, PortId, ToMain, ToRealm};
use super::{GLOBAL_PORT, NODE_PORT, wire};
use crate::engine::ScriptError;

/// Something the main side received.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A `message` event on a main-side port.
    Message {
        /// The receiving port.
        port: PortId,
        /// The data in wire format; `{"$port": i}` stands for `ports[i]`.
        data: Value,
        /// Ports transferred with the message; they now belong to the main side.
        ports: Vec<PortId>,
    },
    /// A `messageerror` event: the message could not be deserialized.
    MessageError {
        /// The receiving port.
        port: PortId,
    },
    /// `console.*` output from the realm, or an uncaught listener exception.
    Console {
        /// `log`, `info`, `warn`, `error` or `debug`.
        level: String,
        /// The formatted text.
        text: String,
    },
    /// A `processorerror`.
    ProcessorError(ScriptError),
}

/// Why a post was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostError {
    /// The queue to the realm is full; the message was dropped and counted.
    Full,
    /// The port is not held by the main side (closed, transferred, or unknown).
    NotHeld(PortId),
    /// `DataCloneError`: a port in the transfer list cannot be transferred.
    DataClone(String),
    /// The data is not well-formed wire format.
    Malformed(wire::WireError),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full => f.write_str("the queue to the realm is full; the message was dropped"),
            Self::NotHeld(port) => write!(f, "port {port} is not held by the main side (closed or transferred)"),
            Self::DataClone(why) => write!(f, "DataCloneError: {why}"),
            Self::Malformed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PostError {}

/// The main side's ends of every port pair of one node instance.
pub struct MainPorts {
    to_realm: Producer<ToRealm>,
    from_realm: Consumer<ToMain>,
    counters: Arc<DropCounters>,
    held: HashSet<PortId>,
    closed: HashSet<PortId>,
    /// Messages accepted per port over its life (see [`MovedPort::received`]).
    received: HashMap<PortId, u64>,
    /// Received but not yet handed out by `try_receive`, in order.
    ready: VecDeque<Received>,
    /// Bounces that did not fit in the queue; retried before anything else.
    backlog: VecDeque<ToRealm>,
}

impl MainPorts {
    pub(crate) fn new(to_realm: Producer<ToRealm>, from_realm: Consumer<ToMain>, counters: Arc<DropCounters>) -> Self {
        Self {
            to_realm,
            from_realm,
            counters,
            held: HashSet::from([GLOBAL_PORT, NODE_PORT]),
            closed: HashSet::new(),
            received: HashMap::new(),
            ready: VecDeque::new(),
            backlog: VecDeque::new(),
        }
    }

    /// Whether the main side holds `port` (open and not transferred away).
    pub fn holds(&self, port: PortId) -> bool {
        self.held.contains(&port)
    }

    /// `port.postMessage(data, transfer)`: `data` in wire format, with
    /// `{"$port": i}` standing for `transfer[i]`. Transferred ports leave the
    /// main side, with any messages received for them but not yet taken.
    pub fn post(&mut self, port: PortId, data: Value, transfer: &[PortId]) -> Result<(), PostError> {
        if !self.held.contains(&port) {
            return Err(PostError::NotHeld(port));
        }
        wire::validate(&data).map_err(PostError::Malformed)?;
        let mut seen = HashSet::new();
        for &moving in transfer {
            if moving == port {
                return Err(PostError::DataClone("the sending port cannot be transferred with its own message".into()));
            }
            if !self.held.contains(&moving) {
                return Err(PostError::DataClone(format!("port {moving} is closed or not held by the main side")));
            }
            if !seen.insert(moving) {
                return Err(PostError::DataClone("the transfer list contains the same port twice".into()));
            }
        }
        self.flush_backlog();
        if !self.backlog.is_empty() || self.to_realm.slots() == 0 {
            self.counters.count_to_realm();
            return Err(PostError::Full);
        }
        let moved = transfer.iter().map(|&id| self.release(id)).collect();
        let message = Message { data, ports: transfer.to_vec(), moved };
        if self.to_realm.push(ToRealm::Post { from: port, message }).is_err() {
            self.counters.count_to_realm();
            return Err(PostError::Full);
        }
        Ok(())
    }

    /// `port.close()`: nothing more is delivered to it, and its peer's posts are
    /// dropped silently.
    pub fn close(&mut self, port: PortId) {
        if !self.held.remove(&port) {
            return;
        }
        self.closed.insert(port);
        self.ready.retain(
            |r| !matches!(r, Received::Message { port: p, .. } | Received::MessageError { port: p } if *p == port),
        );
        self.flush_backlog();
        if self.to_realm.push(ToRealm::Close { port }).is_err() {
            self.backlog.push_back(ToRealm::Close { port });
        }
    }

    /// The next received item, if any; never blocks.
    pub fn try_receive(&mut self) -> Option<Received> {
        self.flush_backlog();
        while self.ready.is_empty() {
            let envelope = self.from_realm.pop().ok()?;
            self.accept(envelope);
        }
        self.ready.pop_front()
    }

    /// The drop counters, for a relay that feeds this side.
    pub(crate) fn counters(&self) -> &Arc<DropCounters> {
        &self.counters
    }

    /// Messages dropped so far, by where.
    pub fn dropped(&self) -> DropCounts {
        self.counters.snapshot()
    }

    fn accept(&mut self, envelope: ToMain) {
        match envelope {
            ToMain::Console { level, text } => self.ready.push_back(Received::Console { level, text }),
            ToMain::ProcessorError(error) => self.ready.push_back(Received::ProcessorError(error)),
            ToMain::Deliver { to, message } => {
                if self.held.contains(&to) {
                    *self.received.entry(to).or_default() += 1;
                    self.deliver(to, message);
                } else if !self.closed.contains(&to) {
                    self.bounce(to, message);
                }
            }
        }
    }

    /// Hands a message to `to`, adopting the ports it moves here.
    fn deliver(&mut self, to: PortId, message: Message) {
        for moved in &message.moved {
            self.held.insert(moved.id);
            self.closed.remove(&moved.id);
        }
        self.ready.push_back(received_message(to, message.data, message.ports));
        for moved in message.moved {
            for pending in moved.pending {
                self.ready.push_back(received_message(moved.id, pending.data, pending.ports));
            }
        }
    }

    /// Takes `port` off the main side for a transfer, with what is waiting on it.
    fn release(&mut self, port: PortId) -> MovedPort {
        self.held.remove(&port);
        let mut pending = Vec::new();
        self.ready.retain(|item| match item {
            Received::Message { port: p, data, ports } if *p == port => {
                pending.push(Pending { data: data.clone(), ports: ports.clone() });
                false
            }
            Received::MessageError { port: p } if *p == port => false,
            _ => true,
        });
        MovedPort { id: port, pending, received: self.received.get(&port).copied().unwrap_or(0) }
    }

    fn bounce(&mut self, port: PortId, message: Message) {
        let envelope = ToRealm::Bounce { port, message };
        if !self.backlog.is_empty() {
            self.backlog.push_back(envelope);
        } else if let Err(rtrb::PushError::Full(envelope)) = self.to_realm.push(envelope) {
            self.backlog.push_back(envelope);
        }
    }

    fn flush_backlog(&mut self) {
        while let Some(envelope) = self.backlog.pop_front() {
            if let Err(rtrb::PushError::Full(envelope)) = self.to_realm.push(envelope) {
                self.backlog.push_front(envelope);
                return;
            }
        }
    }
}

fn received_message(port: PortId, data: Value, ports: Vec<PortId>) -> Received {
    match wire::validate(&data) {
        Ok(()) => Received::Message { port, data, ports },
        Err(_) => Received::MessageError { port },
    }
}
