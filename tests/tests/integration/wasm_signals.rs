//! Signal handlers and WebAssembly: in a plugin host's process (no
//! `use_signal_traps`) wasm traps through explicit checks and the host's handlers
//! for SIGSEGV, SIGBUS, SIGILL and SIGFPE stay as they were; engine processes and
//! the `worklet` command let wasmtime take them over. Each case runs in a process
//! of its own, since the choice is made once per process.

use worklet::sys::signal_handlers::{TRAP_SIGNALS, handler_of};
use worklet_tests::{in_own_process, own_process, processor_errors, render_source, spec};

/// Runs wasm that traps on an out-of-bounds load, grows its memory and traps
/// again past the new end; returns the processor's error messages.
fn run_trapping_wasm() -> Vec<String> {
    let bytes = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "load") (param i32) (result f32) (f32.load (local.get 0))))"#,
    )
    .unwrap();
    let source = format!(
        "const {{ exports }} = new WebAssembly.Instance(new WebAssembly.Module({}));
let inside;
try {{ exports.load(70000); }} catch (e) {{ inside = String(e); }}
exports.memory.grow(1);
const grown = exports.load(70000);
registerProcessor('p', class extends AudioWorkletProcessor {{
  constructor() {{ super(); this.port.postMessage([inside, grown]); }}
  process() {{ exports.load(200000); return true; }}
}});",
        worklet_tests::js_bytes(&bytes)
    );
    let rendered = render_source(&source, &spec(128));
    let messages = worklet_tests::message_data(&rendered);
    assert_eq!(
        messages,
        [serde_json::json!([
            "RuntimeError: memory access out of bounds (in wasm function [0] at module offset 0x33)",
            0
        ])],
        "a trap inside try is caught; after the grow the same address reads 0"
    );
    processor_errors(&rendered).into_iter().map(|(_, message, ..)| message).collect()
}

fn handlers() -> Vec<usize> {
    TRAP_SIGNALS.iter().map(|&s| handler_of(s)).collect()
}

#[test]
fn wasm_in_a_hosts_process_leaves_its_signal_handlers_alone() {
    let text = in_own_process("wasm_signals::checks_child");
    assert!(text.contains("handlers unchanged"), "{text}");
}

#[test]
#[ignore = "run by wasm_in_a_hosts_process_leaves_its_signal_handlers_alone in a process of its own"]
fn checks_child() {
    if !own_process() {
        return;
    }
    let before = handlers();
    let errors = run_trapping_wasm();
    assert!(errors[0].starts_with("RuntimeError: memory access out of bounds"), "{errors:?}");
    assert!(!worklet::engine::wasm::engine::signal_traps());
    assert_eq!(handlers(), before, "wasm changed the process's signal handlers");
    println!("handlers unchanged");
}

#[test]
fn engine_processes_let_wasmtime_handle_traps_by_signals() {
    let text = in_own_process("wasm_signals::signals_child");
    assert!(text.contains("handlers taken over"), "{text}");
}

#[test]
#[ignore = "run by engine_processes_let_wasmtime_handle_traps_by_signals in a process of its own"]
fn signals_child() {
    if !own_process() {
        return;
    }
    worklet::engine::wasm::engine::use_signal_traps();
    let before = handlers();
    let errors = run_trapping_wasm();
    assert!(errors[0].starts_with("RuntimeError: memory access out of bounds"), "{errors:?}");
    assert!(worklet::engine::wasm::engine::signal_traps());
    assert_ne!(handlers()[0], before[0], "SIGSEGV is wasmtime's now");
    println!("handlers taken over");
}
