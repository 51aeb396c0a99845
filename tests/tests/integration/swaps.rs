//! Hot swaps as the host side does them: an equal-gain crossfade that keeps the
//! level of correlated outputs, a generation arriving during a fade waiting for
//! it, the newest of several ready generations winning, and each generation
//! mapping the host's normalized slot values with its own ranges.

use worklet::render::{ParamChange, PipelineEvent};
use worklet_tests::live::{Live, config, recipe};

/// A processor whose every output sample is `value`.
fn constant(value: f32) -> String {
    format!(
        "registerProcessor('constant', class extends AudioWorkletProcessor {{
           process(inputs, [output]) {{ for (const channel of output) channel.fill({value}); return true; }}
         }});"
    )
}

/// A processor that outputs its parameter `g`, whose range is `0..max`.
fn param_echo(max: f32) -> String {
    format!(
        "registerProcessor('echo', class extends AudioWorkletProcessor {{
           static parameterDescriptors = [{{ name: 'g', defaultValue: 0, minValue: 0, maxValue: {max} }}];
           process(inputs, [output], {{ g }}) {{
             for (const channel of output) for (let i = 0; i < channel.length; i++) channel[i] = g[g.length > 1 ? i : 0];
             return true;
           }}
         }});"
    )
}

fn silence(frames: usize) -> Vec<Vec<f32>> {
    vec![vec![0.0; frames]; 2]
}

fn loaded(live: &mut Live, source: &str) {
    assert!(matches!(live.load(recipe(source)), PipelineEvent::Ready { .. }));
}

/// The largest difference between adjacent samples of channel 0.
fn largest_step(output: &[f32]) -> f32 {
    output.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max)
}

#[test]
fn a_swap_between_correlated_outputs_keeps_the_level_within_a_tenth_of_a_db() {
    let mut live = Live::new(config(128), recipe(&constant(0.5)));
    live.run(&silence(4096), &[128]);
    loaded(&mut live, &constant(0.5).replace("constant", "edited"));
    let output = live.run(&silence(8192), &[128]);
    assert_eq!(live.pipeline.telemetry().active_generation(), 2, "the swap happened");
    // The whole swap: attached at once, heard one latency later, faded over 512 frames.
    let settled = &output[0][..];
    let db = |s: f32| 20.0 * (s / 0.5).log10();
    let loudest = settled.iter().copied().fold(0.0, f32::max);
    let quietest = settled.iter().copied().fold(f32::MAX, f32::min);
    eprintln!("level during a swap of correlated outputs: {:+.4} dB to {:+.4} dB", db(quietest), db(loudest));
    assert!(
        db(loudest) < 0.1 && db(quietest) > -0.1,
        "level during the swap: {} dB to {} dB",
        db(quietest),
        db(loudest)
    );
}

#[test]
fn a_generation_that_arrives_during_a_fade_waits_for_it() {
    let mut live = Live::new(config(128), recipe(&constant(0.0)));
    let mut heard = live.run(&silence(2048), &[128]).swap_remove(0);
    loaded(&mut live, &constant(1.0));
    // Play until generation 2 is audibly fading in, then a little more.
    let mut quanta = 0;
    while live.host.fading_in() != Some(2) {
        heard.extend(live.run(&silence(128), &[128]).swap_remove(0));
        quanta += 1;
        assert!(quanta < 1000, "generation 2 never started to fade in");
    }
    heard.extend(live.run(&silence(256), &[128]).swap_remove(0));
    loaded(&mut live, &constant(-1.0));
    heard.extend(live.run(&silence(16384), &[128]).swap_remove(0));
    assert_eq!(live.pipeline.telemetry().active_generation(), 3);
    let step = largest_step(&heard);
    eprintln!("largest step between adjacent samples, swap during a fade: {step:.5}");
    // A raised-cosine fade over 512 frames moves at most pi/1024 per frame and unit of distance.
    assert!(step < 2.0 * std::f32::consts::PI / 1024.0 + 1e-4, "largest step between adjacent samples: {step}");
    assert!(heard.iter().any(|&s| (s - 1.0).abs() < 1e-6), "generation 2 was heard fully before generation 3");
    assert!((heard.last().copied().unwrap() + 1.0).abs() < 1e-6);
}

#[test]
fn the_newest_of_several_ready_generations_wins() {
    let mut live = Live::new(config(128), recipe(&constant(0.0)));
    live.run(&silence(1024), &[128]);
    // The host side takes nothing while these are built: more than its ring holds.
    for value in 1..=7 {
        loaded(&mut live, &constant(value as f32));
    }
    let output = live.run(&silence(16384), &[128]);
    assert_eq!(live.pipeline.telemetry().active_generation(), 8, "the last edit plays");
    assert!((output[0].last().copied().unwrap() - 7.0).abs() < 1e-6);
    assert!(
        output[0].iter().all(|&s| s == 0.0 || (s - 7.0).abs() < 1e-3 || (0.0..7.0).contains(&s)),
        "only generations 1 and 8 are heard"
    );
    assert!(largest_step(&output[0]) < 7.0 * std::f32::consts::PI / 1024.0 + 1e-3, "one clean fade");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while live.pipeline.threads() > 1 {
        live.run(&silence(128), &[128]);
        assert!(std::time::Instant::now() < deadline, "the skipped generations' threads end");
    }
}

#[test]
fn each_generation_maps_normalized_values_with_its_own_range() {
    let mut live = Live::new(config(128), recipe(&param_echo(1.0)));
    let input = silence(128);
    let refs: Vec<&[f32]> = input.iter().map(Vec::as_slice).collect();
    live.block(&refs, 128, &[ParamChange { offset: 0, slot: 0, normalized: 0.5 }]);
    let before = live.run(&silence(2048), &[128]);
    assert!(before[0][1024..].iter().all(|&s| (s - 0.5).abs() < 1e-6), "0.5 of 0..1");
    loaded(&mut live, &param_echo(10.0));
    let during = live.run(&silence(8192), &[128]);
    assert_eq!(live.pipeline.telemetry().active_generation(), 2);
    // The old generation keeps hearing 0.5 until it is faded out; the new one
    // hears the replayed 0.5 of its range, 5.0, from its first frame.
    let first_change = during[0].iter().position(|&s| (s - 0.5).abs() > 1e-6).unwrap();
    let fade = &during[0][first_change..first_change + 512];
    assert!(fade.windows(2).all(|w| w[1] >= w[0] - 1e-6), "a monotonic fade from 0.5 to 5.0");
    assert!(largest_step(&during[0]) < 4.5 * std::f32::consts::PI / 1024.0 + 1e-4, "no jump");
    assert!(during[0][first_change + 600..].iter().all(|&s| (s - 5.0).abs() < 1e-5), "0.5 of 0..10");
}
