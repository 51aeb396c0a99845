//! The CLAP/VST3 plugin (nice-plug glue).
//!
//! * `activate` (main thread): parses the saved state, builds the pipeline for the
//!   host's sample rate and largest block, starts the control thread, waits
//!   briefly for the first generation and reports the latency.
//! * `process` (audio thread): turns slot parameter changes into sample-accurate
//!   changes (fixed-size arrays) and runs [`HostSide::process`]; never allocates,
//!   locks or waits (`tests/tests/no_alloc.rs` proves it for the host side).
//! * `reset` asks the control thread for a fresh generation; `deactivate` tears
//!   everything down off the audio thread.

pub mod console;
pub mod controller;
mod exports;
pub mod flavor;
pub mod keyboard;
mod midi;
pub mod params;
pub mod state;
pub mod state_field;
pub mod status;
mod sysex;
pub mod view;
pub mod watch;

use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use nice_plug::prelude::*;

use self::console::{ConsoleLine, LineKind};
use self::controller::Controller;
use self::flavor::{Effect, Flavor, Instrument};
use self::params::WorkletParams;
use self::state::SavedState;
use self::status::Status;
use crate::gui::WorkletEditor;
use crate::render::{
    EngineProcess, EventsOut, HostSide, PARAM_SLOTS, ParamChange, Pipeline, PipelineConfig, engine_launcher,
};

/// How long `activate` waits for the first generation (so the first block sounds).
const FIRST_BUILD_PATIENCE: Duration = Duration::from_secs(2);
/// Channels a bus of the plugin's layouts has at most.
const MAX_CHANNELS: usize = 2;
/// Channels the pipeline carries each way at most: the main bus and one more
/// (the sidechain in, an auxiliary output out).
const MAX_RING_CHANNELS: usize = 2 * MAX_CHANNELS;

/// The effect: audio and MIDI in, audio and MIDI out.
pub type Worklet = WorkletPlugin<Effect>;
/// The instrument: notes in, audio (and MIDI) out; it starts with `synth.js`.
pub type WorkletInstrument = WorkletPlugin<Instrument>;
/// The effect as a VST3 plugin (notes only: see [`flavor::Vst3`]).
pub type WorkletVst3 = WorkletPlugin<flavor::Vst3<Effect>>;
/// The instrument as a VST3 plugin.
pub type WorkletInstrumentVst3 = WorkletPlugin<flavor::Vst3<Instrument>>;

/// A plugin: one `AudioContext` with one `AudioWorkletNode`.
pub struct WorkletPlugin<F: Flavor> {
    params: Arc<WorkletParams>,
    status: Arc<Status>,
    controller: Option<Controller>,
    host: Option<HostSide>,
    /// The block's input channels, as the pipeline takes them.
    scratch: Vec<Vec<f32>>,
    /// The pipeline's channels: main input (at least one), sidechain, main
    /// output, auxiliary output.
    buses: Buses,
    /// The layout has a main input (the effect's do; the instrument's none).
    has_input: bool,
    max_block: usize,
    /// Unmodulated normalized slot values last seen on the audio thread.
    seen: [f32; PARAM_SLOTS],
    /// Modulated normalized slot values last sent to the host side.
    sent: [f32; PARAM_SLOTS],
    epoch: u64,
    /// Audio was processed since `activate` (a reset before that has nothing to clear).
    processed: bool,
    /// The host's notes and MIDI of the block, and the processor's MIDI of a piece.
    events_in: midi::BlockEvents,
    events_out: EventsOut,
    /// Notes from the editor's on-screen keyboard.
    keyboard: rtrb::Consumer<[u8; 3]>,
    flavor: PhantomData<F>,
}

impl<F: Flavor> Default for WorkletPlugin<F> {
    fn default() -> Self {
        let params = Arc::new(WorkletParams::default());
        if let Some(state) = F::default_state()
            && let Ok(json) = serde_json::to_string(&state)
        {
            params.state.store_unless_loaded(json, 0);
        }
        let status = Arc::new(Status::default());
        let keyboard = status.keyboard.connect();
        Self {
            params,
            status,
            controller: None,
            host: None,
            scratch: Vec::new(),
            buses: Buses::default(),
            has_input: true,
            max_block: 0,
            seen: [f32::NAN; PARAM_SLOTS],
            sent: [f32::NAN; PARAM_SLOTS],
            epoch: u64::MAX,
            processed: false,
            events_in: midi::BlockEvents::default(),
            events_out: EventsOut::default(),
            keyboard,
            flavor: PhantomData,
        }
    }
}

impl<F: Flavor> WorkletPlugin<F> {
    /// What the editor and tests can see: errors, the playing processor, the console.
    pub fn status(&self) -> &Arc<Status> {
        &self.status
    }

    /// Where this instance's engine runs: a process of its own per generation
    /// (see `render::engine_launcher`), or, when that cannot be set up, the
    /// host's process, with a note in the console saying why.
    fn engine_process(&self) -> Option<EngineProcess> {
        engine_launcher::plugin_engine().unwrap_or_else(|error| {
            let text = format!("the engine runs inside the host's process: {error}");
            nice_error!("Worklet: {text}");
            self.status.log(ConsoleLine::new(LineKind::Note, text));
            None
        })
    }

    /// The saved state (or the factory default with an error if it is corrupt)
    /// and the host load it came from.
    fn saved_state(&self) -> (SavedState, u64) {
        let (text, loads) = self.params.state.snapshot();
        (controller::parse_or_default(&text, &self.status), loads)
    }

    /// Slot changes since the last call, as sample-accurate normalized changes at
    /// offset 0 (nice-plug splits blocks at automation and modulation points).
    /// The value sent is the modulated one (CLAP parameter modulation); whether the
    /// host or the user moved the slot ("touched") follows the unmodulated one.
    /// Audio thread; atomics only, no allocation.
    fn slot_changes(&mut self, changes: &mut [ParamChange; PARAM_SLOTS]) -> usize {
        let table = &self.params.table;
        let epoch = table.epoch();
        let remap = epoch != self.epoch;
        self.epoch = epoch;
        let mut count = 0;
        for (slot, param) in self.params.slots.iter().enumerate() {
            let plain = param.value.unmodulated_normalized_value();
            let modulated = param.value.modulated_normalized_value();
            let moved = plain.to_bits() != self.seen[slot].to_bits();
            let changed = modulated.to_bits() != self.sent[slot].to_bits();
            // A modulation that just ended must still reach an untouched slot.
            let was_modulated = self.sent[slot].to_bits() != self.seen[slot].to_bits();
            self.seen[slot] = plain;
            self.sent[slot] = modulated;
            if !(changed || moved || remap) || !table.mapped(slot) {
                continue;
            }
            if moved && !remap {
                table.touch(slot);
            }
            if table.touched(slot) || modulated != plain || was_modulated {
                changes[count] = ParamChange { offset: 0, slot: slot as u16, normalized: modulated };
                count += 1;
            }
        }
        count
    }
}

impl<F: Flavor> Plugin for WorkletPlugin<F> {
    const NAME: &'static str = F::NAME;
    const VENDOR: &'static str = "Worklet";
    const URL: &'static str = "https://worklet.dev";
    const EMAIL: &'static str = "hello@worklet.dev";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = F::AUDIO_IO_LAYOUTS;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;
    // Notes, MIDI and the transport reach the processor through `hostEvents`;
    // what it sends goes back to the host (MIDI effects, arpeggiators).
    const MIDI_INPUT: MidiConfig = F::MIDI;
    const MIDI_OUTPUT: MidiConfig = F::MIDI;

    type Editor = WorkletEditor;
    type SysExMessage = sysex::Sysex;
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        Some(WorkletEditor::new(self.params.clone(), self.status.clone()))
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.controller = None;
        self.host = None;
        let count = |channels: Option<NonZeroU32>| channels.map_or(0, NonZeroU32::get) as usize;
        let max_block = (buffer_config.max_buffer_size as usize).max(1);
        let mut config = PipelineConfig::new(f64::from(buffer_config.sample_rate), max_block);
        config.input_channels = count(audio_io_layout.main_input_channels).min(MAX_CHANNELS);
        config.output_channels = count(audio_io_layout.main_output_channels).clamp(1, MAX_CHANNELS);
        config.sidechain_channels = count(audio_io_layout.aux_input_ports.first().copied()).min(MAX_CHANNELS);
        config.aux_output_channels = audio_io_layout
            .aux_output_ports
            .first()
            .map(|c| (c.get() as usize).min(MAX_CHANNELS))
            .into_iter()
            .collect();
        let buses = Buses {
            main_in: config.input_buses()[0],
            sidechain: config.sidechain_channels,
            main_out: config.output_channels,
            aux_out: config.aux_output_channels.first().copied().unwrap_or(0),
        };
        config.offline = buffer_config.process_mode == ProcessMode::Offline;
        config.isolation = self.engine_process();
        let latency = config.latency_frames();
        let (pipeline, host) = Pipeline::new(config);
        let state = self.saved_state();
        match Controller::start(pipeline, self.params.clone(), self.status.clone(), state, FIRST_BUILD_PATIENCE) {
            Ok(controller) => self.controller = Some(controller),
            Err(error) => {
                nice_error!("Worklet: cannot start its control thread: {error}");
                return false;
            }
        }
        self.host = Some(host);
        self.buses = buses;
        self.has_input = audio_io_layout.main_input_channels.is_some();
        self.max_block = max_block;
        self.scratch = vec![vec![0.0; max_block]; MAX_RING_CHANNELS];
        self.seen = [f32::NAN; PARAM_SLOTS];
        self.sent = [f32::NAN; PARAM_SLOTS];
        self.epoch = u64::MAX;
        self.processed = false;
        context.set_latency_samples(latency as u32);
        true
    }

    /// Clears the processor's state (tails, filters) with a fresh generation of the
    /// same sources. Hosts also call this before processing starts; then there is
    /// nothing to clear and the generation built by `activate` is kept.
    fn reset(&mut self) {
        if let Some(controller) = self.controller.as_ref().filter(|_| self.processed) {
            controller.request_reload();
            self.processed = false;
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer<'_>,
        aux: &mut AuxiliaryBuffers<'_>,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // Heap use here would be a real-time violation: it is counted (see
        // `sys::alloc_guard`), and the tests check the count stays zero.
        crate::sys::alloc_guard::no_alloc(|| self.process_block(buffer, aux, context))
    }

    fn deactivate(&mut self) {
        self.host = None;
        self.controller = None;
    }
}

impl<F: Flavor> WorkletPlugin<F> {
    /// The host's block through the host side, in pieces of at most `max_block`.
    /// Audio thread.
    fn process_block(
        &mut self,
        buffer: &mut Buffer<'_>,
        aux: &mut AuxiliaryBuffers<'_>,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let mut changes = [ParamChange { offset: 0, slot: 0, normalized: 0.0 }; PARAM_SLOTS];
        let count = self.slot_changes(&mut changes);
        self.events_in.gather(context, &mut self.keyboard);
        let transport = midi::transport(context.transport());
        let Some(host) = self.host.as_mut() else { return ProcessStatus::Normal };
        self.processed = true;
        let Buses { main_in, sidechain, main_out, aux_out } = self.buses;
        let frames = buffer.samples();
        let io = buffer.as_slice();
        let sidechain_in = aux.inputs.first();
        let mut aux_output = aux.outputs.first_mut();
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(self.max_block);
            // The host's buffer is in place: copy the input before writing output.
            // Without a main input (the instrument) it holds no audio: silence.
            let main: &[&mut [f32]] = if self.has_input { io } else { &[] };
            let side = sidechain_in.as_deref().map_or(&[][..], Buffer::as_slice_immutable);
            for (index, scratch) in self.scratch.iter_mut().take(main_in + sidechain).enumerate() {
                let source = if index < main_in { main.get(index) } else { side.get(index - main_in) };
                match source {
                    Some(channel) => scratch[..n].copy_from_slice(&channel[start..start + n]),
                    None => scratch[..n].fill(0.0),
                }
            }
            let mut inputs: [&[f32]; MAX_RING_CHANNELS] = [&[]; MAX_RING_CHANNELS];
            for (input, scratch) in inputs.iter_mut().zip(&self.scratch) {
                *input = &scratch[..n];
            }
            let mut outputs: [&mut [f32]; MAX_RING_CHANNELS] = Default::default();
            let (main_slots, aux_slots) = outputs.split_at_mut(main_out);
            for (output, channel) in main_slots.iter_mut().zip(io.iter_mut()) {
                *output = &mut channel[start..start + n];
            }
            if let Some(buffer) = aux_output.as_mut() {
                for (output, channel) in aux_slots.iter_mut().zip(buffer.as_slice().iter_mut()) {
                    *output = &mut channel[start..start + n];
                }
            }
            let changes = if start == 0 { &changes[..count] } else { &[] };
            let events = self.events_in.piece(start..start + n);
            let transport = transport.map(|t| t.advanced(start as u64, host.sample_rate()));
            let out = Some(&mut self.events_out);
            host.process_with_events(
                &inputs[..main_in + sidechain],
                &mut outputs[..main_out + aux_out],
                changes,
                events,
                transport.as_ref(),
                out,
            );
            let refused = midi::send(&mut self.events_out, start, context);
            host.count_dropped_events(refused);
            start += n;
        }
        let dropped = std::mem::take(&mut self.events_in.dropped);
        host.count_dropped_events(dropped);
        ProcessStatus::KeepAlive
    }
}

/// The channels of the buses the pipeline carries (see `PipelineConfig`).
#[derive(Debug, Clone, Copy, Default)]
struct Buses {
    main_in: usize,
    sidechain: usize,
    main_out: usize,
    aux_out: usize,
}

impl<F: Flavor> ClapPlugin for WorkletPlugin<F> {
    const CLAP_ID: &'static str = F::CLAP_ID;
    const CLAP_DESCRIPTION: Option<&'static str> = Some(F::CLAP_DESCRIPTION);
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = F::CLAP_FEATURES;
}

impl<F: Flavor> Vst3Plugin for WorkletPlugin<F> {
    const VST3_CLASS_ID: [u8; 16] = F::VST3_CLASS_ID;
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = F::VST3_SUBCATEGORIES;
}
