//! The hostile-script corpus (`tests/data/hostile`): every script runs through
//! `worklet render --isolated`, in an engine process of its own with the default
//! 1 GiB memory cap, and must end the way its `.expect` file
//! says: the exit status, and text that stderr or the events must (or must not)
//! contain. The command itself must always come back: no script may take it down
//! or hold it past the watchdog.
//!
//! Each case is `NAME.js`, `NAME.expect` (`// expect-exit: N`, `// expect-stderr:
//! TEXT`, `// expect-event: TEXT`, `// expect-no-event: TEXT`, one per line) and
//! optionally `NAME.args` (extra arguments, one per line). The watchdog allows
//! 20 s per quantum, so that slow but bounded cases (floods, a 100,000-job
//! microtask checkpoint) finish on a busy machine; the cases meant for the watchdog
//! set `--deadline 2` in their `.args`.
//!
//! Runs the release `worklet` binary (built by `cargo xtask bundle worklet --release`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Longer than any case can take with the watchdog working; a case that takes longer hung.
const HUNG: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub(crate) struct Expected {
    pub(crate) exit: Option<i32>,
    stderr: Vec<String>,
    events: Vec<String>,
    no_events: Vec<String>,
}

pub(crate) fn expected(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut expected = Expected::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line
            .strip_prefix("// expect-")
            .and_then(|rest| rest.split_once(": "))
            .unwrap_or_else(|| panic!("{}: not an expectation: {line}", path.display()));
        match key {
            "exit" => expected.exit = Some(value.parse().expect("an exit status")),
            "stderr" => expected.stderr.push(value.to_owned()),
            "event" => expected.events.push(value.to_owned()),
            "no-event" => expected.no_events.push(value.to_owned()),
            other => panic!("{}: unknown expectation '{other}'", path.display()),
        }
    }
    assert!(expected.exit.is_some(), "{}: every case names its exit status", path.display());
    expected
}

/// Runs one case; returns what differs from its expectation.
fn run_case(binary: &Path, script: &Path) -> Vec<String> {
    let expected = expected(&script.with_extension("expect"));
    let extra: Vec<String> = std::fs::read_to_string(script.with_extension("args"))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    let started = Instant::now();
    let output = Command::new(binary)
        .arg("render")
        .arg(script.file_name().expect("a file"))
        .args(["--frames", "1280", "--isolated", "--events", "-"])
        .args(if extra.iter().any(|a| a == "--deadline") { &[][..] } else { &["--deadline", "20"][..] })
        .args(&extra)
        .current_dir(script.parent().expect("a folder"))
        .output()
        .expect("the worklet binary runs");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut wrong = Vec::new();
    if output.status.code() != expected.exit {
        wrong.push(format!("exit status {:?}, expected {:?}", output.status, expected.exit));
    }
    wrong
        .extend(expected.stderr.iter().filter(|t| !stderr.contains(t.as_str())).map(|t| format!("stderr lacks {t:?}")));
    wrong.extend(expected.events.iter().filter(|t| !stdout.contains(t.as_str())).map(|t| format!("events lack {t:?}")));
    wrong.extend(
        expected.no_events.iter().filter(|t| stdout.contains(t.as_str())).map(|t| format!("events have {t:?}")),
    );
    if took > HUNG {
        wrong.push(format!("took {took:?}: the command was held past the watchdog"));
    }
    if !wrong.is_empty() {
        let tail = |text: &str| {
            text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n      ")
        };
        wrong.push(format!("stderr ends:\n      {}\n    events end:\n      {}", tail(&stderr), tail(&stdout)));
    }
    wrong
}

/// The corpus's scripts, sorted.
pub(crate) fn corpus() -> Vec<PathBuf> {
    let folder = worklet_tests::repo().join("tests/data/hostile");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the corpus folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    scripts.sort();
    scripts
}

#[test]
fn every_hostile_script_ends_as_expected_and_the_command_comes_back() {
    let binary = worklet_tests::worklet_binary();
    let scripts = corpus();
    assert!(scripts.len() >= 30, "the corpus has {} cases", scripts.len());
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(script) = scripts.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let wrong = run_case(&binary, script);
                    if !wrong.is_empty() {
                        let name = script.file_name().unwrap_or_default().to_string_lossy().into_owned();
                        failures.lock().expect("not poisoned").push(format!("{name}:\n    {}", wrong.join("\n    ")));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), scripts.len(), failures.join("\n"));
}

#[test]
fn a_render_in_the_commands_own_process_has_a_watchdog_too() {
    // Without --isolated there is no engine process to kill, but the script can
    // still be interrupted where it runs, and the command says where.
    let binary = worklet_tests::worklet_binary();
    let corpus = worklet_tests::repo().join("tests/data/hostile");
    let render = |folder: &Path, script: &str| {
        let started = Instant::now();
        let output = Command::new(&binary)
            .args(["render", script, "--frames", "1280", "--deadline", "1", "--events", "-"])
            .current_dir(folder)
            .output()
            .expect("the worklet binary runs");
        assert!(started.elapsed() < HUNG, "{script}: the command was held past the watchdog");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (output.status.code(), text(&output.stdout), text(&output.stderr))
    };

    let (status, events, stderr) = render(&corpus, "loop-exponential-calls.js");
    assert_eq!(status, Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "loop-exponential-calls.js: stopped: no render quantum finished for 1 s at loop-exponential-calls.js:2:"
        ),
        "{stderr}"
    );
    assert!(events.contains("the watchdog stopped the script") && events.contains(r#""lineno":2"#), "{events}");

    let folder = worklet_tests::scratch("in-process-watchdog");
    std::fs::write(folder.join("load.js"), "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }\nfib(60)\n")
        .unwrap();
    let (status, _, stderr) = render(&folder, "load.js");
    assert_eq!(status, Some(2), "a module stopped while loading fails to load: {stderr}");
    assert!(stderr.contains("load.js:1:") && stderr.contains("the watchdog stopped the script"), "{stderr}");
}
