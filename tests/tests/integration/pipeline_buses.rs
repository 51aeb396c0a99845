//! The sidechain and auxiliary output buses through the real-time pipeline, in
//! render threads and in engine processes: the host's sidechain reaches the
//! node's second input, its outputs 1, 2, … reach the auxiliary buses, each with
//! the pipeline's constant latency, for host blocks of any size.

use worklet::render::{EngineProcess, PipelineConfig};
use worklet_tests::live::{Live, config, recipe};

/// Output 0 plays input 1 (the sidechain); output 1 plays input 0 at half
/// level; and the channel counts the processor saw are posted once.
const ROUTER: &str = r#"
class Router extends AudioWorkletProcessor {
  constructor() { super(); this.told = false; }
  process(inputs, outputs) {
    if (!this.told) {
      this.port.postMessage(inputs.map((i) => i.length).concat(outputs.map((o) => o.length)));
      this.told = true;
    }
    const [main, side] = inputs;
    for (let c = 0; c < outputs[0].length; c++) if (side[c]) outputs[0][c].set(side[c]);
    for (let c = 0; c < outputs[1].length; c++) {
      if (main[c]) for (let i = 0; i < 128; i++) outputs[1][c][i] = 0.5 * main[c][i];
    }
    return true;
  }
}
registerProcessor('router', Router);
"#;

fn buses(max_block: usize, sidechain: usize, isolation: bool) -> PipelineConfig {
    let isolation = isolation.then(|| EngineProcess::new(worklet_tests::worklet_binary()));
    PipelineConfig {
        input_channels: 1,
        output_channels: 1,
        sidechain_channels: sidechain,
        aux_output_channels: vec![1],
        isolation,
        ..config(max_block)
    }
}

fn router() -> worklet::render::Recipe {
    worklet::render::Recipe {
        options: serde_json::json!({"numberOfInputs": 2, "numberOfOutputs": 2, "outputChannelCount": [1, 1]}),
        ..recipe(ROUTER)
    }
}

/// Feeds a main ramp and a sidechain sawtooth in blocks of `sizes`; returns
/// the main and the auxiliary output.
fn run(live: &mut Live, frames: usize, sizes: &[usize]) -> (Vec<f32>, Vec<f32>) {
    let main: Vec<f32> = (0..frames).map(|n| n as f32 / frames as f32).collect();
    let side: Vec<f32> = (0..frames).map(|n| (n % 1000) as f32 / -1000.0).collect();
    let (mut out, mut aux) = (Vec::new(), Vec::new());
    let mut done = 0;
    for &size in sizes.iter().cycle() {
        if done >= frames {
            break;
        }
        let n = size.min(frames - done);
        let block = live.block(&[&main[done..done + n], &side[done..done + n]], n, &[]);
        out.extend_from_slice(&block[0]);
        aux.extend_from_slice(&block[1]);
        done += n;
    }
    (out, aux)
}

#[test]
fn the_sidechain_feeds_input_1_and_output_1_feeds_the_auxiliary_bus() {
    for isolation in [false, true] {
        for sizes in [&[128][..], &[1, 7, 500, 4096, 33][..]] {
            let config = buses(4096, 1, isolation);
            let latency = config.latency_frames();
            let mut live = Live::new(config, router());
            let frames = latency + 20_000;
            let (out, aux) = run(&mut live, frames, sizes);
            for n in latency..frames {
                let source = n - latency;
                let side = (source % 1000) as f32 / -1000.0;
                let main = 0.5 * source as f32 / frames as f32;
                assert!((out[n] - side).abs() < 1e-6, "isolated {isolation}, {sizes:?}: frame {n}: {}", out[n]);
                assert!((aux[n] - main).abs() < 1e-6, "isolated {isolation}, {sizes:?}: aux frame {n}: {}", aux[n]);
            }
            assert!(out[..latency].iter().chain(&aux[..latency]).all(|&s| s == 0.0));
            let told: Vec<_> = worklet_tests::received_data(&live.received());
            assert_eq!(told, [serde_json::json!([1, 1, 1, 1])], "isolated {isolation}");
        }
    }
}

#[test]
fn without_a_sidechain_bus_input_1_is_unconnected() {
    let config = buses(128, 0, false);
    let latency = config.latency_frames();
    let mut live = Live::new(config, router());
    let (out, aux) = run(&mut live, latency + 1_280, &[128]);
    assert!(out.iter().all(|&s| s == 0.0));
    assert!((aux[latency + 100] - 0.5 * 100.0 / (latency + 1_280) as f32).abs() < 1e-6);
    assert_eq!(worklet_tests::received_data(&live.received()), [serde_json::json!([1, 0, 1, 1])]);
}
