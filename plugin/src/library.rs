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
    "ducker.js",
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

/// The `AudioWorkletNodeOptions` a factory processor is built for (what a page
/// passes to `new AudioWorkletNode`); `null`: the defaults.
pub fn node_options(file: &str) -> serde_json::Value {
    match file {
        // Input 1 is the key: a plugin's sidechain bus. With two inputs the
        // output would be mono (the spec's default), so it is set to stereo.
        "ducker.js" => serde_json::json!({"numberOfInputs": 2, "outputChannelCount": [2]}),
        // An instrument: no input, a stereo output.
        "synth.js" => serde_json::json!({"numberOfInputs": 0, "outputChannelCount": [2]}),
        _ => serde_json::Value::Null,
    }
}

/// A factory processor by file name.
pub fn find(file: &str) -> Option<&'static FactoryProcessor> {
    FACTORY.iter().find(|p| p.file == file)
}
