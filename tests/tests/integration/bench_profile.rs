//! `worklet bench --profile`: the per-quantum split, garbage collection and heap
//! use measured in the bare loop, and the slow patterns located in `process()`.

use std::fs;

use serde_json::Value;
use worklet_tests::{cli, processor, repo, scratch};

/// Every slow pattern the hints know, and the forms that must not be reported
/// (a constructor, a loop over channels, lazy initialisation, a method call, a
/// short loop inside a sample loop, an event loop).
const SLOW: &str = "\
class Slow extends AudioWorkletProcessor {
  constructor() {
    super();
    this.gain = 0.5;
    this.state = [];
  }
  helper(x) { return x; }
  process(inputs, outputs) {
    const output = outputs[0];
    const scratch = new Float32Array(128);
    for (let c = 0; c < output.length; c++) {
      const y = output[c];
      const s = this.state[c] ?? (this.state[c] = [0]);
      for (let i = 0; i < y.length; i++) {
        y[i] = Math.sin(i) * this.gain + this.helper(s[0]) + scratch[i];
      }
    }
    const [first] = inputs;
    for (const x of output) x[0] += 0;
    for (let i = 0; i < 128; i++) {
      const g = sampleRate;
      for (let c = 0; c < 2; c++) output[c][i] *= g;
    }
    while (inputs.indexOf(null) >= 0) this.frame = 1;
    return true;
  }
}
registerProcessor('slow', Slow);
";

/// Leaves garbage behind on every call, so that the collector runs.
const GARBAGE: &str = "\
registerProcessor('garbage', class extends AudioWorkletProcessor {
  process() {
    const junk = [];
    for (let k = 0; k < 200; k++) junk.push({ k });
    return true;
  }
});
";

fn profile(args: &[&str]) -> Value {
    let mut all = vec!["bench", "--profile", "--json", "--seconds", "1"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = cli(&all);
    assert_eq!(status, 0, "{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// 1-based line and column of `needle` on the line that holds `context`.
fn at(source: &str, context: &str, needle: &str) -> (u64, u64) {
    let (index, line) = source.lines().enumerate().find(|(_, l)| l.contains(context)).expect("context");
    let column = line[..line.find(needle).expect("needle")].chars().count();
    (index as u64 + 1, column as u64 + 1)
}

#[test]
fn hints_point_at_each_slow_pattern_in_process_and_nothing_else() {
    let dir = scratch("profile-hints");
    let path = dir.join("slow.js");
    fs::write(&path, SLOW).unwrap();
    let file = path.display().to_string();
    let report = profile(&[&file]);
    assert_eq!(report["processor"], "slow");
    let hints: Vec<(u64, u64, String)> = report["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            assert_eq!(h["file"], file.as_str());
            (h["line"].as_u64().unwrap(), h["col"].as_u64().unwrap(), h["kind"].as_str().unwrap().to_owned())
        })
        .collect();
    let (sample_loop, body) = ("i < y.length", "Math.sin(i)");
    let expected = vec![
        with(at(SLOW, "new Float32Array", "new"), "allocation"),
        with(at(SLOW, sample_loop, "y.length"), "length-in-loop"),
        with(at(SLOW, body, "Math"), "global-in-loop"),
        with(at(SLOW, body, "this.gain"), "this-in-loop"),
        with(at(SLOW, "const [first]", "[first]"), "allocation"),
        with(at(SLOW, "const x of output", "output"), "allocation"),
        with(at(SLOW, "const g = sampleRate", "sampleRate"), "global-in-loop"),
    ];
    assert_eq!(hints, expected, "{report}");
    assert_eq!(report["hints_left_out"], 0);
    let texts: Vec<&str> = report["hints"].as_array().unwrap().iter().map(|h| h["text"].as_str().unwrap()).collect();
    assert!(texts[1].contains("for (let i = 0, n = y.length; i < n; i++)"), "{}", texts[1]);
    assert!(texts[2].contains("const sin = Math.sin"), "{}", texts[2]);

    // The human form is FILE:LINE:COL, as compilers print.
    let (status, stdout, stderr) = cli(&["bench", "--profile", "--seconds", "0.2", &file]);
    assert_eq!(status, 0, "{stderr}");
    let (line, col) = at(SLOW, sample_loop, "y.length");
    assert!(stdout.contains(&format!("{file}:{line}:{col}: `y.length` is read")), "{stdout}");
}

fn with((line, col): (u64, u64), kind: &str) -> (u64, u64, String) {
    (line, col, kind.to_owned())
}

#[test]
fn the_factory_library_is_in_the_fast_style() {
    // These post a report every few quanta; posting serializes it.
    let posting = ["compressor.js", "ducker.js", "level-meter.js", "scope.js"];
    let mut files: Vec<_> = fs::read_dir(repo().join("processors"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let report = profile(&[path.to_str().unwrap()]);
        let hints = report["hints"].as_array().unwrap();
        if name == "scope.js" {
            // It transfers its buffer to the main side, so it needs a new one per snapshot.
            assert!(hints.iter().all(|h| h["kind"] == "allocation"
                && h["text"].as_str().unwrap().contains("each time this branch")), "{name}: {report}");
        } else {
            assert!(hints.is_empty(), "{name}: {report}");
        }
        if !posting.contains(&name.as_str()) {
            assert_eq!(report["heap_ops_max"], 0, "{name} touched the heap inside process(): {report}");
            assert_eq!(report["gc"]["collections"], 0, "{name} left garbage: {report}");
        }
    }
}

#[test]
fn the_split_adds_up_to_the_quantum() {
    let report = profile(&[&processor("biquad.js")]);
    assert_eq!(report["quanta"], 375, "1 s at 48 kHz");
    let stages = &report["stages_us"];
    let sum: f64 = ["tasks", "before", "process", "after", "microtasks", "routing"]
        .iter()
        .map(|stage| {
            let us = stages[stage].as_f64().unwrap();
            assert!(us >= 0.0, "{stage}: {us}");
            us
        })
        .sum();
    let quantum = report["quantum_us"].as_f64().unwrap();
    assert!((sum - quantum).abs() <= 0.02 * quantum, "stages {sum} µs, quantum {quantum} µs");
    let process = stages["process"].as_f64().unwrap();
    assert!(process > 0.5 * quantum, "a biquad's time is its own: {process} of {quantum} µs");
    let p = &report["process_us"];
    assert!(p["p50"].as_f64() <= p["p99"].as_f64() && p["p99"].as_f64() <= p["max"].as_f64(), "{p}");
}

#[test]
fn collections_and_heap_use_inside_process_are_measured() {
    let dir = scratch("profile-garbage");
    let path = dir.join("garbage.js");
    fs::write(&path, GARBAGE).unwrap();
    let garbage = profile(&[path.to_str().unwrap()]);
    let clean = profile(&[&processor("gain.js")]);
    let gc = &garbage["gc"];
    assert!(gc["collections"].as_u64().unwrap() >= 1, "{garbage}");
    let share = gc["share"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&share), "{garbage}");
    // 200 objects and the array that holds them, on every call.
    let (heap, baseline) =
        (garbage["heap_ops_per_call"].as_f64().unwrap(), clean["heap_ops_per_call"].as_f64().unwrap());
    assert!(heap >= baseline + 200.0, "{heap} heap operations per call, against {baseline}");
    assert!(garbage["heap_ops_max"].as_u64().unwrap() as f64 >= heap);
}

#[test]
fn native_calls_in_process_do_not_allocate() {
    let dir = scratch("profile-native");
    let path = dir.join("sine.js");
    fs::write(
        &path,
        "registerProcessor('sine', class extends AudioWorkletProcessor {
           process(inputs, outputs) {
             const y = outputs[0][0];
             const sin = Math.sin;
             for (let i = 0, n = y.length; i < n; i++) y[i] = sin(i * 0.01) + Math.max(i, 1, 2);
             return true;
           }
         });",
    )
    .unwrap();
    let report = profile(&[path.to_str().unwrap()]);
    // 256 native calls per quantum: what the call into process() itself makes, no more.
    let heap = report["heap_ops_per_call"].as_f64().unwrap();
    assert!(heap < 16.0, "{heap} heap operations for 256 native calls: {report}");
}
