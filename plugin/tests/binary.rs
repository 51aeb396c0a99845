//! The `worklet` binary as a shell runs it: exit statuses and output streams.

use std::path::PathBuf;
use std::process::Command;

fn worklet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_worklet")).args(args).output().expect("the worklet binary runs")
}

fn processor(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../processors").join(name).display().to_string()
}

#[test]
fn ping_pong_events_go_to_stdout_and_exit_0() {
    let output =
        worklet(&["render", &processor("ping-pong.js"), "--post", "0:\"ping\"", "--events", "-", "--frames", "256"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(r#"{"frame":128,"type":"message","port":"node","data":"pong"}"#), "{stdout}");
}

#[test]
fn a_syntax_error_exits_2_with_its_location_on_stderr() {
    let dir = std::env::temp_dir().join(format!("worklet-binary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.js");
    std::fs::write(&file, "registerProcessor('x', class {\n  process() { return 1 +; }\n});\n").unwrap();
    let output = worklet(&["render", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with(&format!("{}:2:", file.display())), "{stderr}");
    assert!(stderr.contains("SyntaxError"), "{stderr}");
}

#[test]
fn an_unwritable_output_exits_1() {
    let output = worklet(&["render", &processor("gain.js"), "--frames", "128", "--out", "/nonexistent/dir/x.wav"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_usage_error_exits_2() {
    assert_eq!(worklet(&["render"]).status.code(), Some(2));
    assert_eq!(worklet(&["frobnicate"]).status.code(), Some(2));
}
