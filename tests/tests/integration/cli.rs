//! The `worklet` CLI contract, run in-process through `worklet::cli::run`.

use std::fs;

use serde_json::{Value, json};
use worklet_tests::{cli, processor, scratch};

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).expect("each events line is JSON")).collect()
}

#[test]
fn ping_pong_answers_pong_to_a_post_at_frame_zero() {
    let (status, stdout, stderr) =
        cli(&["render", &processor("ping-pong.js"), "--post", "0:\"ping\"", "--events", "-"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        events(&stdout),
        [
            json!({"frame": 128, "type": "console", "level": "log", "text": "ping"}),
            json!({"frame": 128, "type": "message", "port": "node", "data": "pong"}),
        ]
    );
}

#[test]
fn a_syntax_error_exits_2_with_file_line_and_column() {
    let dir = scratch("cli-syntax");
    let file = dir.join("broken.js");
    fs::write(
        &file,
        "registerProcessor('a', class extends AudioWorkletProcessor {\n  process() { return true }\n}) )\n",
    )
    .unwrap();
    let (status, stdout, stderr) = cli(&["render", file.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stdout.is_empty());
    let prefix = format!("{}:3:", file.display());
    assert!(stderr.starts_with(&prefix), "{stderr}");
    assert!(stderr.contains(": SyntaxError: "), "{stderr}");
    let (status, _, stderr) = cli(&["check", file.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.starts_with(&prefix), "{stderr}");
}

#[test]
fn check_prints_processors_and_descriptors() {
    let (status, stdout, stderr) = cli(&["check", &processor("gain.js"), &processor("biquad.js")]);
    assert_eq!(status, 0, "{stderr}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> =
        value["processors"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gain", "biquad"]);
    assert_eq!(
        value["processors"][0]["parameterDescriptors"],
        json!([{"name": "gain", "defaultValue": 1, "minValue": 0, "maxValue": 4, "automationRate": "a-rate"}])
    );
    assert_eq!(value["processors"][1]["parameterDescriptors"][1]["automationRate"], "k-rate");
}

#[test]
fn out_writes_a_float_wav_of_the_first_output() {
    let dir = scratch("cli-out");
    let out = dir.join("out.wav");
    let args = [
        "render",
        &processor("gain.js"),
        "--input-signal",
        "dc:0.5",
        "--channels",
        "3",
        "--frames",
        "1000",
        "--param",
        "gain=2",
        "--sample-rate",
        "44100",
        "--out",
        out.to_str().unwrap(),
    ];
    let (status, _, stderr) = cli(&args);
    assert_eq!(status, 0, "{stderr}");
    let mut reader = hound::WavReader::open(&out).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (3, 44_100, 32));
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    let samples: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(samples.len(), 3000);
    assert!(samples.iter().all(|&s| (s - 1.0).abs() < 1e-7));
}

#[test]
fn input_wav_sets_rate_and_length() {
    let dir = scratch("cli-input");
    let input = dir.join("in.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&input, spec).unwrap();
    for n in 0..500 {
        writer.write_sample(if n % 2 == 0 { 16_384i16 } else { -16_384 }).unwrap();
    }
    writer.finalize().unwrap();
    let source = dir.join("rate.js");
    fs::write(&source, "registerProcessor('r', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(sampleRate); } process(i, o) { o[0][0].set(i[0][0]); return true; } });").unwrap();
    let out = dir.join("out.wav");
    let (status, stdout, stderr) = cli(&[
        "render",
        source.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--events",
        "-",
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(events(&stdout)[0]["data"], json!(22050));
    let reader = hound::WavReader::open(&out).unwrap();
    assert_eq!((reader.spec().sample_rate, reader.duration()), (22_050, 500));
    let samples: Vec<f32> = reader.into_samples::<f32>().map(Result::unwrap).collect();
    assert!((samples[0] - 0.5).abs() < 1e-6 && (samples[1] + 0.5).abs() < 1e-6);
}

#[test]
fn events_go_to_a_file_and_post_global_reaches_the_scope_port() {
    let dir = scratch("cli-events");
    let source = dir.join("global.js");
    fs::write(
        &source,
        "let volume = 1;
         port.onmessage = (e) => { volume = e.data.volume; port.postMessage({ got: volume }); };
         registerProcessor('v', class extends AudioWorkletProcessor { process() { return true; } });",
    )
    .unwrap();
    let log = dir.join("events.jsonl");
    let (status, stdout, stderr) = cli(&[
        "render",
        source.to_str().unwrap(),
        "--post-global",
        "256:{\"volume\":0.8}",
        "--events",
        log.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.is_empty());
    let lines = events(&fs::read_to_string(&log).unwrap());
    assert_eq!(lines, [json!({"frame": 384, "type": "message", "port": "global", "data": {"got": 0.8}})]);
}

#[test]
fn values_json_cannot_express_use_tagged_forms() {
    let dir = scratch("cli-tagged");
    let source = dir.join("tagged.js");
    fs::write(
        &source,
        "registerProcessor('t', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.postMessage([undefined, NaN, Infinity, -Infinity, -0, 12n, new Map([['k', 1]]), new Set([2]), new Date(5), new Float32Array([0.5]), new Uint8Array([1, 2]).buffer]);
           }
           process() { return true; }
         });",
    )
    .unwrap();
    let (status, stdout, stderr) = cli(&["render", source.to_str().unwrap(), "--frames", "0", "--events", "-"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        events(&stdout)[0]["data"],
        json!([{"$undefined": null}, {"$number": "NaN"}, {"$number": "Infinity"}, {"$number": "-Infinity"}, {"$number": "-0"},
               {"$bigint": "12"}, {"$map": [["k", 1]]}, {"$set": [2]}, {"$date": 5}, [0.5], [1, 2]])
    );
}

#[test]
fn processor_errors_are_events_not_failures() {
    let dir = scratch("cli-processorerror");
    let source = dir.join("throws.js");
    fs::write(&source, "registerProcessor('t', class extends AudioWorkletProcessor {\n  process() {\n    throw new Error('boom');\n  }\n});\n").unwrap();
    let (status, stdout, stderr) = cli(&["render", source.to_str().unwrap(), "--frames", "256", "--events", "-"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        events(&stdout),
        [
            json!({"frame": 128, "type": "processorerror", "message": "Error: boom", "filename": source.to_str().unwrap(), "lineno": 3, "colno": 11})
        ]
    );
}

#[test]
fn usage_errors_exit_2_with_a_reason() {
    let gain = processor("gain.js");
    let cases: [(&[&str], &str); 9] = [
        (&["render"], "MODULE.js"),
        (&["render", &gain, "--param", "volume=1"], "no parameter named 'volume'"),
        (&["render", &gain, "--param", "gain"], "NAME=VALUE"),
        (&["render", &gain, "--post", "zero:1"], "not a frame number"),
        (&["render", &gain, "--post", "0:{oops"], "invalid JSON"),
        (&["render", &gain, "--options", "{\"numberOfInputs\":0,\"numberOfOutputs\":0}"], "NotSupportedError"),
        (&["render", &gain, "--processor", "nope"], "InvalidStateError"),
        (&["render", &gain, "--input-signal", "square:3"], "unknown input signal"),
        (&["render", &gain, "--sample-rate", "100"], "outside 3000..=768000"),
    ];
    for (args, expected) in cases {
        let (status, _, stderr) = cli(args);
        assert_eq!(status, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let (status, _, stderr) = cli(&["render", "/no/such/module.js"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("/no/such/module.js"), "{stderr}");
}

#[test]
fn io_failures_exit_1() {
    let (status, _, stderr) =
        cli(&["render", &processor("gain.js"), "--frames", "128", "--out", "/no/such/folder/out.wav"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("/no/such/folder/out.wav"), "{stderr}");
}

#[test]
fn length_options_set_the_frame_count() {
    let dir = scratch("cli-length");
    for (args, frames) in
        [(vec!["--frames", "333"], 333u32), (vec!["--seconds", "0.5", "--sample-rate", "8000"], 4000), (vec![], 48_000)]
    {
        let out = dir.join("len.wav");
        let mut all = vec!["render", &*processor("gain.js").leak(), "--out", out.to_str().unwrap()];
        all.extend(args);
        let (status, _, stderr) = cli(&all);
        assert_eq!(status, 0, "{stderr}");
        assert_eq!(hound::WavReader::open(&out).unwrap().duration(), frames);
    }
}

#[test]
fn an_unconnected_input_has_no_channels() {
    let dir = scratch("cli-none");
    let source = dir.join("count.js");
    fs::write(&source, "registerProcessor('c', class extends AudioWorkletProcessor { process(i) { this.port.postMessage(i[0].length); return false; } });").unwrap();
    let (_, stdout, _) =
        cli(&["render", source.to_str().unwrap(), "--input-signal", "none", "--frames", "128", "--events", "-"]);
    assert_eq!(events(&stdout)[0]["data"], json!(0));
    let (_, stdout, _) =
        cli(&["render", source.to_str().unwrap(), "--channels", "5", "--frames", "128", "--events", "-"]);
    assert_eq!(events(&stdout)[0]["data"], json!(5));
}

#[test]
fn help_and_version_exit_0() {
    let (status, stdout, _) = cli(&["--help"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("render") && stdout.contains("check"));
    let (status, stdout, _) = cli(&["render", "--help"]);
    assert_eq!(status, 0);
    for flag in [
        "--processor",
        "--options",
        "--input",
        "--input-signal",
        "--channels",
        "--seconds",
        "--frames",
        "--sample-rate",
        "--param",
        "--post",
        "--post-global",
        "--out",
        "--events",
    ] {
        assert!(stdout.contains(flag), "render --help lists {flag}");
    }
}

#[test]
fn dropped_messages_are_reported_on_stderr() {
    let dir = scratch("cli-drops");
    let source = dir.join("flood.js");
    fs::write(&source, "registerProcessor('f', class extends AudioWorkletProcessor { process() { for (let i = 0; i < 5000; i++) this.port.postMessage(i); return true; } });").unwrap();
    let (status, _, stderr) = cli(&["render", source.to_str().unwrap(), "--frames", "128"]);
    assert_eq!(status, 0);
    assert!(stderr.contains("warning: 904 messages dropped"), "{stderr}");
}

#[test]
fn bench_reports_every_field_over_the_real_pipeline() {
    let (status, stdout, stderr) = cli(&["bench", &processor("gain.js"), "--seconds", "0.3", "--json", "--hot-swap"]);
    assert_eq!(status, 0, "{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    for key in [
        "processor",
        "instances",
        "host_block",
        "sample_rate",
        "seconds",
        "rtf",
        "bare_rtf",
        "overhead",
        "render_us",
        "host_ns_per_block",
        "underruns",
        "latency_frames",
    ] {
        assert!(report.get(key).is_some(), "missing {key}: {report}");
    }
    assert_eq!(report["processor"], "gain");
    assert_eq!(report["isolation"], "in-process", "the default");
    assert_eq!(report["latency_frames"], json!(384));
    assert_eq!(report["underruns"], json!(0), "a paced run never underruns");
    assert!(report["rtf"].as_f64().unwrap() > 0.0 && report["bare_rtf"].as_f64().unwrap() > 0.0);
    let render = &report["render_us"];
    assert!(render["p50"].as_f64().unwrap() > 0.0 && render["p50"].as_f64() <= render["max"].as_f64().map(|m| m + 1.0));
    assert!(report["hot_swap"]["ready_ms"].as_f64().unwrap() > 0.0, "{report}");
}

#[test]
fn bench_drives_the_pipeline_as_a_bounce_with_offline() {
    let (status, stdout, stderr) = cli(&["bench", &processor("biquad.js"), "--seconds", "0.5", "--json", "--offline"]);
    assert_eq!(status, 0, "{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["offline"], json!(true), "{report}");
    assert_eq!(report["underruns"], json!(0), "a bounce waits for what it plays: {report}");
    assert!(report["rtf"].as_f64().unwrap() > 0.0, "{report}");
    let (status, _, stderr) = cli(&["bench", &processor("gain.js"), "--offline", "--realtime"]);
    assert_eq!(status, 2, "a bounce is not paced by the clock: {stderr}");
}

#[test]
fn bench_compares_engine_processes_with_render_threads_in_one_run() {
    // The binary, so that it can be the engine processes' executable.
    let output = std::process::Command::new(worklet_tests::worklet_binary())
        .args(["bench", &processor("biquad.js"), "--seconds", "0.5", "--instances", "2"])
        .args(["--isolation", "both", "--hot-swap", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let comparison: Value = serde_json::from_slice(&output.stdout).unwrap();
    for (key, isolation) in [("in_process", "in-process"), ("isolated", "isolated")] {
        let report = &comparison[key];
        assert_eq!(report["isolation"], isolation, "{comparison}");
        assert_eq!(report["processor"], "biquad");
        assert_eq!(report["instances"], json!(2));
        assert_eq!(report["underruns"], json!(0), "a paced run never underruns: {report}");
        assert!(report["rtf"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["host_ns_per_block"]["p50"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["render_us"]["p50"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["hot_swap"]["audible_ms"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["rss_mb_per_instance"].as_f64().unwrap() > 0.0, "{report}");
    }
    // Both ran over the same rounds of the same bare loop.
    assert_eq!(comparison["in_process"]["bare_rtf"], comparison["isolated"]["bare_rtf"]);
    // An engine process holds a whole engine of its own: it cannot cost less
    // memory than a render thread sharing this process's.
    let isolated_mb = comparison["isolated"]["rss_mb_per_instance"].as_f64().unwrap();
    let in_process_mb = comparison["in_process"]["rss_mb_per_instance"].as_f64().unwrap();
    assert!(isolated_mb > in_process_mb, "{comparison}");
    let ratios = &comparison["ratios"];
    for key in ["rtf", "rtf_median_round", "host_p50", "host_p99", "render_p50", "memory"] {
        let ratio = ratios[key].as_f64().unwrap();
        assert!(ratio.is_finite() && ratio > 0.0, "{key}: {comparison}");
    }
    let rtf_ratio = comparison["isolated"]["rtf"].as_f64().unwrap() / comparison["in_process"]["rtf"].as_f64().unwrap();
    assert!((ratios["rtf"].as_f64().unwrap() - rtf_ratio).abs() < 1e-9);
}

#[test]
fn root_lets_imports_resolve_anywhere_under_it() {
    let dir = scratch("cli-root");
    fs::create_dir_all(dir.join("lib")).unwrap();
    fs::create_dir_all(dir.join("processors")).unwrap();
    fs::write(dir.join("lib/x.js"), "export const name = 'from lib';").unwrap();
    let main = dir.join("processors/main.js");
    fs::write(
        &main,
        "import { name } from '../lib/x.js';
         registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.postMessage(name); }
           process() { return true; }
         });",
    )
    .unwrap();
    let main = main.to_str().unwrap();
    let (status, _, stderr) = cli(&["render", main, "--frames", "128"]);
    assert_eq!(status, 2, "without --root the import leaves the modules' folder");
    assert!(stderr.contains(&format!("{main}:1:22: TypeError: import '../lib/x.js'")), "{stderr}");
    assert!(stderr.contains("outside the module root"), "{stderr}");

    let root = dir.to_str().unwrap();
    let (status, stdout, stderr) = cli(&["render", main, "--root", root, "--frames", "128", "--events", "-"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(events(&stdout), [json!({"frame": 0, "type": "message", "port": "node", "data": "from lib"})]);
    let (status, stdout, stderr) = cli(&["check", main, "--root", root]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("\"name\":\"p\""), "{stdout}");

    let (status, _, stderr) = cli(&["render", main, "--root", dir.join("lib").to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("the module is outside --root"), "{stderr}");
    let (status, _, stderr) = cli(&["render", main, "--root", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.starts_with("--root "), "{stderr}");
}

#[test]
fn midi_in_from_a_file_and_midi_out_to_a_file() {
    // chord.mid: C, E and G held for two beats (960 ticks at 480 per quarter, no
    // tempo event, so 120 BPM): one second.
    let chord = worklet_tests::repo().join("tests/data/midi/chord.mid").display().to_string();
    let dir = scratch("midi-cli");
    let first = dir.join("first.mid").display().to_string();
    let (status, stdout, stderr) = cli(&[
        "render",
        &processor("arpeggiator.js"),
        "--midi",
        &chord,
        "--seconds",
        "1.2",
        "--events",
        "-",
        "--midi-out",
        &first,
    ]);
    assert_eq!(status, 0, "{stderr}");
    let midi: Vec<(u64, Value)> = events(&stdout)
        .into_iter()
        .filter(|e| e["type"] == "midi")
        .map(|e| (e["frame"].as_u64().unwrap(), e["bytes"].clone()))
        .collect();
    assert_eq!(midi.len(), 16, "eight sixteenths in one second, each on and off: {midi:?}");
    assert_eq!(midi[0], (0, json!([144, 60, 100])));
    assert_eq!(midi[1], (3_000, json!([128, 60, 0])));
    assert_eq!(midi[14], (42_000, json!([144, 64, 101])));

    // What went out plays the synth: its notes start on the same frames.
    let out = dir.join("synth.wav").display().to_string();
    let (status, _, stderr) = cli(&[
        "render",
        &processor("synth.js"),
        "--midi",
        &first,
        "--input-signal",
        "none",
        "--seconds",
        "1",
        "--param",
        "release=0.01",
        "--out",
        &out,
    ]);
    assert_eq!(status, 0, "{stderr}");
    let samples = worklet::cli::wav::read(std::path::Path::new(&out)).unwrap().channels.remove(0);
    assert_eq!(samples.iter().position(|&s| s != 0.0), Some(0));
    assert!(samples[3_000 + 481..6_000].iter().all(|&s| s == 0.0), "silent 10 ms after the first note-off");
    assert!(samples[6_000] != 0.0, "the second step starts at frame 6000");
}

#[test]
fn timeline_flags_are_checked() {
    let gain = processor("gain.js");
    for (flag, value, why) in [
        ("--tempo", "0", "not a tempo"),
        ("--tempo", "fast", "not a tempo"),
        ("--time-signature", "4/3", "not a time signature"),
        ("--time-signature", "7", "not a time signature"),
    ] {
        let (status, _, stderr) = cli(&["render", &gain, flag, value]);
        assert_eq!(status, 2, "{flag} {value}");
        assert!(stderr.contains(why), "{flag} {value}: {stderr}");
    }
    let dir = scratch("midi-bad");
    let bad = dir.join("bad.mid");
    fs::write(&bad, b"MThd\0\0\0\x06\0\0").unwrap();
    let (status, _, stderr) = cli(&["render", &gain, "--midi", &bad.display().to_string()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("bad.mid: not a Standard MIDI File"), "{stderr}");
}

#[test]
fn a_sidechain_from_a_file_or_a_signal_feeds_input_1() {
    let dir = scratch("sidechain-cli");
    let ducker = processor("ducker.js");
    let render = |extra: &[&str]| {
        let out = dir.join("ducked.wav").display().to_string();
        let mut args = vec![
            "render",
            &ducker,
            "--options",
            r#"{"numberOfInputs":2}"#,
            "--input-signal",
            "dc:0.5",
            "--channels",
            "1",
            "--frames",
            "24000",
            "--param",
            "threshold=-30",
            "--param",
            "ratio=4",
            "--out",
            &out,
        ];
        args.extend_from_slice(extra);
        let (status, _, stderr) = cli(&args);
        (status, stderr, worklet::cli::wav::read(std::path::Path::new(&out)).map(|w| w.channels))
    };
    // A key at 0.5 (-6.02 dBFS), 23.98 dB over the threshold at 4:1: 17.98 dB less music.
    let (status, stderr, out) = render(&["--sidechain-signal", "dc:0.5"]);
    assert_eq!(status, 0, "{stderr}");
    let last = out.unwrap()[0][23_999];
    let expected = (20.0 * 0.5f64.log10() + 30.0) * 0.75;
    assert!((20.0 * (f64::from(last) / 0.5).log10() + expected).abs() < 0.01, "{last}");

    // The same key from a WAV file.
    let key = dir.join("key.wav");
    worklet::cli::wav::write(&key, 48_000, &[vec![0.5; 24_000], vec![-0.5; 24_000]]).unwrap();
    let (status, stderr, out) = render(&["--sidechain", key.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    assert!((out.unwrap()[0][23_999] - last).abs() < 1e-6);

    // A file at another rate is refused, by name.
    worklet::cli::wav::write(&key, 44_100, &[vec![0.5; 100]]).unwrap();
    let (status, stderr, _) = render(&["--sidechain", key.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("key.wav: its rate 44100 Hz differs from the render's 48000 Hz"), "{stderr}");
}
