//! Shared helpers for Worklet's integration tests: build a scope from source text,
//! render offline, run the CLI in-process, compare audio with a tolerance.

use std::path::PathBuf;

pub mod live;

use serde_json::Value;
use worklet::engine::{MainEvent, PortName, Realm, RealmConfig, RenderSpec, Rendered, ScriptError, render};

/// The sample rate the helpers use unless told otherwise.
pub const RATE: f64 = 48_000.0;

/// A realm at [`RATE`] with `source` loaded as the in-memory module `test.js`.
pub fn realm(source: &str) -> Realm {
    try_realm(source).unwrap_or_else(|e| panic!("module failed to load: {e}"))
}

/// Like [`realm`], but returns the load error.
pub fn try_realm(source: &str) -> Result<Realm, ScriptError> {
    let mut realm = Realm::new(&RealmConfig::new(RATE))?;
    realm.add_module_source("test.js", source)?;
    Ok(realm)
}

/// Loads `source` and renders `spec`.
pub fn render_source(source: &str, spec: &RenderSpec) -> Rendered {
    let realm = realm(source);
    render(realm, spec, &mut |_| {}).unwrap_or_else(|e| panic!("render failed: {e}"))
}

/// A spec of `frames` frames with nothing connected to the input.
pub fn spec(frames: u64) -> RenderSpec {
    RenderSpec { frames, ..RenderSpec::default() }
}

/// The texts of the console events, in order.
pub fn console(rendered: &Rendered) -> Vec<String> {
    rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Console { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// `(frame, port, data)` of every message event, in order.
pub fn messages(rendered: &Rendered) -> Vec<(u64, PortName, Value)> {
    rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Message { port, data, .. } => Some((e.frame, *port, data.clone())),
            _ => None,
        })
        .collect()
}

/// The data of every message event, in order.
pub fn message_data(rendered: &Rendered) -> Vec<Value> {
    messages(rendered).into_iter().map(|(_, _, data)| data).collect()
}

/// `(frame, message, filename, lineno, colno)` of every processorerror.
pub fn processor_errors(rendered: &Rendered) -> Vec<(u64, String, String, u32, u32)> {
    rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Processorerror { message, filename, lineno, colno } => {
                Some((e.frame, message.clone(), filename.clone(), *lineno, *colno))
            }
            _ => None,
        })
        .collect()
}

/// Runs the `worklet` CLI in-process: `(status, stdout, stderr)`.
pub fn cli(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = worklet::cli::run(std::iter::once("worklet").chain(args.iter().copied()), &mut out, &mut err);
    (status, String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

/// The release `worklet` binary (built by `cargo xtask bundle worklet --release`).
pub fn worklet_binary() -> PathBuf {
    let path = repo().join("target/release/worklet");
    assert!(path.is_file(), "{} is missing: run `cargo xtask bundle worklet --release` first", path.display());
    path
}

/// The repository's top folder.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A processor file of the factory library, as a string path.
pub fn processor(name: &str) -> String {
    repo().join("processors").join(name).display().to_string()
}

/// A fresh, empty folder for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("worklet-tests-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// Asserts two signals have the same length and differ by at most `tolerance`.
#[track_caller]
pub fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    for (frame, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tolerance, "frame {frame}: got {a}, expected {e} (tolerance {tolerance})");
    }
}

/// A node instance driven one quantum at a time on the test's thread, with the
/// main side's ports in hand (nothing is connected to the input).
pub struct Harness {
    /// The main side: `node.port`, `audioWorklet.port` and transferred ports.
    pub main: worklet::port::MainPorts,
    /// The realm, node and router.
    pub instance: worklet::engine::Instance,
    frame: u64,
    inputs: worklet::engine::AudioBuses,
    outputs: worklet::engine::AudioBuses,
    params: worklet::engine::ParamFrame,
}

impl Harness {
    /// Loads `source`, constructs its first processor and delivers what the
    /// constructor sent.
    pub fn new(source: &str) -> Self {
        Self::with_options(source, &worklet::engine::NodeOptions::default())
    }

    /// [`Harness::new`] with these node options.
    pub fn with_options(source: &str, options: &worklet::engine::NodeOptions) -> Self {
        let mut realm = realm(source);
        let name = worklet::engine::offline::first_processor(&mut realm).expect("a processor is registered");
        let (main, router) = worklet::port::channel_pair();
        let instance = worklet::engine::Instance::new(realm, router, &name, options, &[Some(1)]).expect("node");
        let inputs = worklet::engine::AudioBuses::silent(instance.node().input_channels());
        let outputs = worklet::engine::AudioBuses::silent(instance.node().output_channels());
        let params = worklet::engine::ParamFrame::constant(instance.node().initial_values());
        Self { main, instance, frame: 0, inputs, outputs, params }
    }

    /// Runs the tasks and one quantum, then returns what the main side received.
    pub fn quantum(&mut self) -> Vec<worklet::port::Received> {
        self.render_only();
        self.drain()
    }

    /// Runs the tasks and one quantum; what it sends stays in the queue.
    pub fn render_only(&mut self) {
        self.instance.set_frame(self.frame);
        self.instance.run_tasks();
        self.instance.render(&self.inputs, &self.params, &mut self.outputs);
        self.frame += worklet::engine::RENDER_QUANTUM as u64;
    }

    /// What the main side has received so far.
    pub fn drain(&mut self) -> Vec<worklet::port::Received> {
        std::iter::from_fn(|| self.main.try_receive()).collect()
    }

    /// The last output quantum.
    pub fn output(&self) -> &worklet::engine::AudioBuses {
        &self.outputs
    }
}

/// The data of the message items, in order (other items skipped).
pub fn received_data(items: &[worklet::port::Received]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| match item {
            worklet::port::Received::Message { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect()
}

/// The source text of a processor in `processors/`.
pub fn processors_dir_source(name: &str) -> String {
    std::fs::read_to_string(processor(name)).expect("processor file")
}

/// Polls `done` every 5 ms until it holds; fails after 30 s naming `what`.
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Set in a test process started by [`in_own_process`].
pub const OWN_PROCESS: &str = "WORKLET_TEST_OWN_PROCESS";

/// Runs the ignored test `name` (its full path, e.g. `stuck::child`) in a new
/// process of this test binary and returns its output; panics if it fails.
/// For tests that leave a thread running that nothing can stop: the process
/// ends it, and the rest of the suite does not share a core with it.
pub fn in_own_process(name: &str) -> String {
    in_own_process_with(name, &[])
}

/// [`in_own_process`] with more environment variables for the new process.
pub fn in_own_process_with(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new(exe)
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
        .env(OWN_PROCESS, "1")
        .envs(env.iter().copied())
        .output()
        .expect("start the test binary");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains("1 passed"), "{name} failed in its own process:\n{text}");
    text
}

/// Whether this is a process started by [`in_own_process`] (an ignored test's
/// body returns early otherwise, so `--ignored` alone runs nothing harmful).
pub fn own_process() -> bool {
    std::env::var_os(OWN_PROCESS).is_some()
}

/// `new Uint8Array([...])`: JavaScript source for the bytes of a wasm module.
pub fn js_bytes(bytes: &[u8]) -> String {
    let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
    format!("new Uint8Array([{}])", list.join(","))
}

/// A SysEx message of `len` bytes (at least 2): `F0`, a pattern of data bytes
/// that depends on `seed`, `F7`.
pub fn sysex(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) & 0x7f).collect();
    (bytes[0], bytes[len - 1]) = (0xf0, 0xf7);
    bytes
}
