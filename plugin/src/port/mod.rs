//! MessagePort pairs between the node (main-thread) side and the worklet realm.
//!
//! Every port has a [`PortId`]. Ports live either in the realm (the render thread)
//! or on the main side (the GUI, the CLI). Messages cross threads as envelopes on
//! two bounded, pre-allocated wait-free queues (rtrb), one per direction:
//!
//! * [`MainPorts`] is the main side's API (post, try-receive, close), used on one
//!   thread (the GUI thread or the CLI's).
//! * [`Router`] runs on the realm's thread. It is the one authority on where each
//!   port lives and which port it is entangled with; every post is routed by it.
//! * [`wire`] is the message format both sides agree on.
//!
//! A full queue drops the message and counts it ([`DropCounts`]); nothing blocks.

pub mod envelope;
pub mod main_ports;
pub mod router;
pub mod wire;

pub(crate) use envelope::{DropCounters, ToMain, ToRealm};
pub use envelope::{DropCounts, Message, MovedPort, Pending, PortId};
pub use main_ports::{MainPorts, PostError, Received};
pub use router::{Router, channel_pair};
pub(crate) use router::{main_relay, realm_relay};

/// The scope's `port` (`AudioWorkletGlobalScope.port`), in the realm.
pub const SCOPE_PORT: PortId = 0;
/// `audioWorklet.port`, on the main side; entangled with [`SCOPE_PORT`].
pub const GLOBAL_PORT: PortId = 1;
/// The processor's `this.port`, in the realm.
pub const PROCESSOR_PORT: PortId = 2;
/// `node.port`, on the main side; entangled with [`PROCESSOR_PORT`].
pub const NODE_PORT: PortId = 3;
/// The first id handed to a `MessageChannel` created in the realm.
pub const FIRST_CHANNEL_PORT: PortId = 4;

/// Envelopes the main side can post ahead of the render thread.
///
/// At one message per 128-frame quantum this is 2.7 s of backlog at 48 kHz; a GUI
/// posting faster than the render thread drains (256 per quantum) is flooding, and
/// the rest is dropped and counted rather than growing memory.
pub const TO_REALM_CAPACITY: usize = 1024;

/// Envelopes (messages, console lines, errors) the realm can send ahead of the
/// main side. Four times [`TO_REALM_CAPACITY`]: processors that post meters or
/// scope snapshots every quantum must survive a GUI frame hitch of ~1 s.
pub const TO_MAIN_CAPACITY: usize = 4096;
