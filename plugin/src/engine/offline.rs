//! Offline rendering: one node in one scope, one quantum at a time, on the
//! caller's thread. This is Worklet's `OfflineAudioContext`, used by the CLI and
//! the tests; it is deterministic for a given input.
//!
//! Per quantum starting at frame `F`: `currentFrame = F`; messages posted for
//! frames `< F + 128` are queued and run as tasks (a microtask checkpoint after
//! each); the host events of frames `F..F + 128` and the transport at `F` are put
//! in `hostEvents`; `process()` runs; the microtask checkpoint runs; what the
//! scope sent is observed by the main thread at frame `F + 128`, and the events
//! the processor sent out at their own frames.

use serde_json::Value;

use super::event_mailbox::OutEvent;
use super::events::{MainEvent, PortName, TimedEvent};
use super::host_events::{HostEvent, Timeline};
use super::instance::Instance;
use super::node::{CreateError, Node};
use super::options::{NodeOptions, OptionsError};
use super::params::{AutomationRate, ParamFrame};
use super::quantum::{AudioBuses, RENDER_QUANTUM, mix_channels};
use super::realm::Realm;
use crate::port::{DropCounts, MainPorts, PostError, channel_pair, wire};

/// A parameter set to `value` from `frame` on.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamStep {
    /// The descriptor name.
    pub name: String,
    /// The new value.
    pub value: f32,
    /// First frame with the new value.
    pub frame: u64,
}

/// A message the main thread posts before the quantum containing `frame`.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The frame it is posted at.
    pub frame: u64,
    /// `node.port` or `audioWorklet.port`.
    pub port: PortName,
    /// The message, in wire format.
    pub data: Value,
}

/// What to render.
#[derive(Debug, Clone, Default)]
pub struct RenderSpec {
    /// Frames to render.
    pub frames: u64,
    /// Processor name; `None` picks the first registered.
    pub processor: Option<String>,
    /// `AudioWorkletNodeOptions` (wire format); `null` for none.
    pub options: Value,
    /// What feeds input 0: its channels, or `None` when nothing is connected.
    pub input: Option<Vec<Vec<f32>>>,
    /// What feeds input 1 (a plugin's sidechain bus): its channels, or `None`
    /// when nothing is connected.
    pub sidechain: Option<Vec<Vec<f32>>>,
    /// Step automation.
    pub automation: Vec<ParamStep>,
    /// Messages from the main thread.
    pub posts: Vec<Post>,
    /// Host events (MIDI, SysEx), at any frames, in any order.
    pub events: Vec<HostEvent>,
    /// The host's timeline; `None`: the host reports no transport.
    pub timeline: Option<Timeline>,
}

/// The result of an offline render.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The processor that was constructed.
    pub processor: String,
    /// Channels of the node's first output (empty when it has none).
    pub output: Vec<Vec<f32>>,
    /// What the main thread observed, in order.
    pub events: Vec<TimedEvent>,
    /// Messages dropped because a queue was full.
    pub dropped: DropCounts,
    /// NaN and infinite output samples replaced by silence.
    pub nonfinite: u64,
    /// Host events dropped because a quantum had too many, and events the
    /// processor sent out that were malformed or did not fit.
    pub events_dropped: u64,
}

/// Why a render could not start.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// No processor is registered.
    NoProcessor,
    /// The node could not be created.
    Create(CreateError),
    /// An automation step names no parameter of the processor.
    UnknownParam {
        /// The name given.
        name: String,
        /// The processor's parameter names.
        known: Vec<String>,
    },
    /// A posted message is not valid wire format.
    BadPost(wire::WireError),
    /// The main side refused a post.
    Post(PostError),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoProcessor => f.write_str("no processor is registered (did the module call registerProcessor?)"),
            Self::Create(error) => error.fmt(f),
            Self::UnknownParam { name, known } if known.is_empty() => {
                write!(f, "no parameter named '{name}' (the processor has no parameters)")
            }
            Self::UnknownParam { name, known } => {
                write!(f, "no parameter named '{name}' (the processor has: {})", known.join(", "))
            }
            Self::BadPost(error) => error.fmt(f),
            Self::Post(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<OptionsError> for RenderError {
    fn from(error: OptionsError) -> Self {
        Self::Create(CreateError::Options(error))
    }
}

/// Renders `spec` with the processors registered in `realm` (which the render
/// consumes, as a render thread owns its realm).
///
/// `progress` is called after every quantum with the frames rendered so far.
pub fn render(mut realm: Realm, spec: &RenderSpec, progress: &mut dyn FnMut(u64)) -> Result<Rendered, RenderError> {
    let name = match &spec.processor {
        Some(name) => name.clone(),
        None => first_processor(&mut realm).ok_or(RenderError::NoProcessor)?,
    };
    let options = NodeOptions::from_json(&spec.options)?;
    for post in &spec.posts {
        wire::validate(&post.data).map_err(RenderError::BadPost)?;
    }
    let connected = [&spec.input, &spec.sidechain].map(|feed| feed.as_ref().map(|channels| channels.len() as u32));
    realm.set_current_frame(0);
    let (mut main, router) = channel_pair();
    let mut instance = Instance::new(realm, router, &name, &options, &connected).map_err(RenderError::Create)?;
    run(&mut instance, &mut main, spec, &name, &options, connected, progress)
}

fn run(
    instance: &mut Instance,
    main: &mut MainPorts,
    spec: &RenderSpec,
    name: &str,
    options: &NodeOptions,
    connected: [Option<u32>; 2],
    progress: &mut dyn FnMut(u64),
) -> Result<Rendered, RenderError> {
    let mut automation = Automation::new(instance.node(), &spec.automation)?;
    let mut rendered = Rendered { processor: name.to_owned(), ..Rendered::default() };
    observe(main, 0, &mut rendered.events);

    let first_output = instance.node().output_channels().first().copied().unwrap_or(0) as usize;
    rendered.output = vec![Vec::with_capacity(spec.frames as usize); first_output];
    let mut posts: Vec<&Post> = spec.posts.iter().collect();
    posts.sort_by_key(|post| post.frame);
    let mut posts = posts.into_iter().peekable();
    let mut host_events: Vec<&HostEvent> = spec.events.iter().collect();
    host_events.sort_by_key(|event| event.frame);
    let mut host_events = host_events.into_iter().peekable();
    let mut sent = Vec::new();

    let mut source = AudioBuses::silent(&connected.map(|channels| channels.unwrap_or(0)));
    let mut inputs = AudioBuses::silent(instance.node().input_channels());
    let mut outputs = AudioBuses::silent(instance.node().output_channels());
    let mut start = 0u64;
    while start < spec.frames {
        while let Some(post) = posts.next_if(|post| post.frame < start + RENDER_QUANTUM as u64) {
            match main.post(post.port.id(), post.data.clone(), &[]) {
                // A full queue dropped and counted it; a closed port drops silently.
                Ok(()) | Err(PostError::Full | PostError::NotHeld(_)) => {}
                Err(error) => return Err(RenderError::Post(error)),
            }
        }
        instance.set_frame(start);
        instance.run_tasks();
        for (bus, feed) in [&spec.input, &spec.sidechain].into_iter().enumerate() {
            fill_input(feed.as_deref(), start, &mut source.buses[bus]);
            if let Some(dest) = inputs.buses.get_mut(bus) {
                mix_channels(&source.buses[bus], dest, options.channel_interpretation);
            }
        }
        let sample_rate = instance.node_sample_rate();
        instance.begin_events(spec.timeline.as_ref().map(|t| t.at(start, sample_rate)).as_ref());
        while let Some(event) = host_events.next_if(|event| event.frame < start + RENDER_QUANTUM as u64) {
            instance.push_event(event.frame.saturating_sub(start) as u32, &event.data);
        }
        let params = automation.frame(start);
        instance.render(&inputs, params, &mut outputs);
        rendered.events_dropped += instance.take_out_events(&mut sent);
        for OutEvent { frame, data } in sent.drain(..) {
            rendered.events.push(TimedEvent { frame: start + u64::from(frame), event: MainEvent::host_event(data) });
        }
        let keep = (spec.frames - start).min(RENDER_QUANTUM as u64) as usize;
        if let Some(bus) = outputs.buses.first() {
            for (out, channel) in rendered.output.iter_mut().zip(bus) {
                out.extend_from_slice(&channel[..keep]);
            }
        }
        start += RENDER_QUANTUM as u64;
        observe(main, start, &mut rendered.events);
        progress(start.min(spec.frames));
    }
    rendered.dropped = main.dropped();
    rendered.nonfinite = instance.node().nonfinite_samples();
    rendered.events_dropped += instance.events_dropped();
    Ok(rendered)
}

/// Everything the main side has received, observed at `frame`.
fn observe(main: &mut MainPorts, frame: u64, events: &mut Vec<TimedEvent>) {
    while let Some(received) = main.try_receive() {
        events.push(TimedEvent { frame, event: MainEvent::from_received(received) });
    }
}

/// The first registered processor's name.
pub fn first_processor(realm: &mut Realm) -> Option<String> {
    let described = realm.describe().ok()?;
    described.as_array()?.first()?.get("name")?.as_str().map(str::to_owned)
}

fn fill_input(input: Option<&[Vec<f32>]>, start: u64, bus: &mut [super::quantum::Channel]) {
    let Some(channels) = input else { return };
    for (dest, samples) in bus.iter_mut().zip(channels) {
        for (frame, out) in dest.iter_mut().enumerate() {
            *out = samples.get(start as usize + frame).copied().unwrap_or(0.0);
        }
    }
}

/// Step automation resolved to per-quantum parameter frames.
struct Automation {
    /// Per parameter: steps sorted by frame, and the value before the first step.
    steps: Vec<Vec<(u64, f32)>>,
    initial: Vec<f32>,
    rates: Vec<AutomationRate>,
    clamp: Vec<(f32, f32)>,
    frame: ParamFrame,
    scratch: [f32; RENDER_QUANTUM],
}

impl Automation {
    fn new(node: &Node, steps: &[ParamStep]) -> Result<Self, RenderError> {
        let descriptors = node.descriptors();
        let mut per_param = vec![Vec::new(); descriptors.len()];
        for step in steps {
            let index =
                descriptors.iter().position(|d| d.name == step.name).ok_or_else(|| RenderError::UnknownParam {
                    name: step.name.clone(),
                    known: descriptors.iter().map(|d| d.name.clone()).collect(),
                })?;
            per_param[index].push((step.frame, step.value));
        }
        for list in &mut per_param {
            list.sort_by_key(|&(frame, _)| frame);
        }
        Ok(Self {
            steps: per_param,
            initial: node.initial_values().to_vec(),
            rates: descriptors.iter().map(|d| d.automation_rate).collect(),
            clamp: descriptors.iter().map(|d| (d.min_value, d.max_value)).collect(),
            frame: ParamFrame::constant(node.initial_values()),
            scratch: [0.0; RENDER_QUANTUM],
        })
    }

    /// The values of every parameter for the quantum starting at `start`.
    fn frame(&mut self, start: u64) -> &ParamFrame {
        for index in 0..self.steps.len() {
            let steps = &self.steps[index];
            let (min, max) = self.clamp[index];
            let mut value =
                steps.iter().take_while(|&&(f, _)| f <= start).last().map_or(self.initial[index], |&(_, v)| v);
            let mut next = steps.iter().skip_while(|&&(f, _)| f <= start).peekable();
            for (offset, out) in self.scratch.iter_mut().enumerate() {
                let frame = start + offset as u64;
                while let Some(&&(f, v)) = next.peek() {
                    if f > frame {
                        break;
                    }
                    value = v;
                    next.next();
                }
                *out = if value.is_nan() { self.initial[index] } else { value.clamp(min, max) };
            }
            self.frame.set(index, &self.scratch, self.rates[index]);
        }
        &self.frame
    }
}
