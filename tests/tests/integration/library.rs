//! The factory library: every processor renders, and each one's behaviour is
//! checked analytically (curves, impulse responses, levels, messages).

use std::f64::consts::PI;

use serde_json::{Value, json};
use worklet::engine::{ParamStep, PortName, Post, RenderSpec, Rendered};
use worklet::library::FACTORY;
use worklet_tests::{cli, message_data, processor, processor_errors, processors_dir_source, render_source};

const RATE: f64 = 48_000.0;

fn render_factory(file: &str, spec: &RenderSpec) -> Rendered {
    let rendered = render_source(&processors_dir_source(file), spec);
    assert!(processor_errors(&rendered).is_empty(), "{file}: {:?}", processor_errors(&rendered));
    rendered
}

fn spec(input: Vec<Vec<f32>>, params: &[(&str, f32)]) -> RenderSpec {
    RenderSpec {
        frames: input[0].len() as u64,
        input: Some(input),
        automation: params.iter().map(|&(name, value)| ParamStep { name: name.into(), value, frame: 0 }).collect(),
        ..RenderSpec::default()
    }
}

fn sine(freq: f64, amplitude: f32, frames: usize) -> Vec<f32> {
    (0..frames).map(|n| amplitude * (2.0 * PI * freq * n as f64 / RATE).sin() as f32).collect()
}

fn impulse(frames: usize) -> Vec<f32> {
    let mut x = vec![0.0; frames];
    x[0] = 1.0;
    x
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

#[test]
fn every_processor_renders_through_the_cli_without_errors() {
    let mut files: Vec<String> = std::fs::read_dir(worklet_tests::repo().join("processors"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".js"))
        .collect();
    files.sort();
    assert!(files.len() >= 16, "{files:?}");
    for file in &files {
        let (status, stdout, stderr) = cli(&["render", &processor(file), "--seconds", "0.5", "--events", "-"]);
        assert_eq!(status, 0, "{file}: {stderr}");
        assert!(!stdout.contains("processorerror"), "{file}: {stdout}");
        assert!(FACTORY.iter().any(|p| p.file == file), "{file} is not embedded in worklet::library::FACTORY");
    }
    assert_eq!(FACTORY.len(), files.len(), "FACTORY lists only files that exist");
}

#[test]
fn every_processor_declares_its_parameters() {
    let (status, stdout, stderr) = cli(&[
        "check",
        &processor("gain.js"),
        &processor("biquad.js"),
        &processor("delay.js"),
        &processor("compressor.js"),
    ]);
    assert_eq!(status, 0, "{stderr}");
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    for entry in checked["processors"].as_array().unwrap() {
        assert!(!entry["parameterDescriptors"].as_array().unwrap().is_empty(), "{entry}");
    }
}

#[test]
fn panner_uses_the_equal_power_law() {
    let x = vec![0.5f32; 512];
    for (pan, left, right) in [(-1.0, 0.5, 0.0), (0.0, 0.5 * 0.707_106_77, 0.5 * 0.707_106_77), (1.0, 0.0, 0.5)] {
        let rendered = render_factory(
            "panner.js",
            &RenderSpec { options: json!({"outputChannelCount": [2]}), ..spec(vec![x.clone()], &[("pan", pan)]) },
        );
        assert!((rendered.output[0][100] - left).abs() < 1e-6, "pan {pan}: left {}", rendered.output[0][100]);
        assert!((rendered.output[1][100] - right).abs() < 1e-6, "pan {pan}: right {}", rendered.output[1][100]);
    }
}

#[test]
fn svf_modes_have_the_right_magnitudes() {
    let gain_at = |mode: &str, freq: f64| {
        let frames = 24_000;
        let rendered = render_factory(
            "svf.js",
            &RenderSpec {
                options: json!({"processorOptions": {"mode": mode}}),
                ..spec(vec![sine(freq, 1.0, frames)], &[("cutoff", 1000.0)])
            },
        );
        db(rms(&rendered.output[0][frames / 2..]) * 2f64.sqrt())
    };
    assert!(gain_at("lowpass", 100.0).abs() < 0.1);
    assert!((gain_at("lowpass", 1000.0) + 3.01).abs() < 0.1, "-3 dB at the cutoff");
    assert!(gain_at("lowpass", 10_000.0) < -35.0);
    assert!(gain_at("highpass", 10_000.0).abs() < 0.1);
    assert!(gain_at("highpass", 100.0) < -35.0);
    assert!(gain_at("bandpass", 1000.0) > -3.2 && gain_at("bandpass", 100.0) < -15.0);
    assert!(gain_at("notch", 1000.0) < -30.0 && gain_at("notch", 100.0).abs() < 0.2);
}

#[test]
fn delay_impulse_response_has_echoes_decaying_by_the_feedback() {
    // 1/64 s is exact as a float32 AudioParam value: 750 frames.
    let rendered = render_factory(
        "delay.js",
        &spec(vec![impulse(4000)], &[("delayTime", 0.015_625), ("feedback", 0.5), ("mix", 1.0)]),
    );
    let y = &rendered.output[0];
    let delay = 750;
    for (echo, expected) in [(1, 1.0), (2, 0.5), (3, 0.25)] {
        assert!((y[echo * delay] - expected).abs() < 1e-6, "echo {echo}: {}", y[echo * delay]);
    }
    let elsewhere: f32 = y.iter().enumerate().filter(|(n, _)| n % delay != 0).map(|(_, s)| s.abs()).sum();
    assert!(elsewhere < 1e-6, "nothing between the echoes");
    let dry = render_factory("delay.js", &spec(vec![impulse(1000)], &[("mix", 0.0)]));
    assert!((dry.output[0][0] - 1.0).abs() < 1e-7 && dry.output[0][1..].iter().all(|&s| s == 0.0));
}

#[test]
fn chorus_is_dry_at_zero_mix_and_a_pure_delay_at_zero_depth() {
    let x = sine(300.0, 0.5, 4096);
    let dry = render_factory("chorus.js", &spec(vec![x.clone()], &[("mix", 0.0)]));
    assert!(dry.output[0].iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-7));
    let wet = render_factory("chorus.js", &spec(vec![impulse(2048)], &[("mix", 1.0), ("depth", 0.0)]));
    let peak = wet.output[0].iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
    assert_eq!(peak, 960, "20 ms base delay at 48 kHz");
}

#[test]
fn tremolo_swings_between_one_and_one_minus_depth_at_its_rate() {
    let rendered = render_factory("tremolo.js", &spec(vec![vec![1.0; 48_000]], &[("rate", 4.0), ("depth", 0.6)]));
    let y = &rendered.output[0];
    let (min, max) = y.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    assert!((max - 1.0).abs() < 1e-4 && (min - 0.4).abs() < 1e-4, "{min}..{max}");
    let peaks = y.windows(3).filter(|w| w[1] > w[0] && w[1] >= w[2] && w[1] > 0.99).count();
    assert_eq!(peaks, 4, "four cycles in one second");
    let flat = render_factory("tremolo.js", &spec(vec![vec![0.5; 1024]], &[("depth", 0.0)]));
    assert!(flat.output[0].iter().all(|&s| (s - 0.5).abs() < 1e-7));
}

#[test]
fn bitcrusher_quantizes_and_holds() {
    let x: Vec<f32> = (0..1024).map(|n| (n as f32 / 1024.0) * 2.0 - 1.0).collect();
    let rendered = render_factory("bitcrusher.js", &spec(vec![x], &[("bits", 3.0), ("downsample", 4.0)]));
    let y = &rendered.output[0];
    for &s in y {
        assert!(((s / 0.25) - (s / 0.25).round()).abs() < 1e-6, "{s} is on the 3-bit grid (step 0.25)");
    }
    assert!(y.chunks(4).all(|c| c.iter().all(|&s| s == c[0])), "each value is held for 4 samples");
}

#[test]
fn saturator_follows_its_static_curve() {
    let levels: Vec<f32> = (0..1000).map(|n| n as f32 / 500.0 - 1.0).collect();
    let rendered =
        render_factory("saturator.js", &spec(vec![levels.clone()], &[("drive", 12.0), ("output", 1.0), ("mix", 1.0)]));
    let drive = 10f64.powf(12.0 / 20.0);
    for (x, y) in levels.iter().zip(&rendered.output[0]) {
        assert!((f64::from(*y) - (f64::from(*x) * drive).tanh()).abs() < 1e-6, "tanh({x} * drive)");
    }
    let hard = render_factory(
        "saturator.js",
        &RenderSpec {
            options: json!({"processorOptions": {"shape": "hard"}}),
            ..spec(vec![levels], &[("drive", 20.0), ("output", 1.0)])
        },
    );
    assert!(hard.output[0].iter().all(|s| s.abs() <= 1.0 + 1e-7));
}

#[test]
fn compressor_static_curve_and_reported_gain_reduction() {
    for (level_db, threshold, ratio) in [(-6.0f64, -18.0f32, 4.0f32), (-12.0, -24.0, 2.0), (-30.0, -18.0, 4.0)] {
        let amplitude = 10f64.powf(level_db / 20.0) as f32;
        let rendered = render_factory(
            "compressor.js",
            &spec(
                vec![vec![amplitude; 48_000]],
                &[("threshold", threshold), ("ratio", ratio), ("attack", 0.001), ("release", 0.05)],
            ),
        );
        let expected = (level_db - f64::from(threshold)).max(0.0) * (1.0 - 1.0 / f64::from(ratio));
        let out_db = db(f64::from(rendered.output[0][47_999]) / f64::from(amplitude));
        assert!((out_db + expected).abs() < 0.05, "{level_db} dB in: {out_db} dB of gain, expected {}", -expected);
        let reports = message_data(&rendered);
        assert!(reports.len() > 40);
        let last = reports.last().unwrap()["gainReduction"].as_f64().unwrap();
        assert!((last - expected).abs() < 0.05, "reported {last} dB");
    }
}

#[test]
fn noise_gate_mutes_quiet_signal_and_passes_loud_signal() {
    let mut x = sine(200.0, 0.5, 24_000);
    x.extend(sine(200.0, 0.001, 24_000));
    let rendered =
        render_factory("noise-gate.js", &spec(vec![x], &[("threshold", -30.0), ("hold", 0.01), ("release", 0.01)]));
    let y = &rendered.output[0];
    assert!((rms(&y[12_000..24_000]) - rms(&sine(200.0, 0.5, 12_000))).abs() < 1e-3, "open");
    assert!(rms(&y[40_000..]) < 1e-6, "closed after hold and release");
}

#[test]
fn oscillator_waveforms_have_their_frequency_and_level() {
    for (kind, expected_rms) in [("sine", 0.5 / 2f64.sqrt()), ("sawtooth", 0.5 / 3f64.sqrt()), ("square", 0.5)] {
        let rendered = render_factory(
            "oscillator.js",
            &RenderSpec {
                frames: 48_000,
                input: None,
                options: json!({"numberOfInputs": 0, "outputChannelCount": [1], "processorOptions": {"type": kind}}),
                automation: vec![
                    ParamStep { name: "frequency".into(), value: 440.0, frame: 0 },
                    ParamStep { name: "gain".into(), value: 0.5, frame: 0 },
                ],
                ..RenderSpec::default()
            },
        );
        let y = &rendered.output[0];
        let rising = y.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((rising as i64 - 440).abs() <= 1, "{kind}: {rising} cycles");
        assert!((rms(y) - expected_rms).abs() < 0.01, "{kind}: rms {}", rms(y));
    }
}

#[test]
fn noise_is_reproducible_white_or_pink() {
    let render = |color: &str, seed: u32| {
        render_factory(
            "noise.js",
            &RenderSpec {
                frames: 96_000,
                options: json!({"numberOfInputs": 0, "outputChannelCount": [1], "processorOptions": {"color": color, "seed": seed}}),
                automation: vec![ParamStep { name: "gain".into(), value: 1.0, frame: 0 }],
                ..RenderSpec::default()
            },
        )
        .output
        .remove(0)
    };
    let white = render("white", 7);
    assert_eq!(white, render("white", 7), "same seed, same noise");
    assert_ne!(white, render("white", 8));
    assert!((rms(&white) - 1.0 / 3f64.sqrt()).abs() < 0.01, "uniform in [-1, 1)");
    assert!(white.iter().map(|&s| f64::from(s)).sum::<f64>().abs() / 96_000.0 < 0.01);
    // Pink noise has far more energy at low frequencies: compare a smoothed and a differenced signal.
    let pink = render("pink", 7);
    let ratio = |x: &[f32]| {
        let diff: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
        rms(&diff) / rms(x)
    };
    assert!(ratio(&white) > 1.3, "white: {}", ratio(&white));
    assert!(ratio(&pink) < 0.6, "pink: {}", ratio(&pink));
}

#[test]
fn level_meter_posts_rms_and_peak() {
    let rendered = render_factory("level-meter.js", &spec(vec![sine(375.0, 0.8, 8192), vec![0.25; 8192]], &[]));
    let reports = message_data(&rendered);
    assert_eq!(reports.len(), 8, "one report per 8 quanta");
    let last = &reports[7];
    assert!((last["rms"][0].as_f64().unwrap() - 0.8 / 2f64.sqrt()).abs() < 1e-3, "{last}");
    assert!((last["peak"][0].as_f64().unwrap() - 0.8).abs() < 1e-3, "{last}");
    assert!(
        (last["rms"][1].as_f64().unwrap() - 0.25).abs() < 1e-6
            && (last["peak"][1].as_f64().unwrap() - 0.25).abs() < 1e-6
    );
    assert!(
        rendered.output[0].iter().zip(&sine(375.0, 0.8, 8192)).all(|(a, b)| (a - b).abs() < 1e-7),
        "passes audio through"
    );
}

#[test]
fn scope_posts_snapshots_of_the_input() {
    let x = sine(1000.0, 0.5, 2048);
    let rendered = render_factory("scope.js", &spec(vec![x.clone()], &[]));
    let snapshots = message_data(&rendered);
    assert_eq!(snapshots.len(), 4, "2048 frames in snapshots of 512");
    for snapshot in &snapshots {
        let start = snapshot["frame"].as_u64().unwrap() as usize;
        let samples: Vec<f32> =
            snapshot["samples"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(samples.len(), 512);
        assert_eq!(samples, x[start..start + 512].to_vec());
    }
}

#[test]
fn global_volume_applies_settings_sent_to_the_scope() {
    let rendered = render_factory(
        "global-volume.js",
        &RenderSpec {
            posts: vec![Post { frame: 1024, port: PortName::Global, data: json!({"volume": 0.8}) }],
            ..spec(vec![vec![0.5; 2048]], &[])
        },
    );
    assert!((rendered.output[0][1000] - 0.5).abs() < 1e-7);
    assert!((rendered.output[0][1100] - 0.4).abs() < 1e-7);
}

/// Renders `file` with the factory biquad's parameters and options.
fn biquad_like(file: &str, kind: &str, steps: &[(&str, f32, u64)]) -> Vec<Vec<f32>> {
    let frames = 9_600;
    let input = vec![sine(300.0, 0.5, frames), sine(5_000.0, 0.25, frames)];
    let rendered = render_factory(
        file,
        &RenderSpec {
            frames: frames as u64,
            input: Some(input),
            options: json!({"processorOptions": {"type": kind}}),
            automation: steps
                .iter()
                .map(|&(name, value, frame)| ParamStep { name: name.into(), value, frame })
                .collect(),
            ..RenderSpec::default()
        },
    );
    rendered.output
}

#[test]
fn the_wasm_biquad_is_the_javascript_biquad_sample_for_sample() {
    // Steps inside a quantum make `frequency` a-rate for that quantum.
    let steps = [("frequency", 2_000.0, 0), ("Q", 3.0, 0), ("gain", 6.0, 0), ("frequency", 700.0, 4_000)];
    for kind in ["lowpass", "highpass", "bandpass", "notch", "peaking", "lowshelf", "highshelf"] {
        let js = biquad_like("biquad.js", kind, &steps);
        let wasm = biquad_like("biquad-wasm.js", kind, &steps);
        assert_eq!(js.len(), 2);
        assert!(rms(&js[0]) > 0.01, "{kind}: the filter passes something");
        for (channel, (a, b)) in js.iter().zip(&wasm).enumerate() {
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(worst == 0.0, "{kind}, channel {channel}: differs by up to {worst}");
        }
    }
}

#[test]
fn the_wasm_oscillator_is_the_javascript_oscillator() {
    for kind in ["sine", "sawtooth", "square"] {
        let render = |file: &str| {
            render_factory(
                file,
                &RenderSpec {
                    frames: 24_000,
                    input: None,
                    options: json!({"numberOfInputs": 0, "outputChannelCount": [2], "processorOptions": {"type": kind}}),
                    automation: vec![
                        ParamStep { name: "frequency".into(), value: 220.0, frame: 0 },
                        ParamStep { name: "detune".into(), value: 700.0, frame: 10_050 },
                        ParamStep { name: "gain".into(), value: 0.8, frame: 0 },
                    ],
                    ..RenderSpec::default()
                },
            )
            .output
        };
        let (js, wasm) = (render("oscillator.js"), render("oscillator-wasm.js"));
        assert_eq!(wasm.len(), 2);
        assert_eq!(wasm[0], wasm[1], "{kind}: every channel has the waveform");
        let worst = js[0].iter().zip(&wasm[0]).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "{kind}: differs from oscillator.js by up to {worst}");
    }
}

#[test]
fn the_wasm_reverb_decays_at_its_decay_time_and_mixes() {
    let frames = 96_000;
    let reverb = |params: &[(&str, f32)], left: Vec<f32>| {
        render_factory("reverb-wasm.js", &spec(vec![left, vec![0.0; frames]], params)).output
    };
    let dry = reverb(&[("mix", 0.0)], sine(440.0, 0.5, frames));
    let expected = sine(440.0, 0.5, frames);
    let worst = dry[0].iter().zip(&expected).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "mix 0 is the dry signal (off by {worst})");
    assert!(dry[1].iter().all(|&s| s.abs() < 1e-6), "and the silent side stays silent");

    let wet = reverb(&[("mix", 1.0), ("low", 2.0), ("mid", 2.0), ("predelay", 20.0)], impulse(frames));
    let window = |channel: &[f32], from: f64| {
        let start = (from * RATE) as usize;
        rms(&channel[start..start + 9_600])
    };
    for channel in &wet {
        // A decay time of 2 s is -60 dB in 2 s: -30 dB from 0.3 s to 1.3 s.
        let decay = db(window(channel, 1.3) / window(channel, 0.3));
        assert!((-36.0..=-24.0).contains(&decay), "decayed {decay:.1} dB in a second");
    }
    assert!(wet[0][..900].iter().all(|&s| s.abs() < 1e-9), "nothing before the 20 ms pre-delay");
    assert!(rms(&wet[1]) > 1e-4, "an impulse on the left reaches the right");
}

#[test]
fn the_arpeggiator_steps_through_held_notes_on_the_hosts_grid() {
    use worklet::engine::{EventData, HostEvent, MainEvent, Timeline};
    let chord = |frame: u64, status: u8, velocity: u8| {
        [60u8, 64, 67].map(|key| HostEvent { frame, data: EventData::midi(status, key, velocity) })
    };
    let sent = |spec: &RenderSpec| -> Vec<(u64, Vec<u8>)> {
        let rendered = render_factory("arpeggiator.js", spec);
        let midi = rendered.events.iter().filter_map(|e| match &e.event {
            MainEvent::Midi { bytes, .. } => Some((e.frame, bytes.clone())),
            _ => None,
        });
        midi.collect()
    };
    // 120 BPM, sixteenths: a step every 6000 frames, sounding for half of it. The
    // chord is pressed at frame 1000, between grid lines: the first step waits
    // for the grid line at 6000.
    let mut events = chord(1_000, 0x90, 100).to_vec();
    events.extend(chord(30_000, 0x80, 0));
    let timeline = Some(Timeline::constant(120.0, (4, 4), true));
    let synced = sent(&RenderSpec { frames: 36_000, events: events.clone(), timeline, ..RenderSpec::default() });
    let expected: Vec<(u64, Vec<u8>)> = [(6_000, 60), (12_000, 64), (18_000, 67), (24_000, 60)]
        .into_iter()
        .flat_map(|(frame, key)| [(frame, vec![0x90, key, 100]), (frame + 3_000, vec![0x80, key, 0])])
        .collect();
    assert_eq!(synced, expected);

    // At 90 BPM from the host, eighths, down: steps every 16000 frames.
    let timeline = Some(Timeline::constant(90.0, (4, 4), true));
    let automation = vec![
        ParamStep { name: "division".into(), value: 2.0, frame: 0 },
        ParamStep { name: "mode".into(), value: 1.0, frame: 0 },
    ];
    let down =
        sent(&RenderSpec { frames: 40_000, events: events.clone(), timeline, automation, ..RenderSpec::default() });
    let ons: Vec<(u64, u8)> = down.iter().filter(|(_, b)| b[0] == 0x90).map(|(f, b)| (*f, b[1])).collect();
    assert_eq!(ons, vec![(16_000, 67)], "the chord is released at 30000, before the second step");

    // No transport: the free clock starts with the chord, at the `tempo` parameter.
    let free = sent(&RenderSpec { frames: 20_000, events, ..RenderSpec::default() });
    let ons: Vec<(u64, u8)> = free.iter().filter(|(_, b)| b[0] == 0x90).map(|(f, b)| (*f, b[1])).collect();
    assert_eq!(ons, vec![(1_000, 60), (7_000, 64), (13_000, 67), (19_000, 60)]);
}

#[test]
fn the_tempo_delay_echoes_after_its_beats_at_the_hosts_tempo() {
    use worklet::engine::Timeline;
    let echoes = |timeline: Option<Timeline>| {
        let spec = RenderSpec { timeline, ..spec(vec![impulse(96_000)], &[("feedback", 0.5), ("mix", 1.0)]) };
        let out = render_factory("tempo-delay.js", &spec).output.remove(0);
        let peaks: Vec<(usize, f32)> = out.iter().copied().enumerate().filter(|&(_, s)| s.abs() > 1e-6).collect();
        peaks
    };
    // 0.75 beats at 100 BPM: 0.45 s, 21600 frames; each echo half the last.
    let at_100 = echoes(Some(Timeline::constant(100.0, (4, 4), true)));
    assert_eq!(at_100.iter().map(|&(n, _)| n).collect::<Vec<_>>(), vec![21_600, 43_200, 64_800, 86_400]);
    for (k, &(_, level)) in at_100.iter().enumerate() {
        assert!((f64::from(level) - 0.5f64.powi(k as i32)).abs() < 1e-6, "{at_100:?}");
    }
    // Without a transport, the `tempo` parameter (120 BPM): 18000 frames.
    assert_eq!(echoes(None)[0].0, 18_000);
}

#[test]
fn the_ducker_reduces_input_0_by_the_level_of_input_1() {
    let frames = 24_000;
    let music = vec![vec![0.5f32; frames], vec![-0.25f32; frames]];
    // The options the library gives it: two inputs, a stereo output.
    let options = worklet::library::node_options("ducker.js");
    let duck_input = |input: Vec<Vec<f32>>, key: Option<Vec<Vec<f32>>>, params: &[(&str, f32)]| {
        let spec = RenderSpec { options: options.clone(), sidechain: key, ..spec(input, params) };
        render_factory("ducker.js", &spec)
    };
    let duck = |key: Option<Vec<Vec<f32>>>, params: &[(&str, f32)]| duck_input(music.clone(), key, params);
    // A key at -6 dBFS, 24 dB over the threshold, 4:1: 18 dB of reduction, on both
    // channels of the music alike; the music's own level plays no part.
    let key = |level_db: f64, from: usize| {
        let amplitude = 10f64.powf(level_db / 20.0) as f32;
        vec![(0..frames).map(|n| if n >= from { amplitude } else { 0.0 }).collect::<Vec<f32>>()]
    };
    let rendered = duck(Some(key(-6.0, 0)), &[("threshold", -30.0), ("ratio", 4.0), ("attack", 0.001)]);
    assert_eq!(rendered.output.len(), 2, "a stereo output");
    for (channel, level) in rendered.output.iter().zip([0.5f64, -0.25]) {
        let gain_db = db(f64::from(channel[frames - 1]) / level);
        assert!((gain_db + 18.0).abs() < 0.01, "{gain_db} dB of gain, expected -18");
    }
    let reported = message_data(&rendered).last().unwrap()["gainReduction"].as_f64().unwrap();
    assert!((reported - 18.0).abs() < 0.01, "reported {reported} dB");

    // The reduction is capped at `range`.
    let capped = duck(Some(key(0.0, 0)), &[("threshold", -60.0), ("ratio", 100.0), ("range", 12.0)]);
    let gain_db = db(f64::from(capped.output[0][frames - 1]) / 0.5);
    assert!((gain_db + 12.0).abs() < 0.01, "{gain_db} dB of gain, expected the 12 dB range");

    // The key starts at frame 4800: before, unity gain; after, the reduction
    // follows the one-pole attack exactly (10 ms time constant).
    let start = 4_800;
    let attack = 0.01f32;
    let rendered = duck(Some(key(-6.0, start)), &[("threshold", -30.0), ("ratio", 4.0), ("attack", attack)]);
    assert!(rendered.output[0][..start].iter().all(|&s| (s - 0.5).abs() < 1e-6));
    let a = (-1.0 / (f64::from(attack) * RATE)).exp();
    for n in [0usize, 100, 480, 2_000] {
        let expected = 18.0 * (1.0 - a.powi(n as i32 + 1));
        let got = -db(f64::from(rendered.output[0][start + n]) / 0.5);
        assert!((got - expected).abs() < 0.01, "{n} frames into the key: {got} dB, expected {expected}");
    }

    // A silent key leaves the music alone; with input 1 unconnected the music
    // keys itself (its peak, 0.5, as a plain compressor).
    let silent = duck(Some(vec![vec![0.0; frames]]), &[]);
    assert!(silent.output[0].iter().all(|&s| (s - 0.5).abs() < 1e-6));
    assert!(silent.output[1].iter().all(|&s| (s + 0.25).abs() < 1e-6));
    // Mono music (a mono track) plays on both channels, ducked alike.
    let mono = duck_input(vec![vec![0.5; frames]], Some(key(-6.0, 0)), &[("threshold", -30.0), ("ratio", 4.0)]);
    for channel in &mono.output {
        let gain_db = db(f64::from(channel[frames - 1]) / 0.5);
        assert!((gain_db + 18.0).abs() < 0.01, "mono music: {gain_db} dB of gain, expected -18");
    }
    let unkeyed = duck(None, &[("threshold", -30.0), ("ratio", 4.0)]);
    let gain_db = db(f64::from(unkeyed.output[0][frames - 1]) / 0.5);
    let expected = (db(0.5) + 30.0) * 0.75;
    assert!((gain_db + expected).abs() < 0.01, "self-keyed: {gain_db} dB, expected -{expected}");
}
