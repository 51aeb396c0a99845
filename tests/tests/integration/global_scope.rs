//! AudioWorkletGlobalScope globals: sampleRate, currentFrame, currentTime,
//! renderQuantumSize, registerProcessor, port, console.

use serde_json::json;
use worklet::engine::{MainEvent, Realm, RealmConfig, render};
use worklet_tests::{console, message_data, render_source, spec};

#[test]
fn globals_have_their_values_and_types() {
    let rendered = render_source(
        r"
        port.postMessage({
          sampleRate, currentFrame, currentTime, renderQuantumSize,
          register: typeof globalThis.registerProcessor,
          port: port instanceof MessagePort,
          base: typeof AudioWorkletProcessor,
          scope: globalThis instanceof AudioWorkletGlobalScope && Object.prototype.toString.call(globalThis) === '[object AudioWorkletGlobalScope]',
        });
        registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });
        ",
        &spec(128),
    );
    assert_eq!(
        message_data(&rendered),
        [json!({"sampleRate": 48000, "currentFrame": 0, "currentTime": 0, "renderQuantumSize": 128,
                "register": "function", "port": true, "base": "function", "scope": true})]
    );
}

#[test]
fn sample_rate_follows_the_context() {
    let mut realm = Realm::new(&RealmConfig::new(44_100.0)).unwrap();
    realm
        .add_module_source(
            "rate.js",
            "registerProcessor('p', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(sampleRate); } process() { return true; } });",
        )
        .unwrap();
    let rendered = render(realm, &worklet_tests::spec(128), &mut |_| {}).unwrap();
    assert_eq!(message_data(&rendered), [json!(44100)]);
}

#[test]
fn current_frame_and_time_advance_by_one_quantum() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process() { this.port.postMessage([currentFrame, currentTime]); return true; }
         });",
        &spec(512),
    );
    let seen: Vec<(f64, f64)> =
        message_data(&rendered).iter().map(|v| (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())).collect();
    assert_eq!(seen.len(), 4);
    for (index, (frame, time)) in seen.iter().enumerate() {
        let expected = (index * 128) as f64;
        assert!((frame - expected).abs() < 1e-9, "currentFrame {frame} at quantum {index}");
        assert!((time - expected / 48_000.0).abs() < 1e-12, "currentTime {time} at quantum {index}");
    }
}

#[test]
fn globals_are_read_only() {
    let rendered = render_source(
        "'use strict';
         let failures = 0;
         for (const name of ['sampleRate', 'currentFrame', 'currentTime', 'renderQuantumSize', 'port']) {
           try { globalThis[name] = 1; } catch (e) { if (e instanceof TypeError) failures++; }
         }
         port.postMessage([failures, sampleRate]);
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(128),
    );
    assert_eq!(message_data(&rendered), [json!([5, 48000])]);
}

#[test]
fn console_levels_and_formatting_are_forwarded() {
    let rendered = render_source(
        "console.log('plain', 1, true, null, undefined);
         console.info('%s has %d items (%i%%)', 'list', 3.5, 42.9);
         console.warn({ a: [1, 'x'], b: { c: new Map([[1, 2]]) } });
         console.error(new Float32Array([0.5, 1]));
         console.debug(-0, 10n, Symbol('s'));
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(128),
    );
    let levels: Vec<&str> = rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Console { level, .. } => Some(level.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(levels, ["log", "info", "warn", "error", "debug"]);
    assert_eq!(
        console(&rendered),
        [
            "plain 1 true null undefined",
            "list has 3.5 items (42%)",
            "{ a: [ 1, 'x' ], b: { c: Map(1) { 1 => 2 } } }",
            "Float32Array(2) [ 0.5, 1 ]",
            "-0 10n Symbol(s)",
        ]
    );
    assert!(rendered.events.iter().all(|e| e.frame == 0), "module-time output is observed at frame 0");
}
