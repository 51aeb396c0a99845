//! The plugin's control thread: it builds generations from the saved state,
//! reports load errors with their location, falls back to the factory default
//! when nothing plays, maps parameters onto slots, and forwards the console.

use std::time::Duration;

use worklet::plugin::state::{SavedModule, SavedState, Sources};
use worklet::plugin::status::{Request, Status};
use worklet_tests::live::control;
use worklet_tests::wait_for;

fn state(text: &str) -> SavedState {
    SavedState { modules: vec![SavedModule::new("main.js", text)], ..SavedState::default() }
}

fn sources(text: &str) -> Sources {
    state(text).sources()
}

fn processor(status: &Status) -> Option<String> {
    status.processor.lock().unwrap().clone()
}

#[test]
fn a_broken_saved_script_is_reported_and_the_default_plays() {
    let broken = state("registerProcessor('x', class extends AudioWorkletProcessor {\n  process() { return (; }\n});");
    let (_host, params, status, _controller) = control(broken);
    wait_for("the fallback", || processor(&status).is_some());
    let error = status.error().expect("the error is kept for the user");
    assert!(error.starts_with("main.js:2:"), "{error}");
    assert!(error.contains("SyntaxError"), "{error}");
    assert_eq!(processor(&status).as_deref(), Some("gain"), "the factory default plays");

    // Fixing the script swaps it in, clears the error and maps its parameters.
    status.request(Request::Apply(sources(
        "registerProcessor('fixed', class extends AudioWorkletProcessor {
           static parameterDescriptors = [{ name: 'drive', defaultValue: 2, minValue: 0, maxValue: 10 }];
           constructor() { super(); console.info('ready'); }
           process() { return true; }
         });",
    )));
    wait_for("the fixed processor", || processor(&status).as_deref() == Some("fixed"));
    assert_eq!(status.error(), None);
    assert_eq!(params.table.text(0, 0.5), "drive: 2.0", "slot 1 carries the new descriptor");
    wait_for("the console line", || status.console_lines().iter().any(|line| line.to_string() == "info: ready"));
    wait_for("the saved mapping", || {
        let saved = params.state.text();
        SavedState::parse(&saved).is_ok_and(|s| s.slots == [("drive".to_owned(), 0)])
    });
}

#[test]
fn a_failed_edit_keeps_the_playing_processor() {
    let (_host, _params, status, _controller) = control(SavedState::default());
    wait_for("the default", || processor(&status).as_deref() == Some("gain"));
    status.request(Request::Apply(sources(
        "registerProcessor('x', class extends AudioWorkletProcessor {\n  constructor() { super(); null.boom; }\n});",
    )));
    wait_for("the error", || status.error().is_some());
    let error = status.error().unwrap();
    assert!(error.starts_with("main.js:2:") && error.contains("TypeError"), "{error}");
    assert_eq!(processor(&status).as_deref(), Some("gain"), "still playing the last good processor");
}

#[test]
fn a_state_the_host_loads_while_running_is_built_shown_and_kept() {
    use nice_plug::params::persist::PersistentField;
    let (_host, params, status, _controller) = control(SavedState::default());
    wait_for("the default", || processor(&status).as_deref() == Some("gain"));
    let (revision, _) = status.external();
    let preset = "registerProcessor('preset', class extends AudioWorkletProcessor { process() { return true; } });";
    params.state.set(state(preset).to_json());
    wait_for("the loaded processor", || processor(&status).as_deref() == Some("preset"));
    let (shown_revision, shown) = status.external();
    assert!(shown_revision > revision, "the editor is told the sources changed");
    assert_eq!(shown, Some(sources(preset)), "and shows the loaded ones");
    // The control thread's own saves keep the loaded state.
    std::thread::sleep(Duration::from_millis(300));
    let saved = SavedState::parse(&params.state.text()).unwrap();
    assert_eq!(saved.modules[0].text, preset);
}
