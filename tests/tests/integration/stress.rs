//! The node side and the processor exchange messages continuously from two OS
//! threads while the render thread renders: no loss below queue capacity, order kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use worklet::engine::{AudioBuses, Instance, NodeOptions, ParamFrame, RENDER_QUANTUM};
use worklet::port::{NODE_PORT, Received, channel_pair};

const MESSAGES: u64 = 20_000;
/// Messages in flight at most: well below both queue capacities.
const WINDOW: u64 = 256;

#[test]
fn continuous_exchange_from_two_threads_loses_nothing() {
    let (mut main, router) = channel_pair();
    let stop = Arc::new(AtomicBool::new(false));
    let quanta = Arc::new(AtomicU64::new(0));
    let render = {
        let (stop, quanta) = (stop.clone(), quanta.clone());
        thread::spawn(move || {
            let realm = worklet_tests::realm(
                "registerProcessor('echo', class extends AudioWorkletProcessor {
                   constructor() { super(); this.port.onmessage = (e) => this.port.postMessage({ echo: e.data }); }
                   process(inputs, [output]) {
                     output[0].fill(0.5);
                     if (currentFrame % 12800 === 0) this.port.postMessage({ tick: currentFrame });
                     return true;
                   }
                 });",
            );
            let mut instance = Instance::new(realm, router, "echo", &NodeOptions::default(), &[Some(1)]).unwrap();
            let inputs = AudioBuses::silent(instance.node().input_channels());
            let mut outputs = AudioBuses::silent(instance.node().output_channels());
            let params = ParamFrame::constant(instance.node().initial_values());
            let mut frame = 0;
            while !stop.load(Ordering::Acquire) {
                instance.set_frame(frame);
                instance.run_tasks();
                instance.render(&inputs, &params, &mut outputs);
                assert!((outputs.buses[0][0][0] - 0.5).abs() < 1e-7);
                frame += RENDER_QUANTUM as u64;
                quanta.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let deadline = Instant::now() + Duration::from_secs(300);
    let (mut sent, mut echoed, mut ticks) = (0u64, 0u64, 0u64);
    while echoed < MESSAGES {
        assert!(Instant::now() < deadline, "exchange stalled at {echoed} of {MESSAGES} echoes");
        while sent < MESSAGES && sent - echoed < WINDOW {
            main.post(NODE_PORT, json!(sent), &[]).expect("no drop below capacity");
            sent += 1;
        }
        match main.try_receive() {
            Some(Received::Message { data, .. }) if data.get("echo").is_some() => {
                assert_eq!(data["echo"], json!(echoed), "echoes arrive in order");
                echoed += 1;
            }
            Some(Received::Message { data, .. }) if data.get("tick").is_some() => ticks += 1,
            Some(other) => panic!("unexpected {other:?}"),
            None => thread::yield_now(),
        }
    }
    stop.store(true, Ordering::Release);
    render.join().expect("the render thread finished cleanly");
    assert_eq!(main.dropped().total(), 0);
    assert!(quanta.load(Ordering::Relaxed) >= MESSAGES / 256, "rendering went on during the exchange");
    assert!(ticks >= 1, "the processor's own posts got through too (the first is at frame 0)");
}
