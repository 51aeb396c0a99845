//! The `process(inputs, outputs, parameters)` contract, one quantum at a time.

use serde_json::json;
use worklet::engine::{ParamStep, RenderSpec};
use worklet_tests::{message_data, processor_errors, render_source, spec};

fn with_input(frames: u64, channels: usize) -> RenderSpec {
    let input = (0..channels).map(|c| (0..frames).map(|n| (n as f32 + 1.0) * (c as f32 + 1.0)).collect()).collect();
    RenderSpec { frames, input: Some(input), ..RenderSpec::default() }
}

#[test]
fn arrays_are_frozen_float32_arrays_of_128() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           static parameterDescriptors = [{ name: 'g' }];
           process(inputs, outputs, parameters) {
             this.port.postMessage([
               Object.isFrozen(inputs), Object.isFrozen(inputs[0]), Object.isFrozen(outputs), Object.isFrozen(outputs[0]),
               Object.isFrozen(parameters), inputs[0][0] instanceof Float32Array, inputs[0][0].length,
               outputs[0][1] instanceof Float32Array, outputs[0][1].length, Array.isArray(inputs), Object.keys(parameters),
             ]);
             return false;
           }
         });",
        &with_input(128, 2),
    );
    assert_eq!(message_data(&rendered), [json!([true, true, true, true, true, true, 128, true, 128, true, ["g"]])]);
}

#[test]
fn arrays_are_reused_between_calls_and_inputs_carry_the_input() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process(inputs, outputs) {
             if (!this.first) this.first = [inputs, outputs, inputs[0][1], outputs[0][0]];
             const [i, o, ic, oc] = this.first;
             this.port.postMessage([i === inputs, o === outputs, ic === inputs[0][1], oc === outputs[0][0], inputs[0][0][0], inputs[0][1][127]]);
             return true;
           }
         });",
        &with_input(256, 2),
    );
    assert_eq!(
        message_data(&rendered),
        [json!([true, true, true, true, 1, 256]), json!([true, true, true, true, 129, 512])]
    );
}

#[test]
fn outputs_are_zero_filled_before_every_call() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process(inputs, outputs) {
             const out = outputs[0][0];
             this.port.postMessage(out.every((s) => s === 0));
             out.fill(0.5); // left over unless the engine clears it
             return true;
           }
         });",
        &with_input(384, 1),
    );
    assert_eq!(message_data(&rendered), [json!(true), json!(true), json!(true)]);
    assert!(rendered.output[0].iter().all(|&s| (s - 0.5).abs() < 1e-7), "what process wrote is the output");
}

#[test]
fn parameter_arrays_have_length_1_unless_the_value_changes_inside_the_quantum() {
    let source = "registerProcessor('p', class extends AudioWorkletProcessor {
        static parameterDescriptors = [{ name: 'a', defaultValue: 0 }, { name: 'k', defaultValue: 0, automationRate: 'k-rate' }];
        process(i, o, p) { this.port.postMessage([p.a.length, p.a[0], p.a[p.a.length - 1], p.k.length, p.k[0]]); return true; }
      });";
    let step = |name: &str, value, frame| ParamStep { name: name.into(), value, frame };
    let automation = vec![step("a", 0.5, 200), step("k", 0.5, 200), step("a", 0.25, 384), step("k", 1.0, 400)];
    let rendered = render_source(source, &RenderSpec { frames: 640, automation, ..RenderSpec::default() });
    assert_eq!(
        message_data(&rendered),
        [
            json!([1, 0, 0, 1, 0]),         // quantum 0..128: constant
            json!([128, 0, 0.5, 1, 0]),     // 128..256: a steps at 200; k keeps its value at the quantum start
            json!([1, 0.5, 0.5, 1, 0.5]),   // 256..384: constant again
            json!([1, 0.25, 0.25, 1, 0.5]), // 384..512: a steps exactly on the boundary; k steps at 400, inside
            json!([1, 0.25, 0.25, 1, 1]),
        ]
    );
}

#[test]
fn a_rate_arrays_hold_the_step_at_the_exact_frame() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           static parameterDescriptors = [{ name: 'a', defaultValue: 0 }];
           process(i, o, p) { if (p.a.length === 128) this.port.postMessage([p.a[71], p.a[72], p.a[127]]); return true; }
         });",
        &RenderSpec { frames: 256, automation: vec![ParamStep { name: "a".into(), value: 1.0, frame: 200 }], ..RenderSpec::default() },
    );
    assert_eq!(message_data(&rendered), [json!([0, 1, 1])]);
}

#[test]
fn parameter_values_are_clamped_to_the_nominal_range() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           static parameterDescriptors = [{ name: 'a', defaultValue: 0, minValue: -1, maxValue: 1 }];
           process(i, o, p) { this.port.postMessage(p.a[0]); return false; }
         });",
        &RenderSpec {
            frames: 128,
            automation: vec![ParamStep { name: "a".into(), value: 7.0, frame: 0 }],
            ..RenderSpec::default()
        },
    );
    assert_eq!(message_data(&rendered), [json!(1)]);
}

#[test]
fn process_is_looked_up_on_every_quantum() {
    let rendered = render_source(
        "let calls = 0;
         registerProcessor('p', class extends AudioWorkletProcessor {
           get process() {
             calls++;
             const n = calls;
             return function () { this.port.postMessage(n); return true; };
           }
         });",
        &spec(384),
    );
    assert_eq!(message_data(&rendered), [json!(1), json!(2), json!(3)]);
}

#[test]
fn process_can_be_replaced_at_run_time() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process() { this.process = () => { this.port.postMessage('second'); return true; }; this.port.postMessage('first'); return true; }
         });",
        &spec(384),
    );
    assert_eq!(message_data(&rendered), [json!("first"), json!("second"), json!("second")]);
}

#[test]
fn a_falsy_return_without_input_stops_processing_silently() {
    let source = "registerProcessor('p', class extends AudioWorkletProcessor {
        process(i, outputs) { this.port.postMessage(currentFrame); outputs[0][0].fill(1); return this.keep; }
        constructor() { super(); this.keep = undefined; }
      });";
    let rendered = render_source(
        source,
        &RenderSpec { frames: 384, options: json!({"numberOfInputs": 0}), ..RenderSpec::default() },
    );
    assert_eq!(message_data(&rendered), [json!(0)], "undefined counts as false: process is not called again");
    assert!(rendered.output[0][..128].iter().all(|&s| (s - 1.0).abs() < 1e-7));
    assert!(rendered.output[0][128..].iter().all(|&s| s == 0.0));
    assert!(processor_errors(&rendered).is_empty(), "returning false is not an error");
}

#[test]
fn a_falsy_return_with_a_connected_input_keeps_processing() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor { process() { this.port.postMessage(currentFrame); return false; } });",
        &with_input(384, 1),
    );
    assert_eq!(message_data(&rendered), [json!(0), json!(128), json!(256)]);
}

#[test]
fn truthy_non_boolean_returns_keep_the_node_alive() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor { process() { this.port.postMessage(currentFrame); return 1; } });",
        &RenderSpec { frames: 256, options: json!({"numberOfInputs": 0}), ..RenderSpec::default() },
    );
    assert_eq!(message_data(&rendered), [json!(0), json!(128)]);
}

#[test]
fn microtasks_run_once_after_process_before_the_next_quantum() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process() {
             const frame = currentFrame;
             Promise.resolve().then(() => this.port.postMessage(['microtask', frame, currentFrame]));
             queueMicrotaskLike(() => this.port.postMessage(['chained', frame]));
             this.port.postMessage(['process', frame]);
             return true;
           }
         });
         function queueMicrotaskLike(f) { Promise.resolve().then(() => Promise.resolve()).then(f); }",
        &spec(256),
    );
    assert_eq!(
        message_data(&rendered),
        [
            json!(["process", 0]),
            json!(["microtask", 0, 0]),
            json!(["chained", 0]),
            json!(["process", 128]),
            json!(["microtask", 128, 128]),
            json!(["chained", 128]),
        ]
    );
}

#[test]
fn partial_last_quantum_is_truncated_to_the_requested_length() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor { process(i, o) { o[0][0].fill(0.25); return true; } });",
        &with_input(300, 1),
    );
    assert_eq!(rendered.output.len(), 1);
    assert_eq!(rendered.output[0].len(), 300);
}
