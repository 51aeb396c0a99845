//! The factory library: every processor in `processors/`, embedded in the binary
//! for the editor's browser and the plugin's default. Any thread.

/// One factory processor: its file name and source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactoryProcessor {
    /// The file name in `processors/` (also the module name it loads under).
    pub file: &'static str,
    /// The source text.
    pub source: &'static str,
}

macro_rules! factory {
    ($($file:literal),* $(,)?) => {
        &[$(FactoryProcessor { file: $file, source: include_str!(concat!("../../processors/", $file)) }),*]
    };
}

/// The factory library, in the order the editor lists it.
pub const FACTORY: &[FactoryProcessor] = factory![
    "gain.js",
    "panner.js",
    "biquad.js",
    "biquad-wasm.js",
    "svf.js",
    "delay.js",
    "tempo-delay.js",
    "chorus.js",
    "tremolo.js",
    "bitcrusher.js",
    "saturator.js",
    "compressor.js",
    "noise-gate.js",
    "oscillator.js",
    "synth.js",
    "arpeggiator.js",
    "oscillator-wasm.js",
    "reverb-wasm.js",
    "noise.js",
    "level-meter.js",
    "scope.js",
    "ping-pong.js",
    "global-volume.js",
];

/// Modules the factory processors import (`processors/lib/`). Every realm can
/// import them by these names, so a factory processor loaded from memory finds
/// them as it finds them beside itself on disk or in a browser.
pub const FACTORY_MODULES: &[FactoryProcessor] = factory!["lib/host-events.js"];

/// A factory processor by file name.
pub fn find(file: &str) -> Option<&'static FactoryProcessor> {
    FACTORY.iter().find(|p| p.file == file)
}
