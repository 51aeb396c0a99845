//! The real-time pipeline: re-blocking at constant latency for any block size,
//! hot swap, failed swaps, parameters, and hosts that change threads.

use serde_json::json;
use worklet::engine::{Realm, RealmConfig, RenderSpec, render};
use worklet::port::Received;
use worklet::render::{GenerationState, ParamChange, PipelineConfig, PipelineEvent};
use worklet_tests::live::{Live, config, factory_recipe, recipe};
use worklet_tests::processors_dir_source;

/// The offline render of `source` on `input` (the reference).
fn offline(source: &str, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut realm = Realm::new(&RealmConfig::new(worklet_tests::RATE)).unwrap();
    realm.add_module_source("main.js", source).unwrap();
    let spec = RenderSpec { frames: input[0].len() as u64, input: Some(input.to_vec()), ..RenderSpec::default() };
    render(realm, &spec, &mut |_| {}).unwrap().output
}

fn impulse(frames: usize) -> Vec<Vec<f32>> {
    let mut channel = vec![0.0; frames];
    channel[0] = 1.0;
    channel[frames / 3] = -0.5;
    vec![channel.clone(), channel]
}

/// Asserts that `output` is `reference` delayed by exactly `latency` frames.
#[track_caller]
fn assert_delayed(output: &[Vec<f32>], reference: &[Vec<f32>], latency: usize) {
    for (channel, (out, want)) in output.iter().zip(reference).enumerate() {
        assert!(out[..latency].iter().all(|&s| s == 0.0), "channel {channel}: silence during the latency");
        for (frame, (&a, &b)) in out[latency..].iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-7, "channel {channel} frame {frame}: {a} != {b}");
        }
    }
}

fn lowpass_source() -> String {
    processors_dir_source("biquad.js")
}

#[test]
fn any_block_size_gives_the_offline_render_delayed_by_the_latency() {
    let frames = 6000;
    let input = impulse(frames);
    let reference = offline(&lowpass_source(), &input);
    assert!(reference[0][1..40].iter().any(|&s| s.abs() > 1e-3), "the reference rings");
    for size in [1usize, 7, 127, 128, 129, 500, 4096] {
        let mut live = Live::new(config(size), factory_recipe("biquad.js"));
        let latency = live.pipeline.telemetry().latency_frames() as usize;
        let output = live.run(&input, &[size]);
        assert_delayed(&output, &reference, latency);
        assert_eq!(live.pipeline.telemetry().underruns(), 0, "block size {size}");
    }
}

#[test]
fn a_bounce_gives_the_offline_render_delayed_by_the_latency_at_any_block_size() {
    // Nothing but the host side waits: the render thread runs ahead of what the
    // host plays, up to what it was fed, and the output is still exact.
    let frames = 6000;
    let input = impulse(frames);
    let reference = offline(&lowpass_source(), &input);
    for sizes in [&[1usize][..], &[7], &[128], &[129], &[500], &[4096], &[300, 1, 77, 128, 255]] {
        let max = sizes.iter().copied().max().unwrap_or(1);
        let mut live = Live::new(PipelineConfig { offline: true, ..config(max) }, factory_recipe("biquad.js"));
        let latency = live.pipeline.telemetry().latency_frames() as usize;
        let output = live.bounce(&input, sizes);
        assert_delayed(&output, &reference, latency);
        assert_eq!(live.pipeline.telemetry().underruns(), 0, "block sizes {sizes:?}");
    }
}

#[test]
fn randomly_varying_block_sizes_keep_the_latency_constant() {
    let frames = 9000;
    let input = impulse(frames);
    let reference = offline(&lowpass_source(), &input);
    let mut state = 12345u32;
    let sizes: Vec<usize> = (0..200)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            1 + (state >> 16) as usize % 700
        })
        .collect();
    let mut live = Live::new(config(700), factory_recipe("biquad.js"));
    let latency = live.pipeline.telemetry().latency_frames() as usize;
    let output = live.run(&input, &sizes);
    assert_delayed(&output, &reference, latency);
}

#[test]
fn process_called_from_different_threads_stays_correct() {
    let frames = 4096;
    let input = impulse(frames);
    let reference = offline(&lowpass_source(), &input);
    let mut live = Live::new(config(256), factory_recipe("biquad.js"));
    let latency = live.pipeline.telemetry().latency_frames() as usize;
    let mut output = vec![Vec::new(), Vec::new()];
    for (index, start) in (0..frames).step_by(1024).enumerate() {
        // Each stretch of blocks runs on a fresh OS thread, as hosts may do.
        let (moved, chunk) = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let slices: Vec<Vec<f32>> = input.iter().map(|c| c[start..start + 1024].to_vec()).collect();
                    let result = live.run(&slices, &[256, 100, 156]);
                    (std::thread::current().id(), result)
                })
                .join()
                .unwrap()
        });
        assert_ne!(moved, std::thread::current().id(), "stretch {index} ran on another thread");
        for (out, channel) in output.iter_mut().zip(chunk) {
            out.extend(channel);
        }
    }
    assert_delayed(&output, &reference, latency);
}

const SINE: &str = "registerProcessor('sine', class extends AudioWorkletProcessor {
  process(inputs, [output]) {
    for (let i = 0; i < 128; i++) {
      const v = 0.5 * Math.sin(2 * Math.PI * FREQ * (currentFrame + i) / sampleRate);
      for (const channel of output) channel[i] = v;
    }
    return true;
  }
});";

fn longest_silent_run(samples: &[f32]) -> usize {
    let (mut longest, mut run) = (0, 0);
    for &s in samples {
        run = if s.abs() < 1e-3 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[test]
fn a_good_hot_swap_switches_without_a_gap() {
    let mut live = Live::new(config(128), recipe(&SINE.replace("FREQ", "440")));
    let silence = vec![vec![0.0; 48_000]; 2];
    let before =
        live.run(&silence[..1].iter().map(|c| c[..4800].to_vec()).chain([vec![0.0; 4800]]).collect::<Vec<_>>(), &[128]);
    let event = live.load(recipe(&SINE.replace("FREQ", "660")));
    assert!(matches!(event, PipelineEvent::Ready { generation: 2, .. }), "{event:?}");
    let after = live.run(&[vec![0.0; 9600], vec![0.0; 9600]], &[128]);
    assert_eq!(live.pipeline.telemetry().active_generation(), 2, "the new generation plays");
    assert!(!live.host.swapping());
    let latency = live.pipeline.telemetry().latency_frames() as usize;
    let mut joined = before[0][latency..].to_vec();
    joined.extend(&after[0]);
    assert!(longest_silent_run(&joined) < 8, "no run of zeros at the switch");
    // Far from the switch, the new processor alone: 660 Hz has ~14.5-frame half periods.
    let tail = &after[0][6000..];
    let crossings = tail.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    let expected = 2.0 * 660.0 * tail.len() as f64 / 48_000.0;
    assert!((crossings as f64 - expected).abs() <= 2.0, "{crossings} zero crossings, expected about {expected}");
    assert_eq!(live.pipeline.telemetry().underruns(), 0);
}

#[test]
fn a_failed_hot_swap_keeps_the_old_sound_and_reports_where() {
    let mut live = Live::new(config(128), factory_recipe("gain.js"));
    live.pipeline.params().request(0, 0.5);
    let dc = vec![vec![0.8; 2048]; 2];
    let first = live.run(&dc, &[128]);
    assert!((first[0][2047] - 0.4).abs() < 1e-6);
    let failures = [
        (
            "registerProcessor('x', class extends AudioWorkletProcessor {\n  process() { return [; }\n});",
            "SyntaxError",
            2,
        ),
        (
            "registerProcessor('x', class extends AudioWorkletProcessor {\n  constructor() { super(); throw new Error('no'); }\n});",
            "Error",
            2,
        ),
        ("const y = 1;\nregisterProcessor('x', 5);", "TypeError", 2),
    ];
    for (source, name, line) in failures {
        let event = live.load(recipe(source));
        let PipelineEvent::Failed { error, .. } = event else { panic!("{source}: {event:?}") };
        assert_eq!((error.name.as_str(), error.filename.as_str(), error.lineno), (name, "main.js", line), "{error}");
        let still = live.run(&dc, &[128]);
        assert!(still[0].iter().all(|&s| (s - 0.4).abs() < 1e-6), "the old sound goes on after: {error}");
    }
    assert_eq!(live.pipeline.telemetry().active_generation(), 1, "failed sources never replace the playing generation");
    assert_eq!(live.pipeline.telemetry().state(), GenerationState::Running);
}

#[test]
fn parameter_values_carry_over_a_hot_swap() {
    let mut live = Live::new(config(128), factory_recipe("gain.js"));
    live.pipeline.params().request(0, 0.25);
    let dc = vec![vec![1.0; 1024]; 2];
    live.run(&dc, &[128]);
    assert!((live.pipeline.params().current(0) - 0.25).abs() < 1e-7);
    let edited = processors_dir_source("gain.js").replace("GainProcessor", "EditedGain");
    assert!(matches!(live.load(recipe(&edited)), PipelineEvent::Ready { .. }));
    let after = live.run(&vec![vec![1.0; 4096]; 2], &[128]);
    assert_eq!(live.pipeline.telemetry().active_generation(), 2);
    assert!(after[0][3000..].iter().all(|&s| (s - 0.25).abs() < 1e-6), "the new generation starts at the old value");
}

#[test]
fn sample_accurate_changes_become_a_rate_arrays_and_k_rate_values() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('p', class extends AudioWorkletProcessor {
               static parameterDescriptors = [
                 { name: 'a', defaultValue: 0, minValue: 0, maxValue: 1 },
                 { name: 'k', defaultValue: 0, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
               ];
               process(i, o, p) {
                 const at = (values, frame) => values[values.length > 1 ? frame : 0];
                 this.port.postMessage([currentFrame, p.a.length, at(p.a, 69), at(p.a, 70), at(p.a, 127), p.k.length, p.k[0]]);
                 return true;
               }
             });",
        ),
    );
    let silence = vec![0.0f32; 128];
    let input = [silence.as_slice(), silence.as_slice()];
    live.block(&input, 128, &[]);
    let changes =
        [ParamChange { offset: 70, slot: 0, normalized: 1.0 }, ParamChange { offset: 70, slot: 1, normalized: 1.0 }];
    live.block(&input, 128, &changes);
    live.block(&input, 128, &[]);
    let messages = worklet_tests::received_data(&live.received());
    assert_eq!(
        messages,
        [json!([0, 1, 0, 0, 0, 1, 0]), json!([128, 128, 0, 1, 1, 1, 0]), json!([256, 1, 1, 1, 1, 1, 1])],
        "a-rate: 128 values in the quantum with the change; k-rate: the value at the quantum start"
    );
}

#[test]
fn a_stuck_render_thread_never_blocks_the_host_and_can_be_replaced() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('stuck', class extends AudioWorkletProcessor {
               process(i, [out]) {
                 out[0].fill(0.5);
                 if (currentFrame === 1280) { const until = Date.now() + 1500; while (Date.now() < until) {} }
                 return true;
               }
             });",
        ),
    );
    let silence = vec![0.0f32; 128];
    let input = [silence.as_slice(), silence.as_slice()];
    for _ in 0..8 {
        live.block(&input, 128, &[]);
    }
    // Now the render thread is inside the busy loop; the host keeps calling without pacing.
    let mut slowest = std::time::Duration::ZERO;
    let mut hung_seen = false;
    let mut out = vec![vec![0.0f32; 128]; 2];
    for _ in 0..200 {
        let mut slices: Vec<&mut [f32]> = out.iter_mut().map(Vec::as_mut_slice).collect();
        let start = std::time::Instant::now();
        live.host.process(&input, &mut slices, &[]);
        slowest = slowest.max(start.elapsed());
        hung_seen |= live.pipeline.telemetry().state() == GenerationState::Hung;
        std::thread::sleep(std::time::Duration::from_micros(2667));
    }
    // Waiting for the stuck thread would take 1.5 s; the bound leaves room for the
    // scheduler on a busy machine (tests run in parallel).
    assert!(slowest < std::time::Duration::from_millis(500), "a host call took {slowest:?}");
    assert!(hung_seen, "the stuck generation was reported hung");
    assert!(live.pipeline.telemetry().underruns() > 0, "late quanta became counted silence");
    let event = live.load(recipe(&SINE.replace("FREQ", "440")));
    assert!(matches!(event, PipelineEvent::Ready { .. }), "{event:?}");
    for _ in 0..40 {
        let mut slices: Vec<&mut [f32]> = out.iter_mut().map(Vec::as_mut_slice).collect();
        live.host.process(&input, &mut slices, &[]);
        live.pipeline.poll();
        std::thread::sleep(std::time::Duration::from_micros(2667));
    }
    assert_eq!(live.pipeline.telemetry().active_generation(), 2, "a new generation replaced the stuck one");
}

#[test]
fn telemetry_reports_load_drops_latency_and_state() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('busy', class extends AudioWorkletProcessor {
               process(i, [out]) {
                 let x = 0;
                 for (let n = 0; n < 20000; n++) x += Math.sqrt(n);
                 out[0].fill(x > 0 ? 0.1 : 0);
                 if (currentFrame === 1280) for (let n = 0; n < 5000; n++) this.port.postMessage(n);
                 return true;
               }
             });",
        ),
    );
    let telemetry = live.pipeline.telemetry().clone();
    assert_eq!(telemetry.state(), GenerationState::Empty, "nothing has played yet");
    live.run(&[vec![0.0; 6400], vec![0.0; 6400]], &[128]);
    assert_eq!(telemetry.state(), GenerationState::Running);
    assert_eq!(telemetry.active_generation(), 1);
    assert_eq!(telemetry.latency_frames(), 384);
    assert!(telemetry.quanta() >= 48, "{} quanta", telemetry.quanta());
    let load = telemetry.load();
    assert!(load > 0.0 && load.is_finite(), "a busy processor shows a render load: {load}");
    assert!(
        telemetry.dropped_messages() >= 5000 - worklet::port::TO_MAIN_CAPACITY as u64,
        "{}",
        telemetry.dropped_messages()
    );
}

#[test]
fn a_processor_that_throws_is_reported_errored_and_silent() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('t', class extends AudioWorkletProcessor {\n  process(i, [out]) {\n    out[0].fill(0.5);\n    if (currentFrame === 512) throw new Error('late failure');\n    return true;\n  }\n});",
        ),
    );
    let output = live.run(&[vec![0.0; 2560], vec![0.0; 2560]], &[128]);
    let telemetry = live.pipeline.telemetry();
    assert_eq!(telemetry.state(), GenerationState::Errored);
    let latency = telemetry.latency_frames() as usize;
    assert!(output[0][latency..latency + 512].iter().all(|&s| (s - 0.5).abs() < 1e-7), "sound before the error");
    assert!(output[0][latency + 512..].iter().all(|&s| s == 0.0), "silence after it");
    let errors: Vec<_> = live
        .received()
        .into_iter()
        .filter_map(|r| match r {
            Received::ProcessorError(error) => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].filename.as_str(), errors[0].lineno), ("main.js", 4));
}

#[test]
fn render_threads_flush_denormals_to_zero_as_browsers_audio_threads_do() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('d', class extends AudioWorkletProcessor {
               process(i, [out]) {
                 const tiny = 2.2250738585072014e-308;
                 out[0][0] = tiny * 0.5 === 0 ? 1 : -1;
                 out[0][1] = 1e-40;
                 out[0][2] = 1e-30;
                 return true;
               }
             });",
        ),
    );
    let output = live.run(&vec![vec![0.0; 1024]; 2], &[128]);
    let latency = live.pipeline.config().latency_frames();
    assert_eq!(latency % 128, 0);
    let quantum = &output[0][latency..latency + 3];
    assert_eq!(quantum[0], 1.0, "a denormal product is zero");
    assert_eq!(quantum[1], 0.0, "a denormal sample is stored as zero");
    assert!((quantum[2] - 1e-30).abs() < 1e-36, "normal small values are kept");
}

#[test]
fn nan_and_infinite_samples_never_reach_the_host_and_are_counted_and_reported_once() {
    let mut live = Live::new(
        config(128),
        recipe(
            "registerProcessor('n', class extends AudioWorkletProcessor {
               process(i, [out]) {
                 out[0].fill(0.25);
                 out[1].fill(-0.25);
                 if (currentFrame >= 256) { out[0][3] = NaN; out[1][5] = Infinity; out[1][6] = -Infinity; }
                 return true;
               }
             });",
        ),
    );
    let output = live.run(&vec![vec![0.0; 2560]; 2], &[128]);
    assert!(output.iter().flatten().all(|s| s.is_finite()), "only finite samples reach the host");
    let latency = live.pipeline.config().latency_frames();
    let bad = latency + 256;
    assert_eq!((output[0][bad + 3], output[1][bad + 5], output[1][bad + 6]), (0.0, 0.0, 0.0), "silenced");
    assert!((output[0][bad + 4] - 0.25).abs() < 1e-7 && (output[1][bad + 4] + 0.25).abs() < 1e-7, "the rest plays");
    let telemetry = live.pipeline.telemetry();
    let quanta_with_nan = (2560 - latency - 256) / 128;
    assert!(telemetry.nonfinite_samples() >= 3 * quanta_with_nan as u64, "{}", telemetry.nonfinite_samples());
    assert_eq!(telemetry.nonfinite_samples() % 3, 0, "three per quantum");
    let warnings: Vec<String> = live
        .received()
        .into_iter()
        .filter_map(|r| match r {
            Received::Console { level, text } if level == "warn" => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "reported once: {warnings:?}");
    assert!(warnings[0].starts_with("process() wrote NaN to outputs[0][0][3] at frame 259"), "{}", warnings[0]);
}
