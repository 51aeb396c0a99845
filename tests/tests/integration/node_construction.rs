//! Node construction: AudioWorkletNodeOptions, the options object the constructor
//! receives, `this.port` in the constructor, and the base class's construction rule.

use serde_json::json;
use worklet::engine::{CreateError, NodeOptions, RenderError, RenderSpec, render};
use worklet_tests::{console, message_data, processor_errors, realm, render_source, spec};

const ECHO_OPTIONS: &str = "
registerProcessor('echo', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.port.postMessage({ keys: Object.keys(options), options });
  }
  process() { return true; }
});";

fn options_seen(options: serde_json::Value) -> serde_json::Value {
    let rendered = render_source(ECHO_OPTIONS, &RenderSpec { frames: 0, options, ..RenderSpec::default() });
    message_data(&rendered).remove(0)
}

#[test]
fn the_constructor_gets_only_the_given_keys_plus_the_two_counts() {
    assert_eq!(
        options_seen(json!(null)),
        json!({"keys": ["numberOfInputs", "numberOfOutputs"], "options": {"numberOfInputs": 1, "numberOfOutputs": 1}})
    );
    let seen =
        options_seen(json!({"numberOfOutputs": 2, "outputChannelCount": [1, 3], "processorOptions": {"mode": "x"}}));
    assert_eq!(seen["keys"], json!(["numberOfInputs", "numberOfOutputs", "outputChannelCount", "processorOptions"]));
    assert_eq!(seen["options"]["numberOfOutputs"], json!(2));
    assert_eq!(seen["options"]["processorOptions"], json!({"mode": "x"}));
}

#[test]
fn processor_options_are_deep_copies_with_structured_clone_types() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor(options) {
             super();
             const o = options.processorOptions;
             this.port.postMessage([typeof o.missing, o.big === 10n, o.table instanceof Float32Array, o.table.length, Object.isFrozen(o)]);
             o.table[0] = 9; // a private copy: mutating it is allowed
           }
           process() { return true; }
         });",
        &RenderSpec {
            frames: 0,
            options: json!({"processorOptions": {"missing": {"$undefined": null}, "big": {"$bigint": "10"}, "table": {"$Float32Array": [1, 2, 3]}}}),
            ..RenderSpec::default()
        },
    );
    assert_eq!(message_data(&rendered), [json!(["undefined", true, true, 3, false])]);
}

#[test]
fn invalid_options_throw_what_the_node_constructor_throws() {
    let cases = [
        (json!({"numberOfInputs": 0, "numberOfOutputs": 0}), "NotSupportedError"),
        (json!({"outputChannelCount": [0]}), "NotSupportedError"),
        (json!({"numberOfOutputs": 2, "outputChannelCount": [2]}), "IndexSizeError"),
        (json!({"numberOfInputs": "two"}), "TypeError"),
    ];
    for (options, expected) in cases {
        let realm = realm(ECHO_OPTIONS);
        let error =
            render(realm, &RenderSpec { frames: 128, options: options.clone(), ..RenderSpec::default() }, &mut |_| {})
                .unwrap_err();
        match error {
            RenderError::Create(CreateError::Options(e)) => assert_eq!(e.name, expected, "{options}"),
            other => panic!("{options}: unexpected {other:?}"),
        }
    }
}

#[test]
fn an_unknown_processor_is_an_invalid_state_that_lists_the_registered_ones() {
    let realm = realm(ECHO_OPTIONS);
    let spec = RenderSpec { frames: 128, processor: Some("nope".into()), ..RenderSpec::default() };
    let error = render(realm, &spec, &mut |_| {}).unwrap_err().to_string();
    assert!(error.starts_with("InvalidStateError"), "{error}");
    assert!(error.contains("echo"), "{error}");
}

#[test]
fn the_first_registered_processor_is_the_default() {
    let rendered = render_source(
        "registerProcessor('first', class extends AudioWorkletProcessor { process() { return true; } });
         registerProcessor('second', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(0),
    );
    assert_eq!(rendered.processor, "first");
}

#[test]
fn output_channel_counts_follow_the_options() {
    let source = "registerProcessor('p', class extends AudioWorkletProcessor {
        process(inputs, outputs) {
          if (currentFrame === 0) this.port.postMessage([inputs.map((i) => i.length), outputs.map((o) => o.length)]);
          return true;
        }
      });";
    let with = |options, input: Option<usize>| {
        let input = input.map(|channels| vec![vec![0.0; 128]; channels]);
        message_data(&render_source(source, &RenderSpec { frames: 128, options, input, ..RenderSpec::default() }))
            .remove(0)
    };
    assert_eq!(with(json!(null), Some(2)), json!([[2], [2]]), "1-in 1-out follows the input");
    assert_eq!(with(json!(null), Some(1)), json!([[1], [1]]));
    assert_eq!(with(json!(null), None), json!([[0], [1]]), "unconnected input has zero channels");
    assert_eq!(with(json!({"numberOfInputs": 2, "numberOfOutputs": 3}), Some(2)), json!([[2, 0], [1, 1, 1]]));
    assert_eq!(with(json!({"outputChannelCount": [4]}), Some(2)), json!([[2], [4]]));
    assert_eq!(with(json!({"numberOfInputs": 0}), None), json!([[], [1]]));
    assert_eq!(with(json!({"channelCountMode": "explicit", "channelCount": 1}), Some(2)), json!([[1], [1]]));
}

#[test]
fn parameter_data_sets_initial_values() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           static parameterDescriptors = [{ name: 'a', defaultValue: 0.25 }, { name: 'b', defaultValue: 1 }];
           process(i, o, p) { this.port.postMessage([p.a[0], p.b[0]]); return false; }
         });",
        &RenderSpec {
            frames: 128,
            options: json!({"parameterData": {"b": 0.5, "unknown": 3}}),
            ..RenderSpec::default()
        },
    );
    assert_eq!(message_data(&rendered), [json!([0.25, 0.5])]);
}

#[test]
fn node_options_defaults_match_the_spec() {
    let options = NodeOptions::default();
    assert_eq!((options.number_of_inputs, options.number_of_outputs, options.channel_count), (1, 1, 2));
}

#[test]
fn this_port_is_ready_in_the_constructor_after_super() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.postMessage(this.port instanceof MessagePort && this.port !== port);
           }
           process() { return true; }
         });",
        &spec(0),
    );
    assert_eq!(message_data(&rendered), [json!(true)]);
}

#[test]
fn the_base_class_is_constructible_only_during_node_construction() {
    let rendered = render_source(
        "const outcomes = [];
         try { new AudioWorkletProcessor(); outcomes.push('constructed'); } catch (e) { outcomes.push(e.name); }
         class P extends AudioWorkletProcessor {
           constructor() {
             super();
             try { new AudioWorkletProcessor(); outcomes.push('second constructed'); } catch (e) { outcomes.push('second ' + e.name); }
             this.port.postMessage(outcomes);
           }
           process() { return true; }
         }
         try { new P(); outcomes.push('subclass constructed'); } catch (e) { outcomes.push('subclass ' + e.name); }
         registerProcessor('p', P);",
        &spec(0),
    );
    assert_eq!(message_data(&rendered), [json!(["TypeError", "subclass TypeError", "second TypeError"])]);
    assert!(processor_errors(&rendered).is_empty());
}

#[test]
fn calling_super_twice_throws_and_the_error_is_a_processorerror() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); super(); }
           process() { return true; }
         });",
        &spec(256),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 0, "constructor errors are observed at frame 0");
    assert!(console(&rendered).is_empty());
}
