//! The `WebAssembly` namespace in the realm, piece by piece: validate, Module and
//! its statics, Instance and imports, value conversions (i64 as BigInt, f32
//! rounding, references), Memory (the buffer is the linear memory, grow detaches),
//! Table, Global, the errors, and the promise-returning functions.

use serde_json::{Value, json};
use worklet_tests::{js_bytes, message_data, processor_errors, render_source, spec};

/// Runs `body` at module time with `bytes` bound to the module of `wat`; the body
/// posts its results with `port.postMessage`.
fn run(wat: &str, body: &str) -> Vec<Value> {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    let source = format!(
        "const bytes = {};\n{body}\nregisterProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});",
        js_bytes(&bytes)
    );
    let rendered = render_source(&source, &spec(256));
    let errors = processor_errors(&rendered);
    assert!(errors.is_empty(), "{errors:?}");
    message_data(&rendered)
}

const ADD: &str = r#"(module
  (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "half") (param f32) (result f32) local.get 0 f32.const 0.5 f32.mul)
  (func (export "wide") (param i64) (result i64) local.get 0 i64.const 1 i64.add)
  (func (export "pair") (result i32 f64) i32.const 7 f64.const 0.25)
  (@custom "meta" "one")
  (@custom "meta" "two"))"#;

#[test]
fn the_namespace_has_the_spec_shape() {
    let data = run(
        "(module)",
        r"port.postMessage([
          typeof WebAssembly, Object.prototype.toString.call(WebAssembly),
          Object.getOwnPropertyNames(WebAssembly).sort().join(),
          ['Module', 'Instance', 'Memory', 'Table', 'Global'].map((n) => Object.prototype.toString.call(WebAssembly[n].prototype)),
          new WebAssembly.CompileError('x') instanceof Error, WebAssembly.LinkError('y').name,
          WebAssembly.RuntimeError.prototype.name, Object.getPrototypeOf(WebAssembly.CompileError) === Error,
          (() => { try { WebAssembly.Module(bytes); } catch (e) { return e.constructor.name; } })(),
        ]);",
    );
    assert_eq!(
        data,
        [json!([
            "object",
            "[object WebAssembly]",
            "CompileError,Global,Instance,LinkError,Memory,Module,RuntimeError,Table,compile,instantiate,validate",
            [
                "[object WebAssembly.Module]",
                "[object WebAssembly.Instance]",
                "[object WebAssembly.Memory]",
                "[object WebAssembly.Table]",
                "[object WebAssembly.Global]"
            ],
            true,
            "LinkError",
            "RuntimeError",
            true,
            "TypeError"
        ])]
    );
}

#[test]
fn validate_and_module_describe_the_bytes() {
    let data = run(
        ADD,
        r"const module = new WebAssembly.Module(bytes);
        const text = (buffer) => String.fromCharCode(...new Uint8Array(buffer));
        port.postMessage([
          WebAssembly.validate(bytes), WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0])),
          WebAssembly.validate(bytes.buffer), WebAssembly.validate(new DataView(bytes.buffer)),
          WebAssembly.Module.exports(module), WebAssembly.Module.imports(module),
          WebAssembly.Module.customSections(module, 'meta').map(text),
          WebAssembly.Module.customSections(module, 'none').length,
          (() => { try { WebAssembly.validate(42); } catch (e) { return e.name; } })(),
          (() => { try { new WebAssembly.Module(new Uint8Array([1, 2, 3])); } catch (e) { return [e.name, e instanceof WebAssembly.CompileError]; } })(),
        ]);",
    );
    assert_eq!(
        data,
        [json!([
            true,
            false,
            true,
            true,
            [
                {"name": "add", "kind": "function"},
                {"name": "half", "kind": "function"},
                {"name": "wide", "kind": "function"},
                {"name": "pair", "kind": "function"}
            ],
            [],
            ["one", "two"],
            0,
            "TypeError",
            ["CompileError", true]
        ])]
    );
}

#[test]
fn exported_functions_convert_values_as_the_spec_says() {
    let data = run(
        ADD,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
        port.postMessage([
          exports.add(2, 3), exports.add(2 ** 31, 1), exports.add('4', { valueOf() { return 5; } }),
          exports.half(0.1), Math.fround(0.05) === exports.half(0.1),
          String(exports.wide(41n)), String(exports.wide(2n ** 63n - 1n)),
          (() => { try { exports.wide(41); } catch (e) { return e.name; } })(),
          exports.pair(), exports.add.name, exports.add.length, exports.wide.name,
          (() => { try { new exports.add(1, 2); } catch (e) { return e.name; } })(),
          Object.isFrozen(exports), Object.getPrototypeOf(exports), Object.keys(exports),
          exports.add === new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.add,
        ]);",
    );
    let expected_half = f64::from(0.1f32 * 0.5f32);
    assert_eq!(
        data,
        [json!([
            5,
            -2147483647,
            9,
            expected_half,
            true,
            "42",
            "-9223372036854775808",
            "TypeError",
            [7, 0.25],
            "0",
            2,
            "2",
            "TypeError",
            true,
            null,
            ["add", "half", "wide", "pair"],
            false
        ])]
    );
}

const IMPORTS: &str = r#"(module
  (import "env" "log" (func $log (param i32 f64)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "pair" (func $pair (result i32 i32)))
  (import "env" "scale" (global $scale f64))
  (func (export "run") (param i32) (result i32)
    local.get 0 f64.const 1.5 call $log
    local.get 0 call $twice)
  (func (export "sum") (result i32) call $pair i32.add)
  (func (export "scale") (result f64) global.get $scale))"#;

#[test]
fn javascript_functions_and_numbers_are_imports() {
    let data = run(
        IMPORTS,
        r"const seen = [];
        const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {
          log: (i, x) => seen.push([i, x]), twice: (x) => x * 2, pair: () => [40, 2], scale: 0.5,
        } });
        port.postMessage([exports.run(21), seen, exports.sum(), exports.scale()]);
        const link = (imports) => { try { new WebAssembly.Instance(new WebAssembly.Module(bytes), imports); return 'linked'; }
          catch (e) { return [e.name, e.message]; } };
        port.postMessage([
          link(undefined)[0], link({})[0],
          link({ env: { log() {}, twice: 1, pair() {}, scale: 1 } }),
          link({ env: { log() {}, twice() {}, pair() {}, scale: 'x' } })[0],
        ]);",
    );
    assert_eq!(data[0], json!([42, [[21, 1.5]], 42, 0.5]));
    assert_eq!(data[1][0], json!("TypeError"), "no import object");
    assert_eq!(data[1][1], json!("TypeError"), "no env namespace");
    assert_eq!(data[1][2][0], json!("LinkError"));
    assert!(data[1][2][1].as_str().unwrap().contains(r#"Import #1 "env" "twice""#), "{}", data[1][2][1]);
    assert_eq!(data[1][3], json!("LinkError"), "a string is no f64 global");
}

#[test]
fn an_exception_thrown_by_an_import_comes_out_of_wasm_unchanged() {
    let data = run(
        IMPORTS,
        r"const thrown = new RangeError('from JavaScript');
        const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {
          log() { throw thrown; }, twice: (x) => x, pair: () => [0, 0], scale: 1,
        } });
        let caught;
        try { exports.run(1); } catch (e) { caught = e; }
        port.postMessage([caught === thrown, exports.sum()]);",
    );
    assert_eq!(data, [json!([true, 0])]);
}

const MEMORY: &str = r#"(module
  (memory (export "memory") 1 4)
  (func (export "get") (param i32) (result f32) local.get 0 f32.load)
  (func (export "set") (param i32 f32) local.get 0 local.get 1 f32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#;

#[test]
fn memory_buffer_is_the_linear_memory_both_ways() {
    let data = run(
        MEMORY,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
        const { memory } = exports;
        const view = new Float32Array(memory.buffer, 64, 4);
        view[1] = 0.75;
        const fromJs = exports.get(68);
        exports.set(72, -2.5);
        port.postMessage([
          memory instanceof WebAssembly.Memory, memory === exports.memory, memory.buffer === memory.buffer,
          memory.buffer.byteLength, fromJs, view[2],
          (() => { try { memory.buffer.transfer(); } catch (e) { return e.name; } })(),
        ]);",
    );
    assert_eq!(data, [json!([true, true, true, 65536, 0.75, -2.5, "TypeError"])]);
}

#[test]
fn growing_a_memory_detaches_the_old_buffer() {
    let data = run(
        MEMORY,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
        const { memory } = exports;
        const before = memory.buffer;
        new Float32Array(before)[0] = 1.5;
        const old = memory.grow(1);
        const after = memory.buffer;
        const [afterLength, kept] = [after.byteLength, new Float32Array(after)[0]];
        const grownInWasm = exports.grow(1);
        const third = memory.buffer;
        const thirdLength = third.byteLength;
        const zero = memory.grow(0);
        port.postMessage([
          old, before.byteLength, before.detached, afterLength, kept,
          grownInWasm, after.detached, thirdLength, zero, third.detached,
          exports.grow(5), memory.buffer.byteLength,
          (() => { try { memory.grow(5); } catch (e) { return e.name; } })(),
        ]);",
    );
    assert_eq!(data, [json!([1, 0, true, 131072, 1.5, 2, true, 196608, 3, true, -1, 196608, "RangeError"])]);
}

#[test]
fn memories_from_javascript_are_imported_and_capped() {
    let data = run(
        r#"(module (import "env" "memory" (memory 1)) (func (export "peek") (result i32) i32.const 0 i32.load))"#,
        r"const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
        new Int32Array(memory.buffer)[0] = 1234;
        const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
        const refused = (descriptor) => { try { new WebAssembly.Memory(descriptor); return 'made'; } catch (e) { return e.name; } };
        port.postMessage([
          exports.peek(), refused({ initial: 65536 }), refused({ initial: 65537 }), refused({ initial: 2, maximum: 1 }),
          refused({}), refused({ initial: -1 }), refused({ initial: 1, shared: true }),
          (() => { try { WebAssembly.Memory.prototype.grow.call({}, 1); } catch (e) { return e.name; } })(),
        ]);",
    );
    assert_eq!(
        data,
        [json!([1234, "RangeError", "RangeError", "RangeError", "TypeError", "TypeError", "TypeError", "TypeError"])]
    );
}

#[test]
fn tables_hold_functions_and_javascript_values() {
    let data = run(
        r#"(module
          (table (export "table") 2 funcref)
          (func $seven (export "seven") (result i32) i32.const 7)
          (elem (i32.const 0) $seven)
          (type $t (func (result i32)))
          (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $t)))"#,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
        const { table } = exports;
        const refs = new WebAssembly.Table({ element: 'externref', initial: 1 }, 'first');
        const object = { x: 1 };
        refs.set(0, object);
        refs.grow(2, 'filled');
        table.set(1, exports.seven);
        port.postMessage([
          table.length, table.get(0) === exports.seven, table.get(1) === exports.seven, exports.call(1),
          (() => { try { exports.call(5); } catch (e) { return [e.name, e.message.split(' (')[0]]; } })(),
          (() => { try { table.set(0, () => 1); } catch (e) { return e.name; } })(),
          (() => { try { table.get(9); } catch (e) { return e.name; } })(),
          refs.get(0) === object, refs.length, refs.get(2), new WebAssembly.Table({ element: 'anyfunc', initial: 1 }).get(0),
          table.grow(1), table.length, table.get(2),
        ]);",
    );
    assert_eq!(
        data,
        [json!([
            2,
            true,
            true,
            7,
            ["RuntimeError", "table index is out of bounds"],
            "TypeError",
            "RangeError",
            true,
            3,
            "filled",
            null,
            2,
            3,
            null
        ])]
    );
}

#[test]
fn globals_read_and_write_through_value() {
    let data = run(
        r#"(module
          (import "env" "counter" (global $counter (mut i32)))
          (global (export "big") i64 (i64.const 9007199254740993))
          (func (export "bump") global.get $counter i32.const 1 i32.add global.set $counter))"#,
        r"const counter = new WebAssembly.Global({ value: 'i32', mutable: true }, 41);
        const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { counter } });
        exports.bump();
        const fixed = new WebAssembly.Global({ value: 'f32' }, 0.1);
        port.postMessage([
          counter.value, counter.valueOf(), String(exports.big.value), typeof exports.big.value,
          fixed.value === Math.fround(0.1),
          (() => { try { fixed.value = 1; } catch (e) { return e.name; } })(),
          (() => { try { new WebAssembly.Global({ value: 'i33' }); } catch (e) { return e.name; } })(),
          new WebAssembly.Global({ value: 'i64' }).value === 0n, new WebAssembly.Global({ value: 'externref' }).value,
          (() => { try { new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { counter: 1 } }); } catch (e) { return e.name; } })(),
        ]);",
    );
    assert_eq!(
        data,
        [
            json!([42, 42, "9007199254740993", "bigint", true, "TypeError", "TypeError", true, {"$undefined": null}, "LinkError"])
        ]
    );
}

#[test]
fn compile_and_instantiate_settle_their_promises() {
    let data = run(
        ADD,
        r"(async () => {
          const module = await WebAssembly.compile(bytes);
          const fromBytes = await WebAssembly.instantiate(bytes);
          const fromModule = await WebAssembly.instantiate(module);
          const reason = (promise) => promise.then(() => 'resolved', (e) => e.name);
          port.postMessage([
            module instanceof WebAssembly.Module, Object.keys(fromBytes).sort(),
            fromBytes.instance.exports.add(1, 2), fromModule instanceof WebAssembly.Instance,
            await reason(WebAssembly.compile(new Uint8Array(4))), await reason(WebAssembly.compile('x')),
            await reason(WebAssembly.instantiate(bytes, 7)),
          ]);
        })();",
    );
    assert_eq!(data, [json!([true, ["instance", "module"], 3, true, "CompileError", "TypeError", "TypeError"])]);
}

#[test]
fn externrefs_carry_any_javascript_value_through_wasm() {
    let data = run(
        r#"(module (func (export "id") (param externref) (result externref) local.get 0))"#,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
        const object = {};
        port.postMessage([exports.id(object) === object, exports.id(null), exports.id(undefined) === undefined, exports.id('s')]);",
    );
    assert_eq!(data, [json!([true, null, true, "s"])]);
}

#[test]
fn wasm_and_javascript_call_each_other_in_nested_turns() {
    // wasm -> JavaScript -> wasm -> JavaScript, with the memory growing in the middle.
    let data = run(
        r#"(module
          (import "env" "down" (func $down (param i32) (result i32)))
          (memory (export "memory") 1 8)
          (func (export "count") (param i32) (result i32)
            local.get 0 i32.eqz
            if (result i32) i32.const 1 memory.grow drop i32.const 0
            else local.get 0 call $down i32.const 1 i32.add end))"#,
        r"let exports;
        const buffers = [];
        ({ exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {
          down(n) { buffers.push(exports.memory.buffer.byteLength); return exports.count(n - 1); },
        } }));
        port.postMessage([exports.count(4), buffers, exports.memory.buffer.byteLength]);",
    );
    assert_eq!(data, [json!([4, [65536, 65536, 65536, 65536], 131072])]);
}

#[test]
fn math_imports_compute_what_javascript_math_computes() {
    let data = run(
        r#"(module
          (import "env" "_sinf" (func $sinf (param f32) (result f32)))
          (import "env" "_powf" (func $powf (param f32 f32) (result f32)))
          (import "env" "_round" (func $round (param f64) (result f64)))
          (import "env" "_max" (func $max (param f64 f64) (result f64)))
          (func (export "sin") (param f32) (result f32) local.get 0 call $sinf)
          (func (export "pow") (param f32 f32) (result f32) local.get 0 local.get 1 call $powf)
          (func (export "round") (param f64) (result f64) local.get 0 call $round)
          (func (export "max") (param f64 f64) (result f64) local.get 0 local.get 1 call $max))"#,
        r"const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {
          _sinf: Math.sin, _powf: Math.pow, _round: Math.round, _max: Math.max } });
        const xs = [0, 0.5, -2.5, 1e-3, 3.14159, -0, 1e30, NaN];
        port.postMessage([
          xs.every((x) => Object.is(exports.sin(x), Math.fround(Math.sin(Math.fround(x))))),
          xs.every((x) => Object.is(exports.pow(x, 0.5), Math.fround(Math.pow(Math.fround(x), 0.5)))),
          [2.5, -2.5, -0.4, 0.49999999999999994].map((x) => Object.is(exports.round(x), Math.round(x))),
          Object.is(exports.max(-0, 0), 0), Number.isNaN(exports.max(1, NaN)),
        ]);
        // A Math function a script replaced is called as JavaScript.
        let calls = 0;
        const mine = (x) => { calls++; return x; };
        const replaced = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {
          _sinf: mine, _powf: Math.pow, _round: Math.round, _max: Math.max } }).exports;
        port.postMessage([replaced.sin(2), calls]);",
    );
    assert_eq!(data, [json!([true, true, [true, true, true, true], true, true]), json!([2, 1])]);
}
