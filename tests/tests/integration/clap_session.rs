//! One activation of the built `Worklet.clap` in clack-host, processing block
//! after block as a DAW's audio thread does: the plumbing the CLAP tests share
//! (`clap_host`, `clap_live`, `clap_events`).

use clack_extensions::latency::PluginLatency;
use clack_extensions::render::{PluginRender, RenderMode};
use clack_host::events::UnknownEvent;
use clack_host::events::event_types::{MidiSysExEvent, TransportEvent};
use clack_host::events::io::{InputEventBuffer, OutputEventBuffer, TryPushError};
use clack_host::prelude::*;

use super::clap_host::TestHost;

/// An instance activated and processing, with its ports.
pub(crate) struct Session {
    processor: StartedPluginAudioProcessor<TestHost>,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    /// The latency the plugin reported once active.
    pub(crate) latency: usize,
}

impl Session {
    /// Sets the render `mode`, activates at `rate` for blocks up to `block`
    /// frames and starts processing.
    pub(crate) fn start(plugin: &mut PluginInstance<TestHost>, rate: f64, block: usize, mode: RenderMode) -> Self {
        let handle = plugin.plugin_handle();
        handle.get_extension::<PluginRender>().expect("render extension").set(&handle, mode).expect("render mode");
        let config =
            PluginAudioConfiguration { sample_rate: rate, min_frames_count: 1, max_frames_count: block as u32 };
        let processor = plugin.activate(|_, _| (), config).expect("activate");
        let handle = plugin.plugin_handle();
        let latency = handle.get_extension::<PluginLatency>().expect("latency extension").get(&handle) as usize;
        Self {
            processor: processor.start_processing().expect("start processing"),
            input_ports: AudioPorts::with_capacity(4, 2),
            output_ports: AudioPorts::with_capacity(2, 1),
            latency,
        }
    }

    /// One block of `frames` frames: `inputs` per port, per channel (an
    /// instrument has none); returns the main output's two channels and what
    /// the plugin sent.
    pub(crate) fn block(
        &mut self,
        inputs: &mut [Vec<Vec<f32>>],
        frames: usize,
        events: &impl InputEventBuffer,
        transport: Option<&TransportEvent>,
    ) -> (Vec<Vec<f32>>, Sent) {
        let mut output = vec![vec![0.0f32; frames]; 2];
        let input_audio = self.input_ports.with_input_buffers(inputs.iter_mut().map(|port| AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                port.iter_mut().map(|b| InputChannel::variable(b.as_mut_slice())),
            ),
        }));
        let mut output_audio = self.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(output.iter_mut().map(Vec::as_mut_slice)),
        }]);
        let mut sent = Sent::default();
        self.processor
            .process(
                &input_audio,
                &mut output_audio,
                &InputEvents::from_buffer(events),
                &mut OutputEvents::from_buffer(&mut sent),
                None,
                transport,
            )
            .expect("process");
        (output, sent)
    }

    /// Stops processing and deactivates.
    pub(crate) fn stop(self, plugin: &mut PluginInstance<TestHost>) {
        plugin.deactivate(self.processor.stop_processing());
    }
}

/// What the plugin sent in one block. A SysEx event's bytes are only valid
/// while it is being pushed, so they are copied then.
#[derive(Default)]
pub(crate) struct Sent {
    pub(crate) events: EventBuffer,
    /// Time in the block, bytes.
    pub(crate) sysex: Vec<(u32, Vec<u8>)>,
}

impl OutputEventBuffer for Sent {
    fn try_push(&mut self, event: &UnknownEvent) -> Result<(), TryPushError> {
        if let Some(sysex) = event.as_event::<MidiSysExEvent>() {
            // SAFETY: a plugin's SysEx buffer is valid for the duration of this
            // push (CLAP's rule for output events), and it is copied here.
            let bytes = unsafe { sysex.data() }.to_vec();
            self.sysex.push((sysex.header().time(), bytes));
            return Ok(());
        }
        self.events.try_push(event)
    }
}
