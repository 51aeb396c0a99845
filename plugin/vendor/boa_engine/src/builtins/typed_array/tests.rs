use crate::{
    JsNativeErrorKind, JsValue, TestAction, js_string, object::builtins::JsArrayBuffer,
    run_test_actions,
};

#[test]
fn uint8array_constructor_length() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(4);"),
        TestAction::assert_eq("a.length", 4),
        TestAction::assert_eq("a.byteLength", 4),
    ]);
}

#[test]
fn uint8array_constructor_from_array() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array([1, 2, 3]);"),
        TestAction::assert_eq("a.length", 3),
        TestAction::assert_eq("a[1]", 2),
    ]);
}

#[test]
fn uint8array_constructor_from_array_buffer() {
    run_test_actions([
        TestAction::run("let buffer = new ArrayBuffer(4); let a = new Uint8Array(buffer);"),
        TestAction::assert_eq("a.length", 4),
    ]);
}

#[test]
fn uint8array_read_write_semantics() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(2); a[0] = 42;"),
        TestAction::assert_eq("a[0]", 42),
    ]);
}

#[test]
fn uint8array_out_of_bounds_behavior() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(2);"),
        TestAction::assert("a[10] === undefined"),
        TestAction::run("a[10] = 5;"),
        TestAction::assert_eq("a.length", 2),
    ]);
}

#[test]
fn uint8array_numeric_coercion() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(1); a[0] = 256;"),
        TestAction::assert_eq("a[0]", 0),
        TestAction::run("a[0] = -1;"),
        TestAction::assert_eq("a[0]", 255),
    ]);
}

#[test]
fn float32array_storage() {
    run_test_actions([
        TestAction::run("let f = new Float32Array(1); f[0] = 1.5;"),
        TestAction::assert_eq("f[0]", 1.5),
    ]);
}

#[test]
fn float32array_nan_behavior() {
    run_test_actions([
        TestAction::run("let f = new Float32Array(1); f[0] = 'hello';"),
        TestAction::assert("Number.isNaN(f[0])"),
    ]);
}

#[test]
fn float32_precision_behavior() {
    run_test_actions([
        TestAction::run("let f = new Float32Array(1); f[0] = 1.337;"),
        TestAction::assert("Math.fround(1.337) === f[0]"),
    ]);
}

#[test]
fn typedarray_prototype_set() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(4); a.set([1, 2], 1);"),
        TestAction::assert_eq("a[1]", 1),
        TestAction::assert_eq("a[2]", 2),
    ]);
}

#[test]
fn typedarray_prototype_fill() {
    run_test_actions([
        TestAction::run("let a = new Uint8Array(3); a.fill(7);"),
        TestAction::assert_eq("a[2]", 7),
    ]);
}

#[test]
fn typedarray_prototype_subarray_shared_memory() {
    run_test_actions([
        TestAction::run(
            "
        let a = new Uint8Array([1, 2, 3, 4]);
        let b = a.subarray(1, 3);
        b[0] = 99;
        ",
        ),
        TestAction::assert_eq("a[1]", 99),
        TestAction::assert_eq("b[0]", 99),
    ]);
}

#[test]
fn typedarray_conversion_number() {
    run_test_actions([
        TestAction::run("let a = new Int8Array([1, -1, 127]);"),
        TestAction::run("let b = new Float64Array(a);"),
        TestAction::assert_eq("b.length", 3),
        TestAction::assert_eq("b[0]", 1),
        TestAction::assert_eq("b[1]", -1),
        TestAction::assert_eq("b[2]", 127),
    ]);
}

#[test]
fn typedarray_conversion_bigint() {
    run_test_actions([
        TestAction::run("let a = new BigInt64Array([1n, -1n]);"),
        TestAction::run("let b = new BigUint64Array(a);"),
        TestAction::assert_eq("b.length", 2),
        TestAction::assert("b[0] === 1n"),
        TestAction::assert("b[1] === 0xffffffffffffffffn"),
    ]);
}

#[test]
fn typedarray_conversion_clamped() {
    run_test_actions([
        TestAction::run("let a = new Float64Array([255.5, 256.1, -0.5]);"),
        TestAction::run("let b = new Uint8ClampedArray(a);"),
        TestAction::assert_eq("b[0]", 255),
        TestAction::assert_eq("b[1]", 255),
        TestAction::assert_eq("b[2]", 0),
    ]);
}

#[test]
fn typedarray_conversion_mismatch_throws() {
    run_test_actions([
        TestAction::run("let a = new Int8Array([1]);"),
        TestAction::assert_native_error(
            "new BigInt64Array(a)",
            JsNativeErrorKind::Type,
            "Cannot initialize typed array from different content type",
        ),
        TestAction::run("let b = new BigInt64Array([1n]);"),
        TestAction::assert_native_error(
            "new Int8Array(b)",
            JsNativeErrorKind::Type,
            "Cannot initialize typed array from different content type",
        ),
    ]);
}

#[test]
fn typedarray_exotic_prevent_extensions() {
    // ref: https://github.com/tc39/test262/blob/main/test/staging/built-ins/Object/preventExtensions/preventExtensions-variable-length-typed-arrays.js
    run_test_actions([
        TestAction::run("const gsab = new SharedArrayBuffer(4, { maxByteLength: 8 });"),
        TestAction::run("const fixedLength = new Uint8Array(gsab, 0, 4);"),
        TestAction::run("const fixedLengthWithOffset = new Uint8Array(gsab, 2, 2);"),
        TestAction::run("Object.preventExtensions(fixedLength);"),
        TestAction::run("Object.preventExtensions(fixedLengthWithOffset);"),
        TestAction::assert("!Object.isExtensible(fixedLength)"),
        TestAction::assert("!Object.isExtensible(fixedLengthWithOffset)"),
        TestAction::run("const rab = new ArrayBuffer(4);"),
        TestAction::run("const fixedLength1 = new Uint8Array(rab, 0, 4);"),
        TestAction::run("const fixedLengthWithOffset1 = new Uint8Array(rab, 2, 2);"),
        TestAction::run("Object.preventExtensions(fixedLength1);"),
        TestAction::run("Object.preventExtensions(fixedLengthWithOffset1);"),
        TestAction::assert("!Object.isExtensible(fixedLength1)"),
        TestAction::assert("!Object.isExtensible(fixedLengthWithOffset1)"),
    ]);
}

#[test]
fn string_keys_that_are_not_canonical_numbers_are_ordinary_properties() {
    run_test_actions([
        TestAction::run("let a = new Float32Array(2); a.foo = 7; a['-0'] = 5; a['1.5'] = 9; a['01'] = 3;"),
        TestAction::assert_eq("a.length", 2),
        TestAction::assert_eq("a.foo", 7),
        // Canonical numeric strings address elements (and never become properties)...
        TestAction::assert_eq("a['-0']", JsValue::undefined()),
        TestAction::assert_eq("a['1.5']", JsValue::undefined()),
        TestAction::assert_eq("'1.5' in a", false),
        TestAction::assert_eq("a['Infinity'] = 1; a.Infinity", JsValue::undefined()),
        TestAction::assert_eq("a['NaN'] = 1; a.NaN", JsValue::undefined()),
        TestAction::assert_eq("a['-Infinity'] = 1; a['-Infinity']", JsValue::undefined()),
        TestAction::assert_eq("a['1e+21'] = 1; a['1e+21']", JsValue::undefined()),
        // ...while other strings, even ones that parse as numbers, are plain keys.
        TestAction::assert_eq("a['01']", 3),
        TestAction::assert_eq("a['+1'] = 4; a['+1']", 4),
        TestAction::assert_eq("a[' 1'] = 6; a[' 1']", 6),
        TestAction::assert_eq("a['Inf'] = 8; a.Inf", 8),
        TestAction::assert_eq("a['N'] = 2; a.N", 2),
        TestAction::assert_eq("a[''] = 1; a['']", 1),
        TestAction::assert_eq("Object.keys(a).join()", js_string!("0,1,foo,01,+1, 1,Inf,N,")),
    ]);
}

#[test]
fn fast_element_access_matches_the_spec_for_every_kind() {
    run_test_actions([
        TestAction::run(
            "function sum(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; }
             function fill(a, v) { for (let i = 0; i < a.length; i++) a[i] = v; return a; }",
        ),
        TestAction::assert("fill(new Float32Array(4), 0.1)[3] === Math.fround(0.1)"),
        TestAction::assert("Math.abs(sum(fill(new Float32Array(4), 0.1)) - 0.4) < 1e-6"),
        TestAction::assert("fill(new Float64Array(3), 0.1)[2] === 0.1"),
        TestAction::assert_eq("sum(fill(new Int16Array(2), 40000))", -51072),
        TestAction::assert_eq("sum(fill(new Int16Array(2), -1.9))", -2),
        TestAction::assert_eq("sum(fill(new Uint8ClampedArray(2), 300))", 510),
        TestAction::assert_eq("sum(fill(new Uint8ClampedArray(2), 1.5))", 4),
        TestAction::assert_eq("sum(fill(new Uint8ClampedArray(2), -5))", 0),
        TestAction::assert_eq("sum(fill(new Uint8Array(2), NaN))", 0),
        TestAction::assert("Object.is(fill(new Float64Array(1), -0)[0], -0)"),
        TestAction::assert("Number.isNaN(fill(new Float32Array(1), NaN)[0])"),
        // BigInt arrays and non-Number values go through the generic path.
        TestAction::assert_eq("fill(new BigInt64Array(2), 3n)[1] === 3n", true),
        TestAction::assert(
            "(() => { try { fill(new BigInt64Array(1), 3); } catch (e) { return e instanceof TypeError; } })()",
        ),
        TestAction::assert_eq(
            "let calls = 0; fill(new Float32Array(2), { valueOf() { calls++; return 2; } })[1] + calls",
            4,
        ),
        TestAction::assert_eq("fill(new Int8Array(1), '7')[0]", 7),
    ]);
}

#[test]
fn fast_element_access_out_of_range_and_odd_indices() {
    run_test_actions([
        TestAction::run(
            "function get(a, i) { return a[i]; }
             function set(a, i, v) { 'use strict'; a[i] = v; return a; }
             let a = new Float32Array(2);",
        ),
        TestAction::assert_eq("get(a, 2)", JsValue::undefined()),
        TestAction::assert_eq("get(a, 4294967294)", JsValue::undefined()),
        TestAction::assert_eq("get(a, -1)", JsValue::undefined()),
        TestAction::assert_eq("get(a, 0.5)", JsValue::undefined()),
        // Writes past the end are ignored, also in strict mode, and add no property.
        TestAction::assert_eq("set(a, 2, 1).length", 2),
        TestAction::assert_eq("set(a, 7, 1); set(a, -1, 1); set(a, 0.5, 1); Object.keys(a).join()", js_string!("0,1")),
        TestAction::assert_eq("set(a, 1, 5); get(a, 1)", 5),
        TestAction::assert_eq("set(a, '1', 6); get(a, '1')", 6),
        // An index on the prototype chain is never consulted.
        TestAction::assert_eq(
            "Object.defineProperty(Float32Array.prototype, '5', { get() { return 9; }, configurable: true });
             const r = get(a, 5); delete Float32Array.prototype[5]; r",
            JsValue::undefined(),
        ),
        // A typed array as the prototype of an ordinary receiver.
        TestAction::assert(
            "const o = Object.create(a); set(o, 0, 3); get(a, 0) === 0 && Object.getOwnPropertyDescriptor(o, 0).value === 3",
        ),
    ]);
}

#[test]
fn fast_element_access_on_a_detached_buffer() {
    run_test_actions([
        TestAction::run(
            "function get(a, i) { return a[i]; }
             function set(a, i, v) { a[i] = v; }
             function len(a) { return a.length; }
             var buffer = new ArrayBuffer(8);
             var a = new Float32Array(buffer);
             set(a, 1, 2.5);",
        ),
        TestAction::assert_eq("get(a, 1)", 2.5),
        TestAction::assert_eq("len(a)", 2),
        TestAction::inspect_context(|context| {
            let buffer = context
                .global_object()
                .get(js_string!("buffer"), context)
                .expect("the buffer");
            let buffer = JsArrayBuffer::from_object(buffer.as_object().expect("an object"))
                .expect("an ArrayBuffer");
            buffer.detach(&JsValue::undefined()).expect("detached");
        }),
        TestAction::assert_eq("get(a, 1)", JsValue::undefined()),
        TestAction::assert_eq("set(a, 1, 3); get(a, 1)", JsValue::undefined()),
        TestAction::assert_eq("len(a)", 0),
    ]);
}

#[test]
fn fast_length_follows_a_changed_prototype_chain() {
    run_test_actions([
        TestAction::run(
            "function len(a) { return a.length; }
             function lenByKey(a) { return a['length']; }
             let a = new Float32Array(3);",
        ),
        TestAction::assert_eq("len(a)", 3),
        TestAction::assert_eq("lenByKey(a)", 3),
        // An own property.
        TestAction::assert_eq(
            "let b = new Float32Array(3); Object.defineProperty(b, 'length', { value: 7 }); len(b)",
            7,
        ),
        // A getter on the concrete prototype, then removed again.
        TestAction::assert_eq(
            "Object.defineProperty(Float32Array.prototype, 'length', { get() { return 11; }, configurable: true });
             len(a) + lenByKey(a)",
            22,
        ),
        TestAction::assert_eq("delete Float32Array.prototype.length; len(a)", 3),
        // The intrinsic getter replaced.
        TestAction::run(
            "const TA = Object.getPrototypeOf(Float32Array.prototype);
             const original = Object.getOwnPropertyDescriptor(TA, 'length');
             Object.defineProperty(TA, 'length', { get() { return -1; }, configurable: true });",
        ),
        TestAction::assert_eq("len(a)", -1),
        TestAction::assert_eq("len(new Int16Array(5))", -1),
        TestAction::run("Object.defineProperty(TA, 'length', original);"),
        TestAction::assert_eq("len(new Int16Array(5))", 5),
        // Another prototype.
        TestAction::assert_eq("Object.setPrototypeOf(a, Object.prototype); len(a)", JsValue::undefined()),
        TestAction::assert_eq("Object.setPrototypeOf(a, Uint8Array.prototype); len(a)", 3),
        // Through `super`, the getter sees the receiver, which is not a typed array.
        TestAction::run(
            "class Sub { len() { return super['length']; } at0() { return super[0]; } }
             const inner = new Float32Array([5, 6]);
             Object.setPrototypeOf(Sub.prototype, inner);",
        ),
        TestAction::assert_eq("new Sub().at0()", 5),
        TestAction::assert(
            "(() => { try { new Sub().len(); } catch (e) { return e instanceof TypeError; } })()",
        ),
        TestAction::assert_eq(
            "Object.setPrototypeOf(a, new Proxy(Float32Array.prototype, { get(t, k, r) { return k === 'length' ? 42 : Reflect.get(t, k, r); } })); len(a)",
            42,
        ),
    ]);
}

#[test]
fn fast_element_access_on_offset_and_length_tracking_views() {
    run_test_actions([
        TestAction::run(
            "function get(a, i) { return a[i]; }
             function set(a, i, v) { a[i] = v; return a; }
             var buffer = new ArrayBuffer(32);
             var whole = new Float64Array(buffer);
             var view = new Float64Array(buffer, 8, 2);",
        ),
        // An offset view writes where its byte offset says, and stops at its length.
        TestAction::assert_eq("set(view, 1, 2.5); whole[2]", 2.5),
        TestAction::assert_eq("set(view, 2, 9); whole[3]", 0),
        TestAction::assert_eq("whole[1] = 4; get(view, 0)", 4),
        // A view that tracks a resizable buffer's length follows it both ways.
        TestAction::run(
            "var rab = new ArrayBuffer(8, { maxByteLength: 32 });
             var tracking = new Float32Array(rab);
             var fixed = new Float32Array(rab, 4, 1);",
        ),
        TestAction::assert_eq(
            "set(tracking, 3, 1); get(tracking, 3)",
            JsValue::undefined(),
        ),
        TestAction::assert_eq("rab.resize(16); set(tracking, 3, 1); get(tracking, 3)", 1),
        TestAction::assert_eq("set(fixed, 0, 6); get(tracking, 1)", 6),
        // Shrunk below its end, the fixed view is out of bounds: reads are
        // undefined and writes ignored.
        TestAction::assert_eq("rab.resize(4); get(fixed, 0)", JsValue::undefined()),
        TestAction::assert_eq("set(fixed, 0, 7); rab.resize(8); get(fixed, 0)", 0),
        // Integer keys held as doubles, and -0, are the same elements.
        TestAction::assert_eq("set(tracking, -0, 3); get(tracking, 0)", 3),
        TestAction::assert_eq("get(tracking, 4 / 4)", 0),
    ]);
}

#[test]
fn fast_length_sees_every_change_after_it_was_read() {
    run_test_actions([
        TestAction::run(
            "function len(a) { return a.length; }
             function warm(a) { let n = 0; for (let i = 0; i < 100; i++) n = len(a); return n; }
             var a = new Float64Array(4);
             var TA = Object.getPrototypeOf(Float64Array.prototype);",
        ),
        TestAction::assert_eq("warm(a)", 4),
        // A data property added to the kind's prototype, then deleted.
        TestAction::assert_eq(
            "Object.defineProperty(Float64Array.prototype, 'length', { value: 9, configurable: true }); len(a)",
            9,
        ),
        TestAction::assert_eq("delete Float64Array.prototype.length; warm(a)", 4),
        // The kind's prototype given another prototype, then its own back.
        TestAction::assert_eq(
            "Object.setPrototypeOf(Float64Array.prototype, Object.prototype); len(a)",
            JsValue::undefined(),
        ),
        TestAction::assert_eq(
            "Object.setPrototypeOf(Float64Array.prototype, TA); warm(a)",
            4,
        ),
        // The getter replaced by another with the same attributes: no shape changes.
        TestAction::run(
            "var original = Object.getOwnPropertyDescriptor(TA, 'length');
             Object.defineProperty(TA, 'length', { get() { return 'other'; } });",
        ),
        TestAction::assert_eq("len(a)", js_string!("other")),
        TestAction::assert_eq("Object.defineProperty(TA, 'length', original); warm(a)", 4),
        // Other kinds keep their own answer, and a new length is read each time.
        TestAction::assert_eq("warm(new Int8Array(2)) + warm(a)", 6),
        TestAction::assert_eq(
            "var rab = new ArrayBuffer(8, { maxByteLength: 64 }); var t = new Float64Array(rab);
             warm(t) + (rab.resize(64), len(t)) * 10",
            81,
        ),
    ]);
}
