//! The CLAP and VST3 entry points. The export macros generate the `extern "C"`
//! glue (which needs `unsafe`); nothing else in the crate does.
#![allow(unsafe_code)]

use nice_plug::prelude::*;

use super::Worklet;

nice_export_clap!(Worklet);
nice_export_vst3!(Worklet);
