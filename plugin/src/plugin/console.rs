//! The editor's console lines: what the node side received (messages, console
//! output, processor errors) and sent, made readable once on the control thread
//! so the GUI thread only draws them.
//!
//! Messages are pretty-printed JSON in which typed arrays are summarized
//! (`Float32Array(128) [0.5, 0.25, …]`); the first Float32Array or Float64Array
//! in a message is also kept as numbers, for a plot.

use std::fmt;

use serde_json::Value;

use crate::engine::{PortName, ScriptError};
use crate::port::{PortId, Received, wire};

/// Elements of a typed array shown before `…`.
const SHOWN_ELEMENTS: usize = 8;
/// Longest array kept for a plot.
const MAX_PLOT: usize = 8192;

/// What kind of line it is (the editor colours them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// A message received on a node-side port.
    Received(PortName),
    /// A message the editor posted.
    Sent(PortName),
    /// `console.<level>` output from the scope.
    Console(String),
    /// A processor error or a failed load.
    Error,
    /// A note from Worklet itself (reloads, dropped input).
    Note,
    /// An event the host sent the processor (`out`: one the processor sent),
    /// shown while the editor's MIDI monitor is on.
    Midi {
        /// Sent by the processor.
        out: bool,
    },
}

/// One console line.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleLine {
    /// Its kind.
    pub kind: LineKind,
    /// The readable text (may span several lines).
    pub text: String,
    /// Samples to plot, when the message carried a float array.
    pub plot: Option<Vec<f32>>,
}

impl ConsoleLine {
    /// A line of `kind` without a plot.
    pub fn new(kind: LineKind, text: impl Into<String>) -> Self {
        Self { kind, text: text.into(), plot: None }
    }

    /// The line for something the node side received.
    pub fn received(received: Received) -> Self {
        match received {
            Received::Message { port, data, .. } => {
                Self { kind: LineKind::Received(PortName::of(port)), text: pretty(&data), plot: float_array(&data) }
            }
            Received::MessageError { port } => {
                Self::new(LineKind::Error, format!("messageerror on {}", port_label(PortName::of(port))))
            }
            Received::Console { level, text } => Self::new(LineKind::Console(level), text),
            Received::ProcessorError(error) => Self::error(&error),
        }
    }

    /// The line for a message the editor posted to `port`.
    pub fn sent(port: PortId, data: &Value) -> Self {
        Self { kind: LineKind::Sent(PortName::of(port)), text: pretty(data), plot: float_array(data) }
    }

    /// The line for a `processorerror`.
    pub fn error(error: &ScriptError) -> Self {
        Self::new(LineKind::Error, format!("processorerror: {error}"))
    }

    /// The line for sources that failed to build (the old processor plays on).
    pub fn build_error(error: &ScriptError) -> Self {
        Self::new(LineKind::Error, format!("not applied: {error}"))
    }
}

impl fmt::Display for ConsoleLine {
    /// `info: text`, `node.port ← text`, `node.port → text`, `error: text`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LineKind::Received(port) => write!(f, "{} ← {}", port_label(*port), self.text),
            LineKind::Sent(port) => write!(f, "{} → {}", port_label(*port), self.text),
            LineKind::Console(level) => write!(f, "{level}: {}", self.text),
            LineKind::Error | LineKind::Note => f.write_str(&self.text),
            LineKind::Midi { out: false } => write!(f, "MIDI in  {}", self.text),
            LineKind::Midi { out: true } => write!(f, "MIDI out {}", self.text),
        }
    }
}

/// `node.port`, `audioWorklet.port` or `port:N`.
pub fn port_label(port: PortName) -> String {
    match port {
        PortName::Node => "node.port".into(),
        PortName::Global => "audioWorklet.port".into(),
        PortName::Other(id) => format!("port:{id}"),
    }
}

/// Pretty-printed JSON of a wire value with typed arrays summarized.
pub fn pretty(value: &Value) -> String {
    match summarize(value) {
        // A typed array on its own prints as its summary, as devtools shows it.
        Value::String(summary) if !value.is_string() => summary,
        other => serde_json::to_string_pretty(&other).unwrap_or_default(),
    }
}

/// Replaces typed arrays and ArrayBuffers with a one-line summary string.
fn summarize(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(summarize).collect()),
        Value::Object(map) => match wire::tag_of(value) {
            Some((tag, Value::Array(items))) if is_array_tag(tag) => Value::String(summary(&tag[1..], items)),
            Some(_) => value.clone(),
            None => Value::Object(map.iter().map(|(k, v)| (k.clone(), summarize(v))).collect()),
        },
        other => other.clone(),
    }
}

fn is_array_tag(tag: &str) -> bool {
    tag == "$ArrayBuffer" || wire::TYPED_ARRAYS.contains(&&tag[1..])
}

/// `Float32Array(128) [0, 0.5, …]`.
fn summary(kind: &str, items: &[Value]) -> String {
    let shown: Vec<String> = items.iter().take(SHOWN_ELEMENTS).map(element_text).collect();
    let more = if items.len() > SHOWN_ELEMENTS { ", …" } else { "" };
    format!("{kind}({}) [{}{more}]", items.len(), shown.join(", "))
}

fn element_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |x| format!("{}", x as f32)),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first Float32Array or Float64Array in a message, as samples.
pub fn float_array(value: &Value) -> Option<Vec<f32>> {
    match value {
        Value::Array(items) => items.iter().find_map(float_array),
        Value::Object(map) => match wire::tag_of(value) {
            Some(("$Float32Array" | "$Float64Array", Value::Array(items))) if items.len() <= MAX_PLOT => {
                Some(items.iter().map(|v| v.as_f64().unwrap_or(f64::NAN) as f32).collect())
            }
            Some(_) => None,
            None => map.values().find_map(float_array),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn typed_arrays_are_summarized_and_plotted() {
        let data =
            json!({"rms": 0.5, "block": {"$Float32Array": [0.0, 0.5, 1.0, 0.5, 0.0, -0.5, -1.0, -0.5, 0.0, 0.25]}});
        let line = ConsoleLine::received(Received::Message { port: crate::port::NODE_PORT, data, ports: vec![] });
        assert!(line.text.contains("\"rms\": 0.5"), "{}", line.text);
        assert!(line.text.contains("Float32Array(10) [0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, …]"), "{}", line.text);
        assert_eq!(line.plot.as_deref().map(<[f32]>::len), Some(10));
        assert!(line.to_string().starts_with("node.port ← {"));
    }

    #[test]
    fn strings_and_other_tags_print_as_in_devtools() {
        let line = ConsoleLine::sent(crate::port::GLOBAL_PORT, &json!("ping"));
        assert_eq!(line.to_string(), "audioWorklet.port → \"ping\"");
        assert_eq!(pretty(&json!({"$undefined": null})), "{\n  \"$undefined\": null\n}");
        assert_eq!(float_array(&json!([1, {"$Int8Array": [1]}])), None);
        assert_eq!(pretty(&json!({"$Int8Array": [1, -2]})), "Int8Array(2) [1, -2]");
    }

    #[test]
    fn console_and_errors_keep_their_level() {
        let line = ConsoleLine::received(Received::Console { level: "warn".into(), text: "careful".into() });
        assert_eq!(line.to_string(), "warn: careful");
        let error = ScriptError::new("TypeError", "x is not a function");
        assert_eq!(ConsoleLine::error(&error).kind, LineKind::Error);
    }
}
