//! What crosses the thread boundary between the main side and the realm. Any thread.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::engine::ScriptError;

/// Identifies one MessagePort of one node instance.
pub type PortId = u32;

/// A message: wire-format data and the ports it carries.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// The data, in wire format; `{"$port": i}` stands for `ports[i]`.
    pub data: Value,
    /// Ports transferred with the message, in transfer-list order.
    pub ports: Vec<PortId>,
    /// Every port that changes home with this message (the transferred ones and
    /// those carried by their queued messages), with what was queued on it.
    pub moved: Vec<MovedPort>,
}

/// A port that changes home, with the messages that were waiting on it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MovedPort {
    /// The port.
    pub id: PortId,
    /// Messages queued on it but not yet delivered, oldest first.
    pub pending: Vec<Pending>,
    /// How many messages the main side had accepted for this port, over its whole
    /// life, when it left (0 when it leaves the realm). The router uses it to know
    /// how many messages are still in flight towards the main side.
    pub received: u64,
}

/// A queued message that moves with its port.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The data, in wire format.
    pub data: Value,
    /// Ports it carries.
    pub ports: Vec<PortId>,
}

/// Main side to realm.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum ToRealm {
    /// `port.postMessage(...)` on a main-side port.
    Post { from: PortId, message: Message },
    /// A main-side port was closed.
    Close { port: PortId },
    /// A message for `port` reached the main side after the port had left it.
    Bounce { port: PortId, message: Message },
}

/// Realm to main side.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum ToMain {
    /// A message for the main-side port `to`.
    Deliver { to: PortId, message: Message },
    /// A `console.*` call or an uncaught listener exception.
    Console { level: String, text: String },
    /// The processor threw; the node outputs silence from now on.
    ProcessorError(ScriptError),
}

/// Messages dropped because a queue was full; shared by both sides.
#[derive(Debug, Default)]
pub struct DropCounters {
    to_realm: AtomicU64,
    to_main: AtomicU64,
    port_queue: AtomicU64,
}

impl DropCounters {
    pub(crate) fn count_to_realm(&self) {
        self.to_realm.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_to_main(&self, n: u64) {
        self.to_main.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn count_port_queue(&self) {
        self.port_queue.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot of the counters.
    pub fn snapshot(&self) -> DropCounts {
        DropCounts {
            to_realm: self.to_realm.load(Ordering::Relaxed),
            to_main: self.to_main.load(Ordering::Relaxed),
            port_queue: self.port_queue.load(Ordering::Relaxed),
        }
    }
}

/// How many messages were dropped, by where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct DropCounts {
    /// Posted by the main side while the queue to the realm was full.
    pub to_realm: u64,
    /// Sent by the realm (messages, console lines) while the queue to the main
    /// side, or the realm's outbox, was full.
    pub to_main: u64,
    /// Arrived for a realm port that already had its maximum of waiting messages.
    pub port_queue: u64,
}

impl DropCounts {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.to_realm + self.to_main + self.port_queue
    }
}
