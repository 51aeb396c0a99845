//! `registerProcessor`: every validation step of the spec, with the right error names.

use serde_json::{Value, json};
use worklet_tests::{message_data, render_source, spec};

/// Runs `body` (which may throw) at module level and returns `[name, isError, message]`.
fn outcome(body: &str) -> Value {
    let source = format!(
        "let result;
         try {{ {body}; result = ['ok', true, '']; }}
         catch (e) {{ result = [e.name, e instanceof Error, String(e.message)]; }}
         port.postMessage(result);
         registerProcessor('__probe', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});"
    );
    message_data(&render_source(&source, &spec(0))).remove(0)
}

fn name(body: &str) -> String {
    outcome(body)[0].as_str().unwrap().to_owned()
}

#[test]
fn empty_and_duplicate_names_are_not_supported() {
    assert_eq!(name("registerProcessor('', class extends AudioWorkletProcessor {})"), "NotSupportedError");
    assert_eq!(
        name(
            "registerProcessor('a', class extends AudioWorkletProcessor {}); registerProcessor('a', class extends AudioWorkletProcessor {})"
        ),
        "NotSupportedError"
    );
    let result = outcome("registerProcessor('', class {})");
    assert_eq!(result[1], json!(true), "DOMException is an Error");
}

#[test]
fn dom_exceptions_carry_legacy_codes() {
    let rendered = render_source(
        "try { registerProcessor('', class {}); } catch (e) {
           port.postMessage([e instanceof DOMException, e.code, Object.prototype.toString.call(e)]);
         }
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(0),
    );
    assert_eq!(message_data(&rendered), [json!([true, 9, "[object DOMException]"])]);
}

#[test]
fn non_constructors_are_type_errors() {
    assert_eq!(name("registerProcessor('a', () => {})"), "TypeError");
    assert_eq!(name("registerProcessor('a', {})"), "TypeError");
    assert_eq!(name("registerProcessor('a', Math.max)"), "TypeError");
    assert_eq!(name("registerProcessor('a')"), "TypeError");
}

#[test]
fn a_prototype_that_is_not_an_object_is_a_type_error() {
    assert_eq!(name("function F() {} F.prototype = 3; registerProcessor('a', F)"), "TypeError");
    assert_eq!(name("function F() {} F.prototype = null; registerProcessor('a', F)"), "TypeError");
}

#[test]
fn parameter_descriptors_must_be_iterable() {
    assert_eq!(name("registerProcessor('a', class { static parameterDescriptors = 5 })"), "TypeError");
    assert_eq!(name("registerProcessor('a', class { static parameterDescriptors = {} })"), "TypeError");
    assert_eq!(name("registerProcessor('a', class { static parameterDescriptors = null })"), "TypeError");
    assert_eq!(
        name("registerProcessor('a', class { static parameterDescriptors = [{}] })"),
        "TypeError",
        "name is required"
    );
    assert_eq!(
        name(
            "registerProcessor('a', class { static parameterDescriptors = [{ name: 'x', automationRate: 'x-rate' }] })"
        ),
        "TypeError"
    );
    assert_eq!(
        name("registerProcessor('a', class { static parameterDescriptors = [{ name: 'x', minValue: NaN }] })"),
        "TypeError"
    );
}

#[test]
fn duplicate_parameter_names_are_not_supported() {
    assert_eq!(
        name("registerProcessor('a', class { static parameterDescriptors = [{ name: 'g' }, { name: 'g' }] })"),
        "NotSupportedError"
    );
}

#[test]
fn a_default_outside_the_range_is_an_invalid_state() {
    assert_eq!(
        name(
            "registerProcessor('a', class { static parameterDescriptors = [{ name: 'g', defaultValue: 2, maxValue: 1 }] })"
        ),
        "InvalidStateError"
    );
    assert_eq!(
        name(
            "registerProcessor('a', class { static parameterDescriptors = [{ name: 'g', defaultValue: -1, minValue: 0 }] })"
        ),
        "InvalidStateError"
    );
}

#[test]
fn a_failed_registration_registers_nothing() {
    let rendered = render_source(
        "try { registerProcessor('bad', class { static parameterDescriptors = [{ name: 'g' }, { name: 'g' }] }); } catch {}
         registerProcessor('bad', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(0),
    );
    assert_eq!(rendered.processor, "bad", "the name stayed free after the failed attempt");
}

#[test]
fn descriptors_come_from_any_iterable_with_spec_defaults() {
    let mut realm = worklet_tests::realm(
        "class P extends AudioWorkletProcessor {
           static get parameterDescriptors() {
             return new Set([{ name: 'plain' }, { name: 'k', defaultValue: 0.1, minValue: -1, maxValue: 1, automationRate: 'k-rate' }]);
           }
         }
         registerProcessor('p', P);",
    );
    let described = realm.describe().unwrap();
    assert_eq!(
        described[0]["parameterDescriptors"],
        json!([
            {"name": "plain", "defaultValue": 0, "minValue": -3.4028234663852886e38, "maxValue": 3.4028234663852886e38, "automationRate": "a-rate"},
            {"name": "k", "defaultValue": 0.10000000149011612, "minValue": -1, "maxValue": 1, "automationRate": "k-rate"}
        ])
    );
}

#[test]
fn the_getter_runs_exactly_once_during_registration() {
    let rendered = render_source(
        "let reads = 0;
         registerProcessor('p', class extends AudioWorkletProcessor {
           static get parameterDescriptors() { reads++; return []; }
           process() { return true; }
         });
         port.postMessage(reads);",
        &spec(256),
    );
    assert_eq!(message_data(&rendered), [json!(1)]);
}
