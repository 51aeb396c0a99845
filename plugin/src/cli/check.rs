//! `worklet check`: load modules and describe the registered processors.

use std::io::Write;

use serde_json::{Value, json};

use super::args::CheckArgs;
use super::{Failure, load_modules};

/// Sample rate of the scope `check` loads modules into (only `sampleRate` reads it).
const CHECK_SAMPLE_RATE: f64 = 48_000.0;

pub(crate) fn run(args: &CheckArgs, stdout: &mut dyn Write) -> Result<(), Failure> {
    let mut realm = load_modules(&args.modules, args.root.as_deref(), CHECK_SAMPLE_RATE, None)?;
    let described = realm.describe()?;
    let processors: Vec<Value> = described
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| json!({"name": entry["name"], "parameterDescriptors": entry["parameterDescriptors"]}))
        .collect();
    writeln!(stdout, "{}", json!({ "processors": processors })).map_err(Failure::io)
}
