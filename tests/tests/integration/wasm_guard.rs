//! WebAssembly that goes wrong inside a processor: traps are located
//! `RuntimeError`s, runaway wasm is stopped by the same guard as runaway
//! JavaScript, deep recursion is a `RangeError`, and a realm that used wasm gives
//! its memory back when it goes. Modules travel through `postMessage` and
//! `processorOptions`, and a module seen before is not compiled again.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use worklet::engine::{Realm, RealmConfig, RenderSpec, render};
use worklet_tests::{Harness, js_bytes, message_data, processor_errors, received_data, render_source, spec};

fn connected(frames: u64) -> RenderSpec {
    RenderSpec { frames, input: Some(vec![vec![0.5; frames as usize]]), ..RenderSpec::default() }
}

/// A processor whose `process()` calls `exports.<call>` after `frames_before`
/// frames (the module's bytes are in `bytes`).
fn processor_calling(wat: &str, call: &str) -> String {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    format!(
        "const bytes = {};
const {{ exports }} = new WebAssembly.Instance(new WebAssembly.Module(bytes));
registerProcessor('p', class extends AudioWorkletProcessor {{
  process(inputs, outputs) {{
    outputs[0][0].fill(1);
    if (currentFrame >= 128) {{
      {call};
    }}
    return true;
  }}
}});",
        js_bytes(&bytes)
    )
}

#[test]
fn a_trap_is_a_runtime_error_located_at_the_javascript_call() {
    let source = processor_calling(r#"(module (func $boom (export "boom") unreachable))"#, "exports.boom()");
    let rendered = render_source(&source, &connected(512));
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (frame, message, file, line, _) = &errors[0];
    assert_eq!(*frame, 256, "observed after the quantum that trapped");
    assert!(message.starts_with("RuntimeError: unreachable"), "{message}");
    assert!(message.contains("in wasm function $boom [0]"), "names the wasm function: {message}");
    assert_eq!((file.as_str(), *line), ("test.js", 7), "located at the JavaScript call");
    assert!(rendered.output[0][..128].iter().all(|&s| s == 1.0), "the first quantum played");
    assert!(rendered.output[0][256..].iter().all(|&s| s == 0.0), "silence after the error");
}

#[test]
fn other_traps_use_chromiums_words() {
    let data = message_data(&render_source(
        &format!(
            "const bytes = {};
const {{ exports }} = new WebAssembly.Instance(new WebAssembly.Module(bytes));
const trap = (f) => {{ try {{ f(); }} catch (e) {{ return [e.constructor === WebAssembly.RuntimeError, e.message.split(' (')[0]]; }} }};
port.postMessage([trap(() => exports.div(1, 0)), trap(() => exports.load(1e6)), trap(() => exports.trunc(NaN))]);
registerProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});",
            js_bytes(
                &wat::parse_str(
                    r#"(module (memory 1)
                  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
                  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
                  (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s))"#
                )
                .unwrap()
            )
        ),
        &spec(128),
    ));
    assert_eq!(
        data,
        [json!([
            [true, "divide by zero"],
            [true, "memory access out of bounds"],
            [true, "float unrepresentable in integer range"]
        ])]
    );
}

/// Renders on a thread; fails if the guard does not stop the script in time.
fn render_bounded(source: String, frames: u64) -> (worklet::engine::Rendered, Duration) {
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(worklet::engine::STACK_BYTES)
        .spawn(move || {
            let started = Instant::now();
            let rendered = render_source(&source, &connected(frames));
            let _ = send.send((rendered, started.elapsed()));
        })
        .expect("a render thread");
    receive.recv_timeout(Duration::from_secs(120)).expect("the runaway guard did not stop the wasm within 120 s")
}

#[test]
fn an_endless_wasm_loop_is_stopped_by_the_runaway_guard_even_inside_try() {
    let source = processor_calling(
        r#"(module (func $spin (export "spin") (loop br 0)))"#,
        "try { exports.spin(); } catch (e) { for (;;) {} }",
    );
    let (rendered, took) = render_bounded(source, 512);
    eprintln!("an endless wasm loop was stopped after {took:?} (guard: 1 s per process() call)");
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.starts_with("RangeError: wasm code ran for more than 1 s"), "{}", errors[0].1);
    assert!(errors[0].1.contains("$spin"), "{}", errors[0].1);
    assert!(errors[0].1.contains("runaway guard"), "{}", errors[0].1);
    assert_eq!(errors[0].3, 7, "located at the call");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn wasm_recursion_without_end_is_a_range_error() {
    let source = processor_calling(
        r#"(module (func $down (export "down") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $down))"#,
        "exports.down(0)",
    );
    let (rendered, _) = render_bounded(source, 512);
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.starts_with("RangeError: Maximum call stack size exceeded"), "{}", errors[0].1);
}

#[test]
fn modules_travel_through_messages_and_processor_options() {
    use base64::Engine as _;
    let bytes = wat::parse_str(r#"(module (func (export "answer") (result i32) i32.const 42))"#).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let source = format!(
        "registerProcessor('p', class extends AudioWorkletProcessor {{
  constructor(options) {{
    super();
    const given = options.processorOptions.module;
    this.port.postMessage([given instanceof WebAssembly.Module, new WebAssembly.Instance(given).exports.answer()]);
    this.port.postMessage(new WebAssembly.Module({}));
    this.port.onmessage = ({{ data }}) => this.port.postMessage(['back', new WebAssembly.Instance(data).exports.answer()]);
  }}
  process() {{ return true; }}
}});",
        js_bytes(&bytes)
    );
    let options = worklet::engine::NodeOptions::from_json(
        &json!({"processorOptions": {"module": {"$WebAssembly.Module": encoded}}}),
    )
    .expect("options");
    let mut harness = Harness::with_options(&source, &options);
    let first = received_data(&harness.quantum());
    assert_eq!(first[0], json!([true, 42]), "a module in processorOptions");
    assert_eq!(first[1], json!({"$WebAssembly.Module": encoded}), "a posted module arrives as its bytes");
    harness.main.post(worklet::port::NODE_PORT, first[1].clone(), &[]).expect("posted");
    let back = received_data(&harness.quantum());
    assert_eq!(back, [json!(["back", 42])], "and goes back as a module");
}

#[test]
fn a_module_seen_before_is_not_compiled_again() {
    // A body big enough that compiling it takes measurable time, made unique to
    // this run so that no earlier run's cache holds it.
    let mut body = String::new();
    for i in 0..2000 {
        body.push_str(&format!(
            "(func (export \"f{i}\") (param f32) (result f32) local.get 0 f32.const {i} f32.mul)\n"
        ));
    }
    let unique = format!("{:?}", std::time::SystemTime::now());
    let bytes = wat::parse_str(format!("(module {body} (@custom \"run\" \"{unique}\"))")).unwrap();
    let source = format!(
        "const started = Date.now(); new WebAssembly.Module({}); port.postMessage(Date.now() - started);
registerProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});",
        js_bytes(&bytes)
    );
    let first = message_data(&render_source(&source, &spec(128)));
    let again = message_data(&render_source(&source, &spec(128)));
    eprintln!("compiling a 2000-function module: {} ms the first time, {} ms from the cache", first[0], again[0]);
    assert!(first[0].is_number() && again[0].is_number());
}

#[test]
fn a_realm_that_used_wasm_gives_its_memory_back() {
    let resident = || -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    // 32 MiB of wasm memory touched by wasm itself, its buffer kept by the script
    // and an import that closes over it (a cycle through the store).
    let bytes = wat::parse_str(
        r#"(module (import "env" "memory" (memory 512))
             (func (export "fill") i32.const 0 i32.const 7 i32.const 33554432 memory.fill))"#,
    )
    .unwrap();
    let source = format!(
        "const memory = new WebAssembly.Memory({{ initial: 512 }});
const imports = {{ env: {{ memory, size: () => memory.buffer.byteLength }} }};
new WebAssembly.Instance(new WebAssembly.Module({}), imports).exports.fill();
globalThis.keep = [memory.buffer, imports];
registerProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});",
        js_bytes(&bytes)
    );
    let source = source.as_str();
    let before = resident();
    for _ in 0..12 {
        let mut realm = Realm::new(&RealmConfig::new(48_000.0)).expect("realm");
        realm.add_module_source("test.js", source).expect("loads");
        let rendered = render(realm, &spec(128), &mut |_| {}).expect("renders");
        assert!(processor_errors(&rendered).is_empty());
    }
    let grown = resident().saturating_sub(before);
    eprintln!("12 realms each filling 32 MiB of wasm memory left {grown} KiB resident");
    assert!(grown < 64 * 1024, "{grown} KiB stayed resident after 12 realms of 32 MiB each");
}
