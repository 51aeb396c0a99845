//! The two plugins in the bundles (any thread): the effect, which takes audio and
//! MIDI, and the instrument, which takes notes and makes sound. The same engine
//! and editor; they differ in name, ids, audio ports and the processor a new
//! instance starts with.

use std::num::NonZeroU32;

use nice_plug::prelude::*;

use super::state::{SavedModule, SavedState};

/// What makes one of the two plugins itself.
pub trait Flavor: 'static + Send + Sync {
    /// The plugin's name.
    const NAME: &'static str;
    /// Its CLAP id.
    const CLAP_ID: &'static str;
    /// Its CLAP description.
    const CLAP_DESCRIPTION: &'static str;
    /// Its CLAP features.
    const CLAP_FEATURES: &'static [ClapFeature];
    /// Its VST3 class id.
    const VST3_CLASS_ID: [u8; 16];
    /// Its VST3 categories.
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory];
    /// The audio port layouts it offers, preferred first.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout];
    /// The layouts of its VST3 build. A VST3 plugin's buses are fixed (a host
    /// may only change their width and activate them), so every layout has
    /// the same buses and only the main ones change width: the sidechain is
    /// stereo throughout. After a JUCE host (pedalboard) moved a layout whose
    /// sidechain followed the main bus from mono to stereo, it passed two
    /// sidechain channels over a one-channel pointer array. No auxiliary
    /// output: with one (default active, as nice-plug declares every bus),
    /// the same host's output of the effect came one latency late and the
    /// instrument's stayed silent.
    const VST3_AUDIO_IO_LAYOUTS: &'static [AudioIOLayout];
    /// What MIDI it takes and sends.
    const MIDI: MidiConfig = MidiConfig::MidiCCs;

    /// What a new instance plays, when it is not the factory default
    /// ([`SavedState::default`], what an empty state means).
    fn default_state() -> Option<SavedState>;
}

/// `Worklet`: an audio effect (and MIDI effect).
pub struct Effect;

/// `Worklet Instrument`: notes in, audio out.
pub struct Instrument;

/// A flavor as a VST3 plugin: the same, but notes only and fixed buses. VST3
/// passes MIDI CCs, pitch bend and channel pressure to a plugin only as
/// parameters (16 × 130 hidden ones), and a JUCE host (pedalboard) then takes
/// about 30 s to load it; CLAP carries them as events. (For the buses see
/// [`Flavor::VST3_AUDIO_IO_LAYOUTS`].)
pub struct Vst3<F>(std::marker::PhantomData<F>);

impl<F: Flavor> Flavor for Vst3<F> {
    const NAME: &'static str = F::NAME;
    const CLAP_ID: &'static str = F::CLAP_ID;
    const CLAP_DESCRIPTION: &'static str = F::CLAP_DESCRIPTION;
    const CLAP_FEATURES: &'static [ClapFeature] = F::CLAP_FEATURES;
    const VST3_CLASS_ID: [u8; 16] = F::VST3_CLASS_ID;
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = F::VST3_SUBCATEGORIES;
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = F::VST3_AUDIO_IO_LAYOUTS;
    const VST3_AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = F::VST3_AUDIO_IO_LAYOUTS;
    const MIDI: MidiConfig = MidiConfig::Basic;

    fn default_state() -> Option<SavedState> {
        F::default_state()
    }
}

impl Flavor for Effect {
    const NAME: &'static str = "Worklet";
    const CLAP_ID: &'static str = "dev.worklet.worklet";
    const CLAP_DESCRIPTION: &'static str = "Web Audio AudioWorkletProcessor scripts, live-coded in JavaScript";
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::AudioEffect, ClapFeature::Stereo, ClapFeature::Mono, ClapFeature::Filter, ClapFeature::Utility];
    const VST3_CLASS_ID: [u8; 16] = *b"WorkletJSWorklet";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Tools, Vst3SubCategory::Filter];
    // Input 1 of the node is the sidechain; outputs 1, 2, … the auxiliary outputs.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: NAMES_STEREO,
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            aux_input_ports: &[new_nonzero_u32(1)],
            names: NAMES_MONO,
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            aux_output_ports: &[new_nonzero_u32(2)],
            names: NAMES_AUX,
            ..AudioIOLayout::const_default()
        },
    ];
    // VST3 buses are fixed: each layout has the stereo sidechain (see the
    // trait); only the main buses' width changes.
    const VST3_AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: NAMES_STEREO,
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: NAMES_MONO,
            ..AudioIOLayout::const_default()
        },
    ];

    fn default_state() -> Option<SavedState> {
        None
    }
}

const NAMES_STEREO: PortNames =
    PortNames { layout: Some("Stereo with sidechain"), aux_inputs: &["Sidechain"], ..PortNames::const_default() };
const NAMES_MONO: PortNames =
    PortNames { layout: Some("Mono with sidechain"), aux_inputs: &["Sidechain"], ..PortNames::const_default() };
const NAMES_AUX: PortNames = PortNames {
    layout: Some("Stereo with sidechain and an auxiliary output"),
    aux_inputs: &["Sidechain"],
    aux_outputs: &["Output 2"],
    ..PortNames::const_default()
};

/// The factory processor the instrument starts with.
pub const INSTRUMENT_MODULE: &str = "synth.js";

impl Flavor for Instrument {
    const NAME: &'static str = "Worklet Instrument";
    const CLAP_ID: &'static str = "dev.worklet.instrument";
    const CLAP_DESCRIPTION: &'static str =
        "Web Audio AudioWorkletProcessor instruments, played by MIDI, live-coded in JavaScript";
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::Instrument, ClapFeature::Synthesizer, ClapFeature::Stereo, ClapFeature::Mono];
    const VST3_CLASS_ID: [u8; 16] = *b"WorkletJSInstrmt";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            names: PortNames { layout: Some("Stereo"), ..PortNames::const_default() },
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(1),
            names: PortNames { layout: Some("Mono"), ..PortNames::const_default() },
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            aux_output_ports: &[new_nonzero_u32(2)],
            names: PortNames {
                layout: Some("Stereo with an auxiliary output"),
                aux_outputs: &["Output 2"],
                ..PortNames::const_default()
            },
            ..AudioIOLayout::const_default()
        },
    ];
    // Main buses only (see the trait).
    const VST3_AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    fn default_state() -> Option<SavedState> {
        let source = crate::library::find(INSTRUMENT_MODULE).map_or("", |p| p.source);
        Some(SavedState {
            modules: vec![SavedModule::new(INSTRUMENT_MODULE, source)],
            options: crate::library::node_options(INSTRUMENT_MODULE),
            ..SavedState::default()
        })
    }
}
