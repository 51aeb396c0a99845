//! Message floods in both directions: nothing blocks, rendering goes on every
//! quantum, delivery per quantum is bounded, and the drops are counted.

use serde_json::json;
use worklet::engine::MAX_TASKS_PER_QUANTUM;
use worklet::port::{NODE_PORT, PostError, TO_MAIN_CAPACITY, TO_REALM_CAPACITY};
use worklet_tests::{Harness, received_data};

const FLOOD: usize = 100_000;

#[test]
fn a_flood_from_the_node_side_is_dropped_and_counted_without_stalling_rendering() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.expected = 0;
             this.received = 0;
             this.port.onmessage = (e) => {
               if (e.data !== this.expected) throw new Error('out of order: ' + e.data + ' after ' + this.expected);
               this.expected++;
               this.received++;
             };
           }
           process() {
             this.port.postMessage({ frame: currentFrame, received: this.received });
             this.received = 0;
             return true;
           }
         });",
    );
    let mut accepted = 0;
    let mut refused = 0;
    for n in 0..FLOOD {
        match node.main.post(NODE_PORT, json!(n), &[]) {
            Ok(()) => accepted += 1,
            Err(PostError::Full) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(accepted, TO_REALM_CAPACITY);
    assert_eq!(refused, FLOOD - TO_REALM_CAPACITY);
    assert_eq!(
        node.main.dropped().to_realm,
        (FLOOD - TO_REALM_CAPACITY) as u64,
        "the node side can read the drop count"
    );

    let mut per_quantum = Vec::new();
    for quantum in 0..8u64 {
        let data = received_data(&node.quantum());
        assert_eq!(data.len(), 1, "process() ran in quantum {quantum}, and no error was logged: {data:?}");
        assert_eq!(data[0]["frame"], json!(quantum * 128));
        per_quantum.push(data[0]["received"].as_u64().unwrap() as usize);
    }
    assert!(per_quantum.iter().all(|&n| n <= MAX_TASKS_PER_QUANTUM), "{per_quantum:?}");
    assert_eq!(per_quantum.iter().sum::<usize>(), TO_REALM_CAPACITY, "every accepted message arrived, in order");
    assert_eq!(per_quantum[0], MAX_TASKS_PER_QUANTUM, "the rest waited for later quanta");
}

#[test]
fn a_flood_from_the_processor_is_dropped_and_counted_and_rendering_goes_on() {
    let mut node = Harness::new(&format!(
        "registerProcessor('p', class extends AudioWorkletProcessor {{
           process(inputs, [output]) {{
             if (currentFrame === 0) for (let n = 0; n < {FLOOD}; n++) this.port.postMessage(n);
             else this.port.postMessage('after the flood');
             output[0].fill(0.25);
             return true;
           }}
         }});"
    ));
    node.render_only();
    let first = received_data(&node.drain());
    assert_eq!(first.len(), TO_MAIN_CAPACITY);
    assert_eq!(first[0], json!(0));
    assert_eq!(first[TO_MAIN_CAPACITY - 1], json!(TO_MAIN_CAPACITY - 1), "the first ones arrive, in order");
    assert_eq!(node.main.dropped().to_main, (FLOOD - TO_MAIN_CAPACITY) as u64);
    assert_eq!(received_data(&node.quantum()), [json!("after the flood")]);
    assert!((node.output().buses[0][0][0] - 0.25).abs() < 1e-7, "the node still renders");
}

#[test]
fn a_port_that_is_never_started_cannot_grow_without_bound() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.addEventListener('message', () => {}); }
           process() { return true; }
         });",
    );
    let mut sent = 0u64;
    for _ in 0..8 {
        for n in 0..TO_REALM_CAPACITY {
            if node.main.post(NODE_PORT, json!(n), &[]).is_ok() {
                sent += 1;
            }
        }
        for _ in 0..(TO_REALM_CAPACITY / MAX_TASKS_PER_QUANTUM) {
            node.quantum();
        }
    }
    let dropped = node.main.dropped();
    assert_eq!(sent, 8 * TO_REALM_CAPACITY as u64);
    assert_eq!(dropped.port_queue, sent - 4096, "the unstarted port keeps 4096 messages and counts the rest");
}
