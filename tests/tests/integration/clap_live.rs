//! The built `Worklet.clap` driven the way DAWs drive it, block after block
//! while active: CLAP modulation on top of automation, a state loaded while
//! active (a preset, undo), the library's own count of heap use on the audio
//! thread, and a script that never finishes followed by deactivate, destroy and
//! unload. Needs the bundle, like `clap_host`.

use std::time::{Duration, Instant};

use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::RenderMode;
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_host::prelude::*;

use super::clap_host::{TestHost, bundle, entry, instance, load_processor, state_json, with_sidechain};
use super::clap_session::Session;

/// An activated instance of the effect at 48 kHz, processing.
pub(crate) struct Active(Session);

pub(crate) fn activate(plugin: &mut PluginInstance<TestHost>, block: usize, mode: RenderMode) -> Active {
    Active(Session::start(plugin, 48_000.0, block, mode))
}

impl Active {
    /// One block of `frames` frames of constant `level` input, with `events`.
    pub(crate) fn block(&mut self, frames: usize, level: f32, events: &EventBuffer) -> Vec<Vec<f32>> {
        let mut input = with_sidechain(vec![vec![level; frames]; 2], frames);
        self.0.block(&mut input, frames, events, None).0
    }

    fn latency(&self) -> usize {
        self.0.latency
    }

    pub(crate) fn stop(self, plugin: &mut PluginInstance<TestHost>) {
        self.0.stop(plugin);
    }
}

fn first_slot(plugin: &mut PluginInstance<TestHost>) -> ClapId {
    let handle = plugin.plugin_handle();
    let params = handle.get_extension::<PluginParams>().unwrap();
    params.get_info(&handle, 0, &mut ParamInfoBuffer::new()).unwrap().id
}

/// The library's count of heap operations inside `Worklet::process`.
fn audio_thread_allocations(library: &libloading::Library) -> u64 {
    // SAFETY: the plugin library exports this function with exactly this
    // signature (`worklet::sys::alloc_guard`); it only reads an atomic.
    unsafe { library.get::<extern "C" fn() -> u64>(b"worklet_audio_thread_allocations").unwrap()() }
}

#[test]
fn modulation_reaches_the_processor_sample_accurately_on_top_of_automation() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let block = 512;
    let mut active = activate(&mut plugin, block, RenderMode::Offline);
    let latency = active.latency();
    let id = first_slot(&mut plugin);
    // Slot 1 is the default processor's gain (normalized 0.25 is 0.5, 0.5 is 1.0).
    let mut output = Vec::new();
    for index in 0..8 {
        let mut events = EventBuffer::new();
        match index {
            0 => events.push(&ParamValueEvent::new(100, id, Pckn::match_all(), 0.25)),
            2 => events.push(&ParamModEvent::new(300, id, Pckn::match_all(), 0.25)),
            4 => events.push(&ParamModEvent::new(200, id, Pckn::match_all(), 0.0)),
            _ => {}
        }
        output.extend(active.block(block, 0.5, &events).swap_remove(0));
    }
    active.stop(&mut plugin);
    let gain = |frame: usize| match frame {
        0..100 => 1.0,
        100..1324 => 0.5,
        1324..2248 => 1.0,
        _ => 0.5,
    };
    for frame in 0..output.len() - latency {
        let (got, want) = (output[frame + latency], 0.5 * gain(frame));
        assert!((got - want).abs() < 1e-6, "input frame {frame}: {got}, expected {want}");
    }
}

#[test]
fn a_state_loaded_while_active_is_played_saved_and_never_overwritten() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let mut active = activate(&mut plugin, 512, RenderMode::Offline);
    let none = EventBuffer::new();
    for _ in 0..20 {
        active.block(512, 0.5, &none);
    }
    let loaded = "registerProcessor('preset', class extends AudioWorkletProcessor {
      process(inputs, [output]) { for (const channel of output) channel.fill(0.125); return true; }
    });";
    load_processor(&mut plugin, loaded);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = active.block(512, 0.5, &none);
        if out[0].iter().all(|&s| (s - 0.125).abs() < 1e-6) {
            break;
        }
        assert!(Instant::now() < deadline, "the loaded state never played (last block starts {})", out[0][0]);
        std::thread::sleep(Duration::from_millis(2));
    }
    // The control thread saves on its own every so often; it must save the
    // loaded state, not the one it had before.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        active.block(512, 0.5, &none);
        std::thread::sleep(Duration::from_millis(5));
    }
    let handle = plugin.plugin_handle();
    let mut saved = Vec::new();
    handle.get_extension::<PluginState>().unwrap().save(&handle, &mut saved).unwrap();
    let field = state_json(&saved)["fields"]["worklet-state"].as_str().unwrap().to_owned();
    let text: String = serde_json::from_str(&field).unwrap();
    assert!(text.contains("channel.fill(0.125)"), "the saved state is the loaded one: {text}");
    active.stop(&mut plugin);
}

#[test]
fn the_bundles_process_path_never_touches_the_heap() {
    // SAFETY: the library is already loaded by the host below (same handle);
    // loading it runs no code beyond its initializers, as for any CLAP host.
    let library = unsafe { libloading::Library::new(bundle()) }.unwrap();
    let entry = entry();
    let mut plugin = instance(&entry);
    let id = first_slot(&mut plugin);
    let before = audio_thread_allocations(&library);
    for (mode, sizes) in
        [(RenderMode::Realtime, [1usize, 7, 128, 129, 500, 512]), (RenderMode::Offline, [512, 64, 3, 256, 511, 2])]
    {
        let mut active = activate(&mut plugin, 512, mode);
        for round in 0..60 {
            let mut events = EventBuffer::new();
            let size = sizes[round % sizes.len()];
            events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), (round % 10) as f64 / 10.0));
            if size > 2 {
                events.push(&ParamModEvent::new(size as u32 / 2, id, Pckn::match_all(), 0.05));
            }
            active.block(size, 0.25, &events);
            if round == 20 {
                // A hot swap, attached, faded and retired inside the checked calls.
                load_processor(&mut plugin, &worklet_tests::processors_dir_source("biquad.js"));
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        active.stop(&mut plugin);
    }
    assert_eq!(audio_thread_allocations(&library) - before, 0, "heap operations inside Worklet::process");
}

/// The fields of a process's or thread's `stat` after its name (field 3 on).
fn stat_after_name(dir: &std::path::Path) -> Option<String> {
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    Some(stat[stat.rfind(')')? + 2..].to_owned())
}

/// Render threads of this process: (tid, scheduling policy; 0 is normal).
fn render_threads() -> Vec<(String, u32)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("worklet-render") {
            continue;
        }
        let Some(stat) = stat_after_name(&task.path()) else { continue };
        let policy = stat.split(' ').nth(38).and_then(|p| p.parse().ok()).unwrap_or(u32::MAX);
        found.push((task.file_name().to_string_lossy().into_owned(), policy));
    }
    found
}

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// Plays `script` in real time until `played` blocks went by, then deactivates,
/// destroys the instance and unloads the library.
fn play_then_unload(script: &str, played: usize) {
    let entry = entry();
    let mut plugin = instance(&entry);
    load_processor(&mut plugin, script);
    let mut active = activate(&mut plugin, 256, RenderMode::Realtime);
    let none = EventBuffer::new();
    for _ in 0..played {
        active.block(256, 0.5, &none);
        std::thread::sleep(Duration::from_millis(5));
    }
    active.stop(&mut plugin);
    drop(plugin);
    drop(entry);
}

#[test]
fn scripts_that_never_finish_do_not_outlive_the_plugin() {
    // As shipped (engine processes), then with the engine in the host's process.
    for env in [&[][..], &[("WORKLET_ENGINE", "in-process")][..]] {
        let output = worklet_tests::in_own_process_with("clap_live::never_finishing_scripts", env);
        for line in output.lines().filter_map(|l| l.find("stuck:").map(|at| &l[at..])) {
            eprintln!("{line}");
        }
    }
}

/// Live child processes of this process (the plugin's engine processes).
fn child_processes() -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Some(stat) = stat_after_name(&entry.path()) else { continue };
        let mut fields = stat.split(' ');
        let (state, parent) = (fields.next(), fields.next().and_then(|p| p.parse::<u32>().ok()));
        if parent == Some(me) && state != Some("Z") {
            found.push(pid);
        }
    }
    found
}

/// Run by the test above in its own process: the thread stuck in native code
/// can only end with the process (its engine process's, or this one).
#[test]
#[ignore = "run in its own process by scripts_that_never_finish_do_not_outlive_the_plugin"]
fn never_finishing_scripts() {
    if !worklet_tests::own_process() {
        return;
    }
    let isolated = std::env::var_os("WORKLET_ENGINE").is_none();
    let mode = if isolated { "engine process" } else { "in process" };
    // An endless microtask chain: the checkpoint's budget stops it, the node
    // fails, and the thread ends with the instance.
    let chain = "registerProcessor('chain', class extends AudioWorkletProcessor {
      process() { const spin = () => Promise.resolve().then(spin); spin(); return true; }
    });";
    play_then_unload(chain, 60);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !render_threads().is_empty() || !child_processes().is_empty() {
        assert!(
            Instant::now() < deadline,
            "left after unloading: render threads {:?}, engine processes {:?}",
            render_threads(),
            child_processes()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("stuck ({mode}): endless microtask chain: nothing left after unload; {:.0} MB resident", resident_mb());
    let native = "registerProcessor('native', class extends AudioWorkletProcessor {
      process(i, [out]) { if (currentFrame >= 2560) /(a+)+b/.test('a'.repeat(40)); out[0].fill(0.5); return true; }
    });";
    if isolated {
        // Native code that backtracks for ages: its engine process is killed when
        // the plugin goes, so nothing of it is left in this process or beside it.
        play_then_unload(native, 60);
        assert!(render_threads().is_empty(), "no render thread in the host's process: {:?}", render_threads());
        let children = child_processes();
        assert!(children.is_empty(), "engine processes left after unloading: {children:?}");
        println!("stuck ({mode}): native backtracking: its engine process was killed at unload");
        return;
    }
    // Native code that backtracks for ages: the thread cannot be stopped, so it
    // is demoted and the library stays mapped under it.
    play_then_unload(native, 60);
    let threads = render_threads();
    assert_eq!(threads.len(), 1, "the stuck thread: {threads:?}");
    assert_eq!(threads[0].1, 0, "it runs with normal scheduling, not real-time");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(maps.contains("Worklet.clap"), "the library stays mapped while its thread runs");
    let before = resident_mb();
    std::thread::sleep(Duration::from_secs(2));
    let after = resident_mb();
    println!(
        "stuck ({mode}): native backtracking: 1 thread at normal priority, library pinned; {before:.0} MB then {after:.0} MB 2 s later"
    );
    assert!(after - before < 16.0, "memory grew from {before} MB to {after} MB");
}
