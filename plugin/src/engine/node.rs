//! One `AudioWorkletNode`'s processor inside a realm (runs on the realm's thread).
//!
//! Construction follows the spec's "instantiate a processor" steps; rendering
//! follows the `process()` contract: outputs zeroed before every call, `process`
//! looked up on every quantum, the return value read as the active-source flag,
//! and any exception turned into one `processorerror` after which the node
//! outputs silence.

use boa_engine::{JsObject, JsValue, js_string};

use super::error::{ScriptError, first_user_frame};
use super::options::{NodeOptions, OptionsError};
use super::params::{ParamBank, ParamDescriptor, ParamFrame};
use super::quantum::{AudioBuses, JsBuses, NonFinite};
use super::quantum_split::{Laps, QuantumSplit};
use super::realm::Realm;

/// Where a node is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// `process()` is called every quantum.
    Running,
    /// The constructor or `process()` threw; the node outputs silence.
    Errored,
    /// `process()` returned a falsy value with nothing connected to its inputs,
    /// so, as in browsers, it is no longer called; the node outputs silence.
    Inactive,
}

/// Why a node could not be created (what `new AudioWorkletNode()` throws).
#[derive(Debug, Clone, PartialEq)]
pub enum CreateError {
    /// No processor of that name is registered (`InvalidStateError`).
    UnknownProcessor {
        /// The requested name.
        name: String,
        /// The registered names.
        registered: Vec<String>,
    },
    /// The options break a rule of the constructor.
    Options(OptionsError),
    /// The realm itself failed (an internal error).
    Script(ScriptError),
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownProcessor { name, registered } if registered.is_empty() => {
                write!(f, "InvalidStateError: no processor named '{name}' is registered (none are)")
            }
            Self::UnknownProcessor { name, registered } => write!(
                f,
                "InvalidStateError: no processor named '{name}' is registered (registered: {})",
                registered.join(", ")
            ),
            Self::Options(error) => error.fmt(f),
            Self::Script(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for CreateError {}

/// A constructed processor and its reusable script-side arguments.
pub struct Node {
    name: String,
    processor: Option<JsObject>,
    inputs: JsBuses,
    outputs: JsBuses,
    params: ParamBank,
    descriptors: Vec<ParamDescriptor>,
    initial_values: Vec<f32>,
    input_channels: Vec<u32>,
    output_channels: Vec<u32>,
    state: NodeState,
    error: Option<ScriptError>,
    /// Where `registerProcessor` was called: the location of errors without a stack.
    site: Option<(String, u32, u32)>,
    /// NaN and infinite output samples replaced by silence so far.
    nonfinite: u64,
    /// The report of the first one, until it is taken.
    nonfinite_report: Option<String>,
    /// Time spent inside `process()` itself, and how many calls.
    process_time: (std::time::Duration, u64),
    /// The last quantum's split, once recording was asked for.
    split: Option<QuantumSplit>,
}

impl Node {
    /// Constructs processor `name` with `options`; `connected[i]` is the channel
    /// count of what feeds input `i` (`None`, or no entry: nothing is connected).
    ///
    /// A constructor that throws still yields a node: it is [`NodeState::Errored`]
    /// and [`Node::take_error`] returns the `processorerror`.
    pub fn new(
        realm: &mut Realm,
        name: &str,
        options: &NodeOptions,
        connected: &[Option<u32>],
        port_id: u32,
    ) -> Result<Self, CreateError> {
        let described = realm.describe().map_err(CreateError::Script)?;
        let processors: Vec<(String, Vec<ParamDescriptor>, String)> = described
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let name = entry.get("name")?.as_str()?.to_owned();
                let descriptors = serde_json::from_value(entry.get("parameterDescriptors")?.clone()).ok()?;
                let site = entry.get("site").and_then(|s| s.as_str()).unwrap_or_default().to_owned();
                Some((name, descriptors, site))
            })
            .collect();
        let Some((_, descriptors, site)) = processors.iter().find(|(n, _, _)| n == name) else {
            return Err(CreateError::UnknownProcessor {
                name: name.to_owned(),
                registered: processors.into_iter().map(|(n, _, _)| n).collect(),
            });
        };
        let descriptors = descriptors.clone();
        let site = first_user_frame(site);
        let initial_values = descriptors
            .iter()
            .map(|d| {
                let given = options.parameter_data.iter().find(|(n, _)| *n == d.name).map(|&(_, v)| v as f32);
                given.unwrap_or(d.default_value)
            })
            .collect();

        let input_channels: Vec<u32> = (0..options.number_of_inputs as usize)
            .map(|input| options.input_channels(connected.get(input).copied().flatten()))
            .collect();
        let output_channels = options.output_channels(input_channels.first().copied().unwrap_or(0));
        let script = |e: boa_engine::JsError, realm: &mut Realm| CreateError::Script(realm.error(&e));
        let inputs = JsBuses::new(realm, &input_channels).map_err(|e| script(e, realm))?;
        let outputs = JsBuses::new(realm, &output_channels).map_err(|e| script(e, realm))?;
        let params = ParamBank::new(realm, &descriptors).map_err(|e| script(e, realm))?;

        let mut node = Self {
            name: name.to_owned(),
            processor: None,
            inputs,
            outputs,
            params,
            descriptors,
            initial_values,
            input_channels,
            output_channels,
            state: NodeState::Running,
            error: None,
            site,
            nonfinite: 0,
            nonfinite_report: None,
            process_time: (std::time::Duration::ZERO, 0),
            split: None,
        };
        match realm.construct(name, &options.constructor_options, port_id) {
            Ok(processor) => node.processor = Some(processor),
            Err(error) => node.fail(realm.error(&error)),
        }
        realm.run_microtasks();
        Ok(node)
    }

    /// The processor's registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The processor's parameter descriptors, in declaration order.
    pub fn descriptors(&self) -> &[ParamDescriptor] {
        &self.descriptors
    }

    /// Parameter values before any automation (`parameterData` or defaults).
    pub fn initial_values(&self) -> &[f32] {
        &self.initial_values
    }

    /// Channel counts of each input as `process()` sees them.
    pub fn input_channels(&self) -> &[u32] {
        &self.input_channels
    }

    /// Channel counts of each output.
    pub fn output_channels(&self) -> &[u32] {
        &self.output_channels
    }

    /// The node's state.
    pub fn state(&self) -> NodeState {
        self.state
    }

    /// The `processorerror` raised since the last call, if any.
    pub fn take_error(&mut self) -> Option<ScriptError> {
        self.error.take()
    }

    /// NaN and infinite output samples replaced by silence so far.
    pub fn nonfinite_samples(&self) -> u64 {
        self.nonfinite
    }

    /// Total time spent inside `process()` and the number of calls (for `worklet
    /// bench`: what the script costs, apart from the engine around it).
    pub fn process_time(&self) -> (std::time::Duration, u64) {
        self.process_time
    }

    /// Records from now on where each quantum's time goes (`worklet bench
    /// --profile`); see [`Node::last_split`].
    pub fn record_split(&mut self) {
        self.split.get_or_insert_default();
    }

    /// The last quantum's split, if [`Node::record_split`] was called (all zero
    /// for a quantum in which `process()` was not called).
    pub fn last_split(&self) -> Option<QuantumSplit> {
        self.split
    }

    /// The warning about the first non-finite output sample, once.
    pub fn take_nonfinite_report(&mut self) -> Option<String> {
        self.nonfinite_report.take()
    }

    /// Stops the processor with `error` (a `processorerror`; silence from now on).
    pub(crate) fn fail(&mut self, mut error: ScriptError) {
        if let Some((file, line, col)) = &self.site {
            error = error.or_at(file, *line, *col);
        }
        self.state = NodeState::Errored;
        self.processor = None;
        self.error = Some(error);
    }

    /// Renders one quantum: `inputs` must match [`Node::input_channels`]; `outputs`
    /// is overwritten (silence unless the node is running). Runs the microtask
    /// checkpoint afterwards.
    pub fn render(&mut self, realm: &mut Realm, inputs: &AudioBuses, params: &ParamFrame, outputs: &mut AudioBuses) {
        let mut laps = Laps::start(self.split.is_some());
        let mut split = QuantumSplit::default();
        outputs.clear();
        if self.state == NodeState::Running {
            self.call_process(realm, inputs, params, outputs, &mut laps, &mut split);
        }
        realm.run_microtasks();
        if let Some(last) = &mut self.split {
            split.microtasks = laps.lap();
            *last = split;
        }
    }

    fn count_nonfinite(&mut self, found: NonFinite, quantum_frame: u64) {
        if let Some(first) = found.first
            && self.nonfinite == 0
        {
            let value = match first.value {
                v if v.is_nan() => "NaN",
                v if v > 0.0 => "Infinity",
                _ => "-Infinity",
            };
            self.nonfinite_report = Some(format!(
                "process() wrote {value} to outputs[{}][{}][{}] at frame {}: NaN and infinite samples are \
                 replaced by silence (this one is reported, the others are counted)",
                first.bus,
                first.channel,
                first.frame,
                quantum_frame + u64::from(first.frame),
            ));
        }
        self.nonfinite += found.count;
    }

    fn call_process(
        &mut self,
        realm: &mut Realm,
        inputs: &AudioBuses,
        params: &ParamFrame,
        outputs: &mut AudioBuses,
        laps: &mut Laps,
        split: &mut QuantumSplit,
    ) {
        let Some(processor) = self.processor.clone() else { return };
        self.inputs.write(inputs);
        self.outputs.zero();
        let parameters = match self.params.prepare(realm, params) {
            Ok(parameters) => parameters,
            Err(error) => return self.fail(realm.error(&error)),
        };
        let this = JsValue::from(processor.clone());
        let result = processor.get(js_string!("process"), realm.context()).and_then(|process| {
            let Some(function) = process.as_callable() else {
                return Err(boa_engine::JsNativeError::typ()
                    .with_message("the processor has no process() method (process is not a function)")
                    .into());
            };
            let args = [self.inputs.value().clone(), self.outputs.value().clone(), parameters.into()];
            split.before = laps.lap();
            let started = std::time::Instant::now();
            let mut call = || realm.budgeted(false, |context| function.call(&this, &args, context));
            let (result, heap_ops) = if laps.on() { crate::sys::alloc_guard::count_heap(call) } else { (call(), 0) };
            self.process_time.0 += started.elapsed();
            self.process_time.1 += 1;
            split.process = laps.lap();
            split.heap_ops = heap_ops;
            result
        });
        match result {
            Ok(active) => {
                let found = self.outputs.read(outputs);
                self.count_nonfinite(found, realm.current_frame());
                split.after = laps.lap();
                let connected = self.input_channels.iter().any(|&c| c > 0);
                if !active.to_boolean() && !connected {
                    self.state = NodeState::Inactive;
                }
            }
            Err(error) => {
                let located = realm.error(&error);
                self.fail(located);
            }
        }
    }
}
