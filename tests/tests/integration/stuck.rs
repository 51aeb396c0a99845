//! A render thread stuck where no limit reaches (native code: a regular
//! expression that backtracks for ages) during an offline bounce: the host side
//! waits one patience for it, then stops waiting on that generation, so the
//! bounce takes one patience longer instead of one per block.

use std::time::{Duration, Instant};

use worklet::render::PipelineConfig;
use worklet_tests::live::{Live, config, recipe};

/// Stuck from frame 1280 on, in a regular expression that backtracks 2^40 times.
const STUCK: &str = "registerProcessor('stuck', class extends AudioWorkletProcessor {
  process(i, [out]) {
    if (currentFrame >= 1280) /(a+)+b/.test('a'.repeat(40));
    out[0].fill(0.5);
    return true;
  }
});";

#[test]
fn an_offline_bounce_with_a_stuck_script_waits_once_not_per_block() {
    let output = worklet_tests::in_own_process("stuck::offline_bounce");
    let line = output.lines().find(|l| l.starts_with("400 blocks of 128 frames")).expect("the child's timing");
    eprintln!("{line}");
}

/// Run by the test above in its own process (the stuck thread ends with it).
#[test]
#[ignore = "run in its own process by an_offline_bounce_with_a_stuck_script_waits_once_not_per_block"]
fn offline_bounce() {
    if !worklet_tests::own_process() {
        return;
    }
    let offline = PipelineConfig { offline: true, ..config(128) };
    let mut live = Live::new(offline, recipe(STUCK));
    let input = vec![0.0f32; 128];
    let mut output = vec![vec![0.0f32; 128]; 2];
    let started = Instant::now();
    let mut last = Vec::new();
    for _ in 0..400 {
        let mut slices: Vec<&mut [f32]> = output.iter_mut().map(Vec::as_mut_slice).collect();
        live.host.process(&[&input, &input], &mut slices, &[]);
        last = output[0].clone();
    }
    let took = started.elapsed();
    eprintln!("400 blocks of 128 frames, stuck after 10: {took:?}");
    // One patience (5 s) plus the blocks; one patience per block would be 30 minutes.
    assert!(took < Duration::from_secs(20), "the bounce took {took:?}");
    assert!(live.pipeline.telemetry().underruns() > 0, "the stuck generation's blocks are counted as underruns");
    assert!(last.iter().all(|&s| s == 0.0), "and played as silence");
}
