//! The built `Worklet.clap`, loaded by a real CLAP host (clack-host): scan,
//! instantiate, activate at 44.1 and 48 kHz with several block sizes, process,
//! compare with the offline engine shifted by the reported latency, automate a
//! slot sample-accurately, and save/restore state into a fresh instance.
//!
//! Needs `cargo xtask bundle worklet --release` first (`.ci/run` does it).

use std::path::PathBuf;

use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::RenderMode;
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;
use serde_json::Value;
use worklet::engine::{ParamStep, Realm, RealmConfig, RenderSpec, render};
use worklet_tests::processors_dir_source;

use super::clap_session::Session;

pub(crate) struct Shared;

impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

pub(crate) struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

pub(crate) fn bundle() -> PathBuf {
    let path = worklet_tests::repo().join("target/bundled/Worklet.clap");
    assert!(path.exists(), "{} is missing: run `cargo xtask bundle worklet --release` first", path.display());
    path
}

pub(crate) fn entry() -> PluginEntry {
    // SAFETY: loading a shared library runs its initializers; this is the plugin
    // this repository builds, loaded the way every CLAP host loads it.
    unsafe { PluginEntry::load(bundle()) }.expect("the .clap loads")
}

pub(crate) fn instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    instance_of(entry, c"dev.worklet.worklet")
}

/// An instance of the plugin with CLAP id `id`.
pub(crate) fn instance_of(entry: &PluginEntry, id: &std::ffi::CStr) -> PluginInstance<TestHost> {
    let info = HostInfo::new("worklet-tests", "Worklet", "https://worklet.dev", "1.0").unwrap();
    PluginInstance::<TestHost>::new(|_| Shared, |_| (), entry, id, &info).expect("instantiate")
}

/// The effect's input ports: the main input and the sidechain, whose buffers a
/// CLAP host always passes (here silent), for `frames` frames.
pub(crate) fn with_sidechain(main: Vec<Vec<f32>>, frames: usize) -> Vec<Vec<Vec<f32>>> {
    vec![main, vec![vec![0.0; frames]; 2]]
}

/// A slot automation point: normalized `value` for CLAP param `id` from `frame` on.
#[derive(Clone, Copy)]
struct Automation {
    frame: usize,
    id: u32,
    value: f64,
}

/// Activates, renders `input` in blocks of `block` frames offline, deactivates.
/// Returns the output and the latency the plugin reported.
fn run(
    plugin: &mut PluginInstance<TestHost>,
    rate: f64,
    block: usize,
    input: &[Vec<f32>],
    automation: &[Automation],
) -> (Vec<Vec<f32>>, usize) {
    let mut session = Session::start(plugin, rate, block, RenderMode::Offline);
    let frames = input[0].len();
    let mut output = vec![Vec::with_capacity(frames); 2];
    let mut start = 0;
    while start < frames {
        let n = block.min(frames - start);
        let mut in_buffers = with_sidechain(input.iter().map(|c| c[start..start + n].to_vec()).collect(), n);
        let events: Vec<ParamValueEvent> = automation
            .iter()
            .filter(|a| (start..start + n).contains(&a.frame))
            .map(|a| ParamValueEvent::new((a.frame - start) as u32, ClapId::new(a.id), Pckn::match_all(), a.value))
            .collect();
        let (block_out, _) = session.block(&mut in_buffers, n, &events, None);
        for (out, block_out) in output.iter_mut().zip(&block_out) {
            out.extend_from_slice(block_out);
        }
        start += n;
    }
    let latency = session.latency;
    session.stop(plugin);
    (output, latency)
}

/// The offline engine's render of `source` (the reference).
fn offline(source: &str, rate: f64, input: &[Vec<f32>], automation: Vec<ParamStep>) -> Vec<Vec<f32>> {
    let mut realm = Realm::new(&RealmConfig::new(rate)).unwrap();
    realm.add_module_source("main.js", source).unwrap();
    let spec =
        RenderSpec { frames: input[0].len() as u64, input: Some(input.to_vec()), automation, ..RenderSpec::default() };
    render(realm, &spec, &mut |_| {}).unwrap().output
}

fn test_input(frames: usize) -> Vec<Vec<f32>> {
    let mut state = 1u32;
    let noise: Vec<f32> = (0..frames)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 24) as f32 - 0.5
        })
        .collect();
    let mut impulse = vec![0.0; frames];
    impulse[0] = 1.0;
    vec![noise, impulse]
}

#[track_caller]
fn assert_delayed(output: &[Vec<f32>], reference: &[Vec<f32>], latency: usize) {
    for (channel, (out, want)) in output.iter().zip(reference).enumerate() {
        assert!(out[..latency].iter().all(|&s| s == 0.0), "channel {channel}: silence during the latency");
        for (frame, (a, b)) in out[latency..].iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-6, "channel {channel} frame {frame}: {a} != {b}");
        }
    }
}

/// nice-plug's CLAP state: an 8-byte little-endian length, then JSON.
pub(crate) fn state_json(saved: &[u8]) -> Value {
    let length = u64::from_le_bytes(saved[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&saved[8..8 + length]).expect("nice-plug saves JSON")
}

pub(crate) fn state_bytes(json: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut bytes = (body.len() as u64).to_le_bytes().to_vec();
    bytes.extend(body);
    bytes
}

/// Saves the instance's state, swaps the saved Worklet state for one playing
/// `module`, and loads it back.
pub(crate) fn load_processor(plugin: &mut PluginInstance<TestHost>, module: &str) {
    load_processor_with(plugin, module, None);
}

/// [`load_processor`] with these node options (`None`: the state's own).
pub(crate) fn load_processor_with(plugin: &mut PluginInstance<TestHost>, module: &str, options: Option<Value>) {
    let handle = plugin.plugin_handle();
    let state = handle.get_extension::<PluginState>().expect("state extension");
    let mut saved = Vec::new();
    state.save(&handle, &mut saved).expect("save");
    let mut outer = state_json(&saved);
    // nice-plug stores each persisted field as JSON: here, a JSON string of our JSON.
    let field = outer["fields"]["worklet-state"].as_str().unwrap_or("\"\"").to_owned();
    let text: String = serde_json::from_str(&field).unwrap();
    let mut inner = if text.is_empty() {
        worklet::plugin::state::SavedState::default()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    inner.modules = vec![worklet::plugin::state::SavedModule::new("main.js", module)];
    if let Some(options) = options {
        inner.options = options;
    }
    outer["fields"]["worklet-state"] = Value::String(serde_json::to_string(&inner.to_json()).unwrap());
    let bytes = state_bytes(&outer);
    state.load(&handle, &mut bytes.as_slice()).expect("load");
}

#[test]
fn scan_finds_the_effect_and_the_instrument_and_64_named_slots() {
    let entry = entry();
    let factory = entry.get_plugin_factory().expect("a plugin factory");
    let descriptors: Vec<_> = factory.plugin_descriptors().collect();
    assert_eq!(descriptors.len(), 2);
    assert_eq!(descriptors[0].id().unwrap().to_bytes(), b"dev.worklet.worklet");
    assert_eq!(descriptors[0].name().unwrap().to_bytes(), b"Worklet");
    assert_eq!(descriptors[1].id().unwrap().to_bytes(), b"dev.worklet.instrument");
    assert_eq!(descriptors[1].name().unwrap().to_bytes(), b"Worklet Instrument");

    let mut plugin = instance(&entry);
    run(&mut plugin, 48_000.0, 128, &test_input(256), &[]);
    let handle = plugin.plugin_handle();
    let params = handle.get_extension::<PluginParams>().expect("params extension");
    assert_eq!(params.count(&handle), 64);
    let mut buffer = ParamInfoBuffer::new();
    let first = params.get_info(&handle, 0, &mut buffer).unwrap();
    assert_eq!(first.name, b"Slot 1");
    let id = first.id;
    let mut text = [0u8; 128];
    let shown = params.value_to_text(&handle, id, 0.5, &mut text).unwrap();
    assert_eq!(
        String::from_utf8_lossy(shown).trim_end_matches('\0'),
        "gain: 1.0",
        "the default gain processor maps slot 1"
    );
    let mut buffer = ParamInfoBuffer::new();
    let last = params.get_info(&handle, 63, &mut buffer).unwrap().id;
    let shown = params.value_to_text(&handle, last, 0.5, &mut text).unwrap();
    assert_eq!(String::from_utf8_lossy(shown).trim_end_matches('\0'), "(unmapped)");
}

#[test]
fn output_is_the_offline_render_shifted_by_the_latency() {
    let entry = entry();
    let biquad = processors_dir_source("biquad.js");
    // One instance, re-activated at each sample rate and block size in turn.
    let mut plugin = instance(&entry);
    load_processor(&mut plugin, &biquad);
    for (rate, block) in [(44_100.0, 64), (48_000.0, 128), (48_000.0, 500), (44_100.0, 1024), (96_000.0, 7)] {
        let input = test_input(6000);
        let (output, latency) = run(&mut plugin, rate, block, &input, &[]);
        let expected_latency = worklet::render::PipelineConfig {
            safety_quanta: worklet::render::DEFAULT_SAFETY_QUANTA,
            ..worklet::render::PipelineConfig::new(rate, block)
        }
        .latency_frames();
        assert_eq!(latency, expected_latency, "reported latency at {rate} Hz, block {block}");
        let reference = offline(&biquad, rate, &input, vec![]);
        assert_delayed(&output, &reference, latency);
    }
}

#[test]
fn slot_automation_is_sample_accurate() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let input = vec![vec![0.5f32; 4096]; 2];
    let (_, _) = run(&mut plugin, 48_000.0, 128, &input[..], &[]);
    let id = {
        let handle = plugin.plugin_handle();
        let params = handle.get_extension::<PluginParams>().unwrap();
        let mut buffer = ParamInfoBuffer::new();
        params.get_info(&handle, 0, &mut buffer).unwrap().id.get()
    };
    // Slot 1 is the gain (0..4, default 1 at the slot centre): 0.25 is a gain of 0.5.
    let automation = [Automation { frame: 1000, id, value: 0.25 }];
    let (output, latency) = run(&mut plugin, 48_000.0, 128, &input, &automation);
    let reference = offline(
        &processors_dir_source("gain.js"),
        48_000.0,
        &input,
        vec![ParamStep { name: "gain".into(), value: 0.5, frame: 1000 }],
    );
    assert_delayed(&output, &reference, latency);
    assert!((output[0][latency + 999] - 0.5).abs() < 1e-6 && (output[0][latency + 1000] - 0.25).abs() < 1e-6);
}

#[test]
fn saved_state_restores_into_a_fresh_instance_identically() {
    let entry = entry();
    let mut first = instance(&entry);
    load_processor(&mut first, &processors_dir_source("biquad.js"));
    let input = test_input(4096);
    let (before, _) = run(&mut first, 48_000.0, 256, &input, &[]);
    let handle = first.plugin_handle();
    let mut saved = Vec::new();
    handle.get_extension::<PluginState>().unwrap().save(&handle, &mut saved).unwrap();

    let mut second = instance(&entry);
    let handle = second.plugin_handle();
    handle.get_extension::<PluginState>().unwrap().load(&handle, &mut saved.as_slice()).unwrap();
    let (after, _) = run(&mut second, 48_000.0, 256, &input, &[]);
    for (a, b) in before.iter().flatten().zip(after.iter().flatten()) {
        assert!((a - b).abs() <= 1e-7, "{a} != {b}");
    }
    assert!(before[0].iter().any(|&s| s.abs() > 0.01), "it rendered sound");
}

#[test]
fn corrupt_state_falls_back_to_the_default_without_crashing() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let handle = plugin.plugin_handle();
    let state = handle.get_extension::<PluginState>().unwrap();
    let mut saved = Vec::new();
    state.save(&handle, &mut saved).unwrap();
    let mut outer = state_json(&saved);
    outer["fields"]["worklet-state"] = Value::String(serde_json::to_string("{ this is not json").unwrap());
    let bytes = state_bytes(&outer);
    state.load(&handle, &mut bytes.as_slice()).expect("a corrupt state still loads");
    let input = vec![vec![0.25f32; 2048]; 2];
    let (output, latency) = run(&mut plugin, 48_000.0, 128, &input, &[]);
    assert!(
        output[0][latency..].iter().all(|&s| (s - 0.25).abs() < 1e-6),
        "the default processor passes audio through"
    );
}
