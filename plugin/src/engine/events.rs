//! What the main thread observes from a node and its scope. Any thread.
//!
//! These are the lines of `worklet render --events`: one JSON object each, with the
//! context frame at which the main thread observed the event.

use serde::Serialize;
use serde_json::Value;

use super::error::ScriptError;

/// Which node-side port a message arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortName {
    /// `node.port` (the processor's `this.port`).
    Node,
    /// `audioWorklet.port` (the scope's global `port`).
    Global,
    /// A port transferred to the main side (printed as `port:ID`).
    Other(crate::port::PortId),
}

impl PortName {
    /// The name of a main-side port.
    pub fn of(port: crate::port::PortId) -> Self {
        match port {
            crate::port::NODE_PORT => Self::Node,
            crate::port::GLOBAL_PORT => Self::Global,
            other => Self::Other(other),
        }
    }

    /// The main-side port this names.
    pub fn id(self) -> crate::port::PortId {
        match self {
            Self::Node => crate::port::NODE_PORT,
            Self::Global => crate::port::GLOBAL_PORT,
            Self::Other(id) => id,
        }
    }
}

impl Serialize for PortName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Node => serializer.serialize_str("node"),
            Self::Global => serializer.serialize_str("global"),
            Self::Other(id) => serializer.serialize_str(&format!("port:{id}")),
        }
    }
}

/// An event seen by the main thread.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MainEvent {
    /// A message; `data` in display form (see `port::wire::to_display`).
    Message {
        /// The port it arrived on.
        port: PortName,
        /// The message.
        data: Value,
        /// Ports transferred with it, if any (`{"$port": i}` in `data` is `ports[i]`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ports: Vec<crate::port::PortId>,
    },
    /// A message that could not be deserialized.
    Messageerror {
        /// The port it arrived on.
        port: PortName,
    },
    /// The processor threw; the node outputs silence from now on.
    Processorerror {
        /// `Name: message`.
        message: String,
        /// The script file.
        filename: String,
        /// 1-based line (0 if unknown).
        lineno: u32,
        /// 1-based column (0 if unknown).
        colno: u32,
    },
    /// MIDI the processor sent out (through `hostEvents`), at its own frame.
    Midi {
        /// The message: a channel message's 1–3 bytes, or SysEx `F0 … F7`.
        bytes: Vec<u8>,
        /// The note id it carries, if any.
        #[serde(rename = "noteId", skip_serializing_if = "Option::is_none")]
        note_id: Option<i32>,
    },
    /// Another event the processor sent out (`{"type": "event", "kind":
    /// "voice-end", …}`), at its own frame.
    Event {
        /// What it is.
        #[serde(flatten)]
        data: super::host_events::EventData,
    },
    /// A `console.*` call, or an uncaught exception in an event listener.
    Console {
        /// `log`, `info`, `warn`, `error` or `debug`.
        level: String,
        /// The formatted text.
        text: String,
    },
}

impl MainEvent {
    /// The event a main-side [`Received`](crate::port::Received) item is.
    pub fn from_received(received: crate::port::Received) -> Self {
        use crate::port::Received;
        match received {
            Received::Message { port, data, ports } => {
                Self::Message { port: PortName::of(port), data: crate::port::wire::to_display(&data), ports }
            }
            Received::MessageError { port } => Self::Messageerror { port: PortName::of(port) },
            Received::Console { level, text } => Self::Console { level, text },
            Received::ProcessorError(error) => Self::processor_error(&error),
        }
    }

    /// The event for MIDI a processor sent out.
    pub fn host_event(data: super::host_events::EventData) -> Self {
        use super::host_events::{EventData, channel_message_data_bytes};
        match data {
            EventData::Midi { bytes, note_id } => {
                let length = 1 + channel_message_data_bytes(bytes[0]).unwrap_or(2);
                Self::Midi { bytes: bytes[..length].to_vec(), note_id: (note_id >= 0).then_some(note_id) }
            }
            EventData::Sysex { bytes } => Self::Midi { bytes, note_id: None },
            other => Self::Event { data: other },
        }
    }

    /// The `processorerror` for a script error.
    pub fn processor_error(error: &ScriptError) -> Self {
        Self::Processorerror {
            message: format!("{}: {}", error.name, error.message),
            filename: error.filename.clone(),
            lineno: error.lineno,
            colno: error.colno,
        }
    }
}

/// An event and the frame at which the main thread observed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimedEvent {
    /// Context frame (frames rendered so far) when the event was observed.
    pub frame: u64,
    /// The event.
    #[serde(flatten)]
    pub event: MainEvent,
}
