//! `AudioWorkletNodeOptions`: parsing and the spec's validation (main-thread side).
//!
//! The options arrive as JSON in the wire format (CLI `--options`, plugin state).
//! Validation follows the `AudioWorkletNode` constructor: errors here are what
//! `new AudioWorkletNode(...)` throws in a browser, before any script runs.

use serde_json::{Map, Value};

/// Most channels a node input or output may have (the spec's minimum for
/// `MAX_CHANNEL_COUNT` is 32).
pub const MAX_CHANNELS: u32 = 32;
/// Most inputs or outputs a node may have.
pub const MAX_PORTS: u32 = 32;

/// How an input's channel count is computed from what is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelCountMode {
    /// The connection's channel count.
    Max,
    /// The connection's, at most `channelCount`.
    ClampedMax,
    /// Always `channelCount`.
    Explicit,
}

/// How channels are up- or down-mixed to the computed count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelInterpretation {
    /// Mono and stereo mix as speakers (mono copied to both, stereo averaged).
    Speakers,
    /// Channels are copied by index; missing ones are silent.
    Discrete,
}

/// The validated options of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeOptions {
    /// `numberOfInputs` (default 1).
    pub number_of_inputs: u32,
    /// `numberOfOutputs` (default 1).
    pub number_of_outputs: u32,
    /// `outputChannelCount`, if given.
    pub output_channel_count: Option<Vec<u32>>,
    /// `channelCount` (default 2).
    pub channel_count: u32,
    /// `channelCountMode` (default `max`).
    pub channel_count_mode: ChannelCountMode,
    /// `channelInterpretation` (default `speakers`).
    pub channel_interpretation: ChannelInterpretation,
    /// `parameterData`: initial values by parameter name.
    pub parameter_data: Vec<(String, f64)>,
    /// The object handed to the processor's constructor (wire format): only the
    /// keys given, plus `numberOfInputs` and `numberOfOutputs`.
    pub constructor_options: Value,
}

/// A constructor error, named like the DOMException a browser throws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError {
    /// `TypeError`, `NotSupportedError`, `IndexSizeError` or `InvalidStateError`.
    pub name: &'static str,
    /// What is wrong, naming the member.
    pub message: String,
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for OptionsError {}

fn error(name: &'static str, message: impl Into<String>) -> OptionsError {
    OptionsError { name, message: message.into() }
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self::from_json(&Value::Null).expect("empty options are valid")
    }
}

impl NodeOptions {
    /// Parses and validates options; `null` means none were given.
    pub fn from_json(value: &Value) -> Result<Self, OptionsError> {
        let given = match value {
            Value::Null => Map::new(),
            Value::Object(map) => map.clone(),
            _ => return Err(error("TypeError", "AudioWorkletNodeOptions must be an object")),
        };
        let number_of_inputs = count(&given, "numberOfInputs", 1)?;
        let number_of_outputs = count(&given, "numberOfOutputs", 1)?;
        if number_of_inputs == 0 && number_of_outputs == 0 {
            return Err(error("NotSupportedError", "numberOfInputs and numberOfOutputs are both 0"));
        }
        let output_channel_count = match given.get("outputChannelCount") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let counts =
                    items.iter().map(|item| unsigned(item, "outputChannelCount[]")).collect::<Result<Vec<_>, _>>()?;
                if let Some(bad) = counts.iter().find(|&&c| c == 0 || c > MAX_CHANNELS) {
                    return Err(error(
                        "NotSupportedError",
                        format!("outputChannelCount contains {bad}; each count must be in 1..={MAX_CHANNELS}"),
                    ));
                }
                if counts.len() != number_of_outputs as usize {
                    return Err(error(
                        "IndexSizeError",
                        format!(
                            "outputChannelCount has {} entries but numberOfOutputs is {number_of_outputs}",
                            counts.len()
                        ),
                    ));
                }
                Some(counts)
            }
            Some(_) => return Err(error("TypeError", "outputChannelCount must be an array of channel counts")),
        };
        let channel_count = match given.get("channelCount") {
            None => 2,
            Some(value) => {
                let count = unsigned(value, "channelCount")?;
                if count == 0 || count > MAX_CHANNELS {
                    return Err(error(
                        "NotSupportedError",
                        format!("channelCount {count} is not in 1..={MAX_CHANNELS}"),
                    ));
                }
                count
            }
        };
        let channel_count_mode = match given.get("channelCountMode").map(Value::as_str) {
            None | Some(Some("max")) => ChannelCountMode::Max,
            Some(Some("clamped-max")) => ChannelCountMode::ClampedMax,
            Some(Some("explicit")) => ChannelCountMode::Explicit,
            Some(_) => return Err(error("TypeError", "channelCountMode must be 'max', 'clamped-max' or 'explicit'")),
        };
        let channel_interpretation = match given.get("channelInterpretation").map(Value::as_str) {
            None | Some(Some("speakers")) => ChannelInterpretation::Speakers,
            Some(Some("discrete")) => ChannelInterpretation::Discrete,
            Some(_) => return Err(error("TypeError", "channelInterpretation must be 'speakers' or 'discrete'")),
        };
        let parameter_data = match given.get("parameterData") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(entries)) => entries
                .iter()
                .map(|(name, value)| match value.as_f64() {
                    Some(number) => Ok((name.clone(), number)),
                    None => Err(error("TypeError", format!("parameterData['{name}'] is not a finite number"))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(error("TypeError", "parameterData must be an object of numbers")),
        };
        let mut constructor = Map::new();
        constructor.insert("numberOfInputs".into(), number_of_inputs.into());
        constructor.insert("numberOfOutputs".into(), number_of_outputs.into());
        for (key, value) in given {
            constructor.insert(key, value);
        }
        Ok(Self {
            number_of_inputs,
            number_of_outputs,
            output_channel_count,
            channel_count,
            channel_count_mode,
            channel_interpretation,
            parameter_data,
            constructor_options: Value::Object(constructor),
        })
    }

    /// The channel count of input `index` given what is connected to it (`None`:
    /// nothing is connected, so the input has zero channels).
    pub fn input_channels(&self, connected: Option<u32>) -> u32 {
        match (connected, self.channel_count_mode) {
            (None, _) => 0,
            (Some(n), ChannelCountMode::Max) => n,
            (Some(n), ChannelCountMode::ClampedMax) => n.min(self.channel_count),
            (Some(_), ChannelCountMode::Explicit) => self.channel_count,
        }
    }

    /// Channel counts of each output. With one input, one output and no
    /// `outputChannelCount`, the output follows the input's computed channel count
    /// (at least one channel); otherwise outputs are mono unless configured.
    pub fn output_channels(&self, first_input_channels: u32) -> Vec<u32> {
        if let Some(counts) = &self.output_channel_count {
            return counts.clone();
        }
        if self.number_of_inputs == 1 && self.number_of_outputs == 1 {
            return vec![first_input_channels.max(1)];
        }
        vec![1; self.number_of_outputs as usize]
    }
}

fn unsigned(value: &Value, name: &str) -> Result<u32, OptionsError> {
    value
        .as_u64()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| error("TypeError", format!("{name} must be a non-negative integer, got {value}")))
}

fn count(given: &Map<String, Value>, name: &str, default: u32) -> Result<u32, OptionsError> {
    let Some(value) = given.get(name) else { return Ok(default) };
    let count = unsigned(value, name)?;
    if count > MAX_PORTS {
        return Err(error("NotSupportedError", format!("{name} is {count}; at most {MAX_PORTS} are supported")));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_give_one_input_one_output() {
        let options = NodeOptions::default();
        assert_eq!((options.number_of_inputs, options.number_of_outputs), (1, 1));
        assert_eq!(options.constructor_options, json!({"numberOfInputs": 1, "numberOfOutputs": 1}));
    }

    #[test]
    fn constructor_options_keep_only_given_keys() {
        let options = NodeOptions::from_json(&json!({"processorOptions": {"a": 1}})).unwrap();
        let keys: Vec<_> = options.constructor_options.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["numberOfInputs", "numberOfOutputs", "processorOptions"]);
    }

    #[test]
    fn spec_errors_have_spec_names() {
        let name = |v| NodeOptions::from_json(&v).unwrap_err().name;
        assert_eq!(name(json!({"numberOfInputs": 0, "numberOfOutputs": 0})), "NotSupportedError");
        assert_eq!(name(json!({"outputChannelCount": [0]})), "NotSupportedError");
        assert_eq!(name(json!({"outputChannelCount": [33]})), "NotSupportedError");
        assert_eq!(name(json!({"outputChannelCount": [2, 2]})), "IndexSizeError");
        assert_eq!(name(json!({"numberOfInputs": -1})), "TypeError");
        assert_eq!(name(json!({"parameterData": {"gain": "loud"}})), "TypeError");
        assert_eq!(name(json!({"channelCountMode": "all"})), "TypeError");
        assert_eq!(name(json!(3)), "TypeError");
    }

    #[test]
    fn channel_counts_follow_the_mode() {
        let clamped = NodeOptions::from_json(&json!({"channelCountMode": "clamped-max", "channelCount": 1})).unwrap();
        assert_eq!(clamped.input_channels(Some(2)), 1);
        let explicit = NodeOptions::from_json(&json!({"channelCountMode": "explicit", "channelCount": 3})).unwrap();
        assert_eq!(explicit.input_channels(Some(1)), 3);
        assert_eq!(NodeOptions::default().input_channels(None), 0);
        assert_eq!(NodeOptions::default().output_channels(0), vec![1]);
        assert_eq!(NodeOptions::default().output_channels(2), vec![2]);
    }
}
