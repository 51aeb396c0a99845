//! The library's entry points: CLAP, VST3, and the engine process's. The export
//! macros generate the `extern "C"` glue (which needs `unsafe`), and an exported
//! symbol is an unsafe attribute; nothing else outside `sys` needs it.
#![allow(unsafe_code)]

use nice_plug::prelude::*;

use super::{Worklet, WorkletInstrument, WorkletInstrumentVst3, WorkletVst3};

nice_export_clap!(Worklet, WorkletInstrument);
nice_export_vst3!(WorkletVst3, WorkletInstrumentVst3);

/// The engine process's entry point, called by `worklet-engine` (the launcher
/// the plugin starts, see `render::engine_launcher`) after it loads this library.
/// Returns the process's exit status; a panic is a crash (status 101).
#[unsafe(no_mangle)]
extern "C" fn worklet_engine_main() -> i32 {
    std::panic::catch_unwind(crate::render::engine_child::main).unwrap_or(101)
}
