//! Structured-clone fidelity through the wire format, for every clonable type.

use serde_json::{Value, json};
use worklet::port::{NODE_PORT, Received};
use worklet_tests::{Harness, received_data};

/// Posts every value through a MessageChannel inside the realm and compares what
/// arrives with a type- and identity-aware deep equality.
const JS_ROUND_TRIP: &str = r#"
const sameValue = (a, b) => Object.is(a, b);
function equal(a, b, seen = new Map()) {
  if (typeof a !== typeof b) return false;
  if (a === null || typeof a !== 'object') return sameValue(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.has(a)) return seen.get(a) === b;
  seen.set(a, b);
  if (a instanceof Date) return sameValue(a.getTime(), b.getTime());
  if (a instanceof RegExp) return a.source === b.source && a.flags === b.flags && b.lastIndex === 0;
  if (a instanceof Error) return a.name === b.name && a.message === b.message;
  if (a instanceof ArrayBuffer) return equal(Array.from(new Uint8Array(a)), Array.from(new Uint8Array(b)), seen);
  if (a instanceof DataView) return a.byteOffset === b.byteOffset && a.byteLength === b.byteLength && equal(a.buffer, b.buffer, seen);
  if (ArrayBuffer.isView(a)) {
    return a.length === b.length && a.byteOffset === b.byteOffset && a.every((x, i) => sameValue(x, b[i])) && equal(a.buffer, b.buffer, seen);
  }
  if (a instanceof Map) return a.size === b.size && [...a].every(([k, v], i) => { const [k2, v2] = [...b][i]; return equal(k, k2, seen) && equal(v, v2, seen); });
  if (a instanceof Set) return a.size === b.size && [...a].every((v, i) => equal(v, [...b][i], seen));
  if (a instanceof Boolean || a instanceof Number || a instanceof String || a instanceof BigInt) return sameValue(a.valueOf(), b.valueOf());
  const keys = Object.keys(a);
  return equalKeys(keys, Object.keys(b)) && keys.every((k) => equal(a[k], b[k], seen));
}
function equalKeys(a, b) { return a.length === b.length && a.every((k, i) => k === b[i]); }
const shared = { s: 1 };
const cyclic = { name: 'cyclic' }; cyclic.self = cyclic;
const cyclicArray = [1]; cyclicArray.push(cyclicArray);
const buffer = new ArrayBuffer(16);
new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
const cases = {
  undefined: undefined, null: null, true: true, false: false, zero: 0, negativeZero: -0, integer: 42, fraction: 0.1,
  NaN: NaN, Infinity: Infinity, negativeInfinity: -Infinity, maxNumber: Number.MAX_VALUE, tiny: Number.MIN_VALUE,
  string: 'text with "quotes" and ünïcödé', emptyString: '', bigint: 12345678901234567890123n, negativeBigint: -7n,
  object: { a: 1, b: 'two', c: [3], d: { e: null } }, dollarKey: { $undefined: 'looks like a tag' }, dollarKeys: { $a: 1, $b: 2 },
  array: [1, 'a', null, undefined, [2, [3]]], sparse: [1, , 3], emptyObject: {}, emptyArray: [],
  Int8Array: new Int8Array([-128, 0, 127]), Uint8Array: new Uint8Array([0, 255]), Uint8ClampedArray: new Uint8ClampedArray([0, 255]),
  Int16Array: new Int16Array([-32768, 32767]), Uint16Array: new Uint16Array([65535]), Int32Array: new Int32Array([-2147483648, 2147483647]),
  Uint32Array: new Uint32Array([4294967295]), Float32Array: new Float32Array([0.1, -0, NaN, Infinity, 3.4e38]),
  Float64Array: new Float64Array([Math.PI, -Infinity, Number.MIN_VALUE]), BigInt64Array: new BigInt64Array([-9223372036854775808n, 1n]),
  BigUint64Array: new BigUint64Array([18446744073709551615n]),
  ArrayBuffer: buffer, subarray: new Uint16Array(buffer, 4, 3), DataView: new DataView(buffer, 2, 8),
  viewsSharingABuffer: [new Uint8Array(buffer), new Int32Array(buffer, 8, 2)],
  Map: new Map([[1, 'one'], ['k', { v: [1] }], [{ key: 'object' }, new Set([1])]]), Set: new Set([1, 'a', null, NaN]),
  Date: new Date(1700000000123), invalidDate: new Date(NaN), RegExp: /a+b?/gimsuy, Error: new Error('plain'),
  TypeError: new TypeError('type'), RangeError: new RangeError('range'), customError: Object.assign(new SyntaxError('syntax'), { extra: 1 }),
  boxedBoolean: new Boolean(false), boxedNumber: new Number(-0), boxedString: new String('boxed'), boxedBigInt: Object(5n),
  sharedReference: { a: shared, b: shared, list: [shared] }, cyclic, cyclicArray,
  classInstance: new (class Point { constructor() { this.x = 1; } })(),
};
const expected = { classInstance: { x: 1 }, customError: new SyntaxError('syntax') };
const results = {};
const channel = new MessageChannel();
channel.port2.onmessage = (event) => {
  const [name, value] = event.data;
  const want = name in expected ? expected[name] : cases[name];
  let ok = equal(want, value);
  if (name === 'sharedReference') ok = ok && value.a === value.b && value.list[0] === value.a;
  if (name === 'cyclic') ok = ok && value.self === value;
  if (name === 'cyclicArray') ok = ok && value[1] === value;
  if (name === 'viewsSharingABuffer') ok = ok && value[0].buffer === value[1].buffer;
  if (name === 'sparse') ok = ok && value.length === 3;
  results[name] = ok;
};
for (const [name, value] of Object.entries(cases)) channel.port1.postMessage([name, value]);
registerProcessor('p', class extends AudioWorkletProcessor {
  process() { if (currentFrame === 128) this.port.postMessage([Object.keys(cases).length, results]); return true; }
});
"#;

#[test]
fn every_clonable_type_round_trips_inside_the_realm() {
    let mut node = Harness::new(JS_ROUND_TRIP);
    node.quantum();
    let data = received_data(&node.quantum());
    let [count, results] = data[0].as_array().unwrap().as_slice() else { panic!("{data:?}") };
    let results = results.as_object().unwrap();
    assert_eq!(results.len() as u64, count.as_u64().unwrap(), "every case arrived");
    let failed: Vec<&String> = results.iter().filter(|(_, ok)| **ok != json!(true)).map(|(name, _)| name).collect();
    assert!(failed.is_empty(), "these did not round-trip: {failed:?}");
    assert!(results.len() > 50, "{} cases", results.len());
}

#[test]
fn wire_values_round_trip_through_the_realm_unchanged() {
    let mut node = Harness::new(
        "registerProcessor('echo', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.onmessage = (e) => this.port.postMessage(e.data); }
           process() { return true; }
         });",
    );
    let values: Vec<Value> = vec![
        json!(null),
        json!(true),
        json!(-12),
        json!(0.5),
        json!("s"),
        json!([1, [2, {"a": []}]]),
        json!({"b": 1, "a": 2}),
        json!({"$undefined": null}),
        json!({"$number": "NaN"}),
        json!({"$number": "-0"}),
        json!({"$number": "Infinity"}),
        json!({"$number": "-Infinity"}),
        json!({"$bigint": "-123456789012345678901234567890"}),
        json!({"$date": 86400000}),
        json!({"$date": "NaN"}),
        json!({"$regexp": {"source": "x+", "flags": "gi"}}),
        json!({"$map": [[1, {"$set": ["a"]}]]}),
        json!({"$set": [{"$number": "NaN"}, 1]}),
        json!({"$error": {"name": "RangeError", "message": "r"}}),
        json!({"$boxed": "s"}),
        json!({"$ArrayBuffer": [0, 1, 255]}),
        json!({"$Float32Array": [0.5, {"$number": "NaN"}, -2]}),
        json!({"$Float64Array": [0.1, {"$number": "-0"}]}),
        json!({"$Int16Array": [-1, 2]}),
        json!({"$Uint8ClampedArray": [255]}),
        json!({"$BigInt64Array": ["-5", "7"]}),
        json!({"$BigUint64Array": ["18446744073709551615"]}),
        json!({"$view": {"type": "DataView", "buffer": {"$ArrayBuffer": [1, 2, 3, 4]}, "byteOffset": 1, "length": 2}}),
        json!({"$view": {"type": "Uint16Array", "buffer": {"$ArrayBuffer": [1, 2, 3, 4, 5, 6]}, "byteOffset": 2, "length": 2}}),
        json!({"$def": [0, {"self": {"$ref": 0}, "n": 1}]}),
        json!([{"$def": [0, {"x": 1}]}, {"$ref": 0}]),
        json!({"$object": {"$undefined": "not a tag"}}),
        json!([1, {"$hole": null}, 3]),
    ];
    for value in &values {
        node.main.post(NODE_PORT, value.clone(), &[]).unwrap();
    }
    let echoed = received_data(&node.quantum());
    assert_eq!(echoed.len(), values.len());
    for (sent, back) in values.iter().zip(&echoed) {
        assert_eq!(back, sent, "round trip of {sent}");
    }
}

#[test]
fn floats_keep_their_exact_value() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.postMessage([0.1, 1 / 3, 1e-310, 2 ** 53 + 2, new Float32Array([0.1])]); }
           process() { return true; }
         });",
    );
    let received = node.drain();
    let Some(Received::Message { data, .. }) = received.first() else { panic!("{received:?}") };
    assert_eq!(data[0].as_f64(), Some(0.1));
    assert_eq!(data[1].as_f64(), Some(1.0 / 3.0));
    assert_eq!(data[2].as_f64(), Some(1e-310));
    assert_eq!(data[3].as_f64(), Some(9_007_199_254_740_994.0));
    assert_eq!(data[4]["$Float32Array"][0].as_f64(), Some(f64::from(0.1f32)));
}
