//! What the editor drives on the control thread, with a host thread playing:
//! applying sources hot-swaps them and keeps the old sound when they fail (the
//! error marked at its line), posts reach the processor and answers reach the
//! console, linked files reload when saved elsewhere, and the meters see the
//! audio.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};
use worklet::plugin::controller::Controller;
use worklet::plugin::params::WorkletParams;
use worklet::plugin::state::{SavedModule, SavedState, Sources};
use worklet::plugin::status::{Request, Status};
use worklet::port::NODE_PORT;
use worklet::render::{GenerationState, HostSide};
use worklet_tests::live::control;
use worklet_tests::wait_for;

/// A host that plays a 0.5-amplitude 441 Hz sine through the plugin in real time.
struct Host {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Host {
    fn start(mut host: HostSide) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut phase = 0usize;
            let mut left = vec![0.0_f32; 128];
            let mut out = [vec![0.0_f32; 128], vec![0.0_f32; 128]];
            while !flag.load(Ordering::Acquire) {
                for sample in &mut left {
                    *sample = 0.5 * (std::f32::consts::TAU * 441.0 * phase as f32 / 48_000.0).sin();
                    phase += 1;
                }
                let [a, b] = &mut out;
                host.process(&[&left, &left], &mut [a, b], &[]);
                std::thread::sleep(Duration::from_micros(2_600));
            }
        });
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Rig {
    status: Arc<Status>,
    params: Arc<WorkletParams>,
    _controller: Controller,
    _host: Host,
}

fn rig() -> Rig {
    let (host, params, status, controller) = control(SavedState::default());
    let rig = Rig { status, params, _controller: controller, _host: Host::start(host) };
    wait_for("the default processor", || rig.status.processor().as_deref() == Some("gain"));
    rig
}

fn sources(text: &str) -> Sources {
    Sources { modules: vec![SavedModule::new("main.js", text)], processor: None, options: Value::Null }
}

fn console(status: &Status) -> Vec<String> {
    status.console_lines().iter().map(ToString::to_string).collect()
}

const HALF: &str = "registerProcessor('half', class extends AudioWorkletProcessor {
  process([input], [output]) {
    input.forEach((channel, c) => channel.forEach((x, i) => { output[c][i] = 0.5 * x; }));
    return true;
  }
});
";

#[test]
fn an_applied_edit_plays_and_a_broken_one_is_marked_while_the_old_sound_stays() {
    let rig = rig();
    let telemetry = rig.status.telemetry().expect("the controller publishes its telemetry");
    assert!(rig.status.request(Request::Apply(sources(HALF))));
    wait_for("the new processor", || rig.status.processor().as_deref() == Some("half"));
    assert_eq!(rig.status.good(), Some(sources(HALF)), "the last good sources are kept for revert");
    let playing = telemetry.active_generation();
    wait_for("the host to hear it", || telemetry.active_generation() > 1);
    let playing = playing.max(telemetry.active_generation());

    let broken = HALF.replace("return true;", "return (;");
    assert!(rig.status.request(Request::Apply(sources(&broken))));
    wait_for("the error", || rig.status.script_error().is_some());
    let error = rig.status.script_error().unwrap();
    assert_eq!((error.name.as_str(), error.filename.as_str(), error.lineno), ("SyntaxError", "main.js", 4));
    assert_eq!(rig.status.processor().as_deref(), Some("half"), "the old processor keeps playing");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(telemetry.active_generation(), playing, "the host still plays the last good generation");
    assert_eq!(telemetry.state(), GenerationState::Running);
    let saved = SavedState::parse(&rig.params.state.text()).unwrap();
    assert_eq!(saved.modules[0].text, broken, "the broken edit is saved, not lost");

    // Input 0.5 through 'half' is 0.25 on the output meters.
    telemetry.take_peaks();
    std::thread::sleep(Duration::from_millis(100));
    let peaks = telemetry.take_peaks();
    assert!((peaks.input[0] - 0.5).abs() < 0.01, "{peaks:?}");
    assert!((peaks.output[0] - 0.25).abs() < 0.01, "{peaks:?}");
}

#[test]
fn a_process_exception_is_marked_at_its_line() {
    let rig = rig();
    let throwing =
        "registerProcessor('t', class extends AudioWorkletProcessor {\n  process() {\n    undefined.x;\n  }\n});";
    rig.status.request(Request::Apply(sources(throwing)));
    wait_for("the processor error", || rig.status.script_error().is_some());
    let error = rig.status.script_error().unwrap();
    assert_eq!((error.filename.as_str(), error.lineno, error.name.as_str()), ("main.js", 3, "TypeError"));
    assert!(
        console(&rig.status).iter().any(|l| l.starts_with("processorerror: main.js:3:")),
        "{:?}",
        console(&rig.status)
    );
}

#[test]
fn the_mdn_ping_pong_answers_in_the_console() {
    let rig = rig();
    let text = std::fs::read_to_string(worklet_tests::processor("ping-pong.js")).unwrap();
    let mut ping_pong = sources(&text);
    ping_pong.modules[0].name = "ping-pong.js".into();
    rig.status.request(Request::Apply(ping_pong));
    wait_for("ping-pong", || rig.status.processor().as_deref() == Some("ping-pong-processor"));
    rig.status.request(Request::Post { port: NODE_PORT, data: json!("ping") });
    wait_for("the pong", || console(&rig.status).iter().any(|l| l == "node.port ← \"pong\""));
    let lines = console(&rig.status);
    let sent = lines.iter().position(|l| l == "node.port → \"ping\"").expect("the post is echoed");
    let logged = lines.iter().position(|l| l == "log: ping").expect("console.log(e.data)");
    let pong = lines.iter().position(|l| l == "node.port ← \"pong\"").unwrap();
    assert!(sent < logged && logged < pong, "{lines:?}");
}

#[test]
fn a_linked_file_saved_elsewhere_reloads_and_a_missing_one_keeps_its_copy() {
    let rig = rig();
    let path = worklet_tests::scratch("linked").join("linked.js");
    std::fs::write(&path, HALF).unwrap();
    let mut linked = sources(HALF);
    linked.modules[0].path = Some(path.display().to_string());
    rig.status.request(Request::Apply(linked));
    wait_for("the linked processor", || rig.status.processor().as_deref() == Some("half"));
    let (revision, _) = rig.status.external();

    std::fs::write(&path, HALF.replace("'half'", "'edited-elsewhere'")).unwrap();
    wait_for("the reload", || rig.status.processor().as_deref() == Some("edited-elsewhere"));
    let (new_revision, external) = rig.status.external();
    assert!(new_revision > revision, "the editor is told");
    assert!(external.unwrap().modules[0].text.contains("edited-elsewhere"));
    let saved = SavedState::parse(&rig.params.state.text()).unwrap();
    assert!(saved.modules[0].text.contains("edited-elsewhere"), "the project keeps a copy");
    assert_eq!(saved.modules[0].path.as_deref(), Some(path.to_str().unwrap()));

    std::fs::remove_file(&path).unwrap();
    wait_for("the note", || console(&rig.status).iter().any(|l| l.contains("keeping its saved copy")));
    assert_eq!(rig.status.processor().as_deref(), Some("edited-elsewhere"));
}

#[test]
fn a_full_request_queue_drops_and_counts() {
    let status = Status::default();
    let accepted = (0..300).filter(|_| status.request(Request::Post { port: NODE_PORT, data: json!(1) })).count();
    assert_eq!(accepted, worklet::plugin::status::REQUEST_CAPACITY);
    assert_eq!(status.dropped_requests(), 300 - accepted as u64);
}
