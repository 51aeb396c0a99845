//! The message wire format, seen from the node (main-thread) side. Any thread.
//!
//! Messages cross threads as `serde_json::Value`s. Plain JSON means itself; what
//! JSON cannot say is written as an object with exactly one key starting with `$`:
//!
//! | tag | body | value |
//! | --- | --- | --- |
//! | `$undefined` | `null` | `undefined` |
//! | `$hole` | `null` | a hole in a sparse array (only as an array element) |
//! | `$number` | `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"` | that number |
//! | `$bigint` | decimal string | a BigInt |
//! | `$date` | milliseconds since the epoch, or `"NaN"` | a Date |
//! | `$regexp` | `{"source", "flags"}` | a RegExp |
//! | `$map` | `[[key, value], ...]` | a Map |
//! | `$set` | `[value, ...]` | a Set |
//! | `$error` | `{"name", "message"}` | an Error of that name |
//! | `$boxed` | a primitive | a Boolean, Number, String or BigInt object |
//! | `$ArrayBuffer` | `[byte, ...]` | an ArrayBuffer |
//! | `$Float32Array` (any typed array name) | `[element, ...]` | a typed array over its own buffer |
//! | `$view` | `{"type", "buffer", "byteOffset", "length"}` | a typed array or DataView over a shared or larger buffer |
//! | `$def` | `[id, value]` | `value`, which later `$ref`s name |
//! | `$ref` | `id` | the object defined by `$def` `id` (shared and cyclic references) |
//! | `$object` | `{...}` | a plain object that itself has a single `$` key |
//! | `$port` | index | the message's transferred port at that index |
//! | `$WebAssembly.Module` | base64 of the module's bytes | a `WebAssembly.Module` |
//!
//! Typed-array elements use the number encoding above (BigInt arrays: decimal
//! strings). `serialize`/`deserialize` in `engine/js/clone.js` are the script side.
//! On the node side (command line, editor console) a module may also be named by
//! its file, `{"$WebAssembly.Module": "@path/to/dsp.wasm"}`; [`read_module_files`]
//! replaces that with the file's bytes before the message is sent.

use serde_json::{Map, Value};

/// Deepest nesting a message may have (the script side refuses deeper ones with
/// `DataCloneError`; the node side refuses them before they reach a queue).
pub const MAX_DEPTH: usize = 256;

/// The typed array constructors the wire format knows.
pub const TYPED_ARRAYS: [&str; 12] = [
    "Int8Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int16Array",
    "Uint16Array",
    "Int32Array",
    "Uint32Array",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
];

/// Why a value is not a well-formed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

/// The tag of a single-`$`-key object, with its body.
pub fn tag_of(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, body) = map.iter().next()?;
    (key.len() > 1 && key.starts_with('$')).then_some((key.as_str(), body))
}

/// Checks that `value` is a well-formed message (known tags, right shapes, bounded depth).
pub fn validate(value: &Value) -> Result<(), WireError> {
    check(value, 0)
}

fn check(value: &Value, depth: usize) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError(format!("nested deeper than {MAX_DEPTH} levels")));
    }
    let next = depth + 1;
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check(v, next)),
        Value::Object(map) => match tag_of(value) {
            None => map.values().try_for_each(|v| check(v, next)),
            Some((tag, body)) => check_tag(tag, body, next),
        },
        _ => Ok(()),
    }
}

fn check_tag(tag: &str, body: &Value, depth: usize) -> Result<(), WireError> {
    let bad = || WireError(format!("bad {tag} body"));
    match tag {
        "$undefined" | "$hole" => Ok(()),
        "$number" => match body.as_str() {
            Some("NaN" | "Infinity" | "-Infinity" | "-0") => Ok(()),
            _ => Err(bad()),
        },
        "$bigint" => body
            .as_str()
            .filter(|s| {
                let digits = s.strip_prefix('-').unwrap_or(s);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            })
            .map(|_| ())
            .ok_or_else(bad),
        "$date" => (body.is_number() || body.as_str() == Some("NaN")).then_some(()).ok_or_else(bad),
        "$regexp" => (body.get("source").is_some_and(Value::is_string)
            && body.get("flags").is_some_and(Value::is_string))
        .then_some(())
        .ok_or_else(bad),
        "$error" => body.is_object().then_some(()).ok_or_else(bad),
        "$ref" | "$port" => body.as_u64().map(|_| ()).ok_or_else(bad),
        "$def" => match body.as_array().map(Vec::as_slice) {
            Some([id, inner]) if id.is_u64() => check(inner, depth),
            _ => Err(bad()),
        },
        "$map" => {
            let entries = body.as_array().ok_or_else(bad)?;
            entries.iter().try_for_each(|entry| match entry.as_array().map(Vec::as_slice) {
                Some([k, v]) => check(k, depth).and_then(|()| check(v, depth)),
                _ => Err(bad()),
            })
        }
        "$set" => body.as_array().ok_or_else(bad)?.iter().try_for_each(|v| check(v, depth)),
        "$object" => body.as_object().ok_or_else(bad)?.values().try_for_each(|v| check(v, depth)),
        "$boxed" => check(body, depth),
        "$WebAssembly.Module" => {
            let text = body.as_str().ok_or_else(bad)?;
            let base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
            text.bytes().all(base64).then_some(()).ok_or_else(bad)
        }
        "$ArrayBuffer" => {
            let bytes = body.as_array().ok_or_else(bad)?;
            bytes.iter().all(|b| b.as_u64().is_some_and(|b| b < 256)).then_some(()).ok_or_else(bad)
        }
        "$view" => {
            let ok =
                body.get("type").and_then(Value::as_str).is_some_and(|t| t == "DataView" || TYPED_ARRAYS.contains(&t))
                    && body.get("byteOffset").is_some_and(Value::is_u64)
                    && body.get("length").is_some_and(Value::is_u64);
            if !ok {
                return Err(bad());
            }
            check(body.get("buffer").ok_or_else(bad)?, depth)
        }
        _ => {
            let name = &tag[1..];
            if !TYPED_ARRAYS.contains(&name) {
                return Err(WireError(format!("unknown tag {tag}")));
            }
            body.as_array().ok_or_else(bad)?.iter().try_for_each(|v| check(v, depth))
        }
    }
}

/// The readable JSON of a message, as `worklet render --events` prints it: typed
/// arrays, ArrayBuffers and views become arrays of numbers; every other tag stays
/// as it is on the wire.
pub fn to_display(value: &Value) -> Value {
    let mut buffers = std::collections::HashMap::new();
    display(value, &mut buffers)
}

fn display(value: &Value, buffers: &mut std::collections::HashMap<u64, Vec<u8>>) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| display(v, buffers)).collect()),
        Value::Object(map) => match tag_of(value) {
            None => Value::Object(map.iter().map(|(k, v)| (k.clone(), display(v, buffers))).collect::<Map<_, _>>()),
            Some((tag, body)) => display_tag(tag, body, buffers).unwrap_or_else(|| value.clone()),
        },
        other => other.clone(),
    }
}

fn display_tag(tag: &str, body: &Value, buffers: &mut std::collections::HashMap<u64, Vec<u8>>) -> Option<Value> {
    match tag {
        "$def" => {
            let [id, inner] = body.as_array()?.as_slice() else { return None };
            if let Some(bytes) = tag_of(inner).filter(|(t, _)| *t == "$ArrayBuffer").and_then(|(_, b)| bytes_of(b)) {
                buffers.insert(id.as_u64()?, bytes);
            }
            Some(Value::Object(Map::from_iter([(
                "$def".to_owned(),
                Value::Array(vec![id.clone(), display(inner, buffers)]),
            )])))
        }
        "$view" => {
            let buffer = body.get("buffer")?;
            let bytes = match tag_of(buffer)? {
                ("$ArrayBuffer", b) => bytes_of(b)?,
                ("$def", def) => {
                    let [id, inner] = def.as_array()?.as_slice() else { return None };
                    let bytes = bytes_of(tag_of(inner).filter(|(t, _)| *t == "$ArrayBuffer")?.1)?;
                    buffers.insert(id.as_u64()?, bytes.clone());
                    bytes
                }
                ("$ref", id) => buffers.get(&id.as_u64()?)?.clone(),
                _ => return None,
            };
            let kind = body.get("type")?.as_str()?;
            let offset = usize::try_from(body.get("byteOffset")?.as_u64()?).ok()?;
            let length = usize::try_from(body.get("length")?.as_u64()?).ok()?;
            let width = element_width(kind);
            let slice = bytes.get(offset..offset.checked_add(length.checked_mul(width)?)?)?;
            Some(Value::Array(slice.chunks_exact(width).map(|chunk| element(kind, chunk)).collect()))
        }
        "$ArrayBuffer" => Some(body.clone()),
        "$WebAssembly.Module" => {
            let bytes = body.as_str()?.trim_end_matches('=').len() * 3 / 4;
            Some(Value::String(format!("WebAssembly.Module ({bytes} bytes)")))
        }
        _ if TYPED_ARRAYS.contains(&&tag[1..]) => Some(body.clone()),
        _ => Some(Value::Object(Map::from_iter([(tag.to_owned(), display(body, buffers))]))),
    }
}

/// Replaces every `{"$WebAssembly.Module": "@FILE"}` in a message written by hand
/// (command line, editor console) with the bytes of `FILE`, read relative to
/// `base`. The error names the file that could not be read.
pub fn read_module_files(value: &mut Value, base: &std::path::Path) -> Result<(), String> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(|v| read_module_files(v, base)),
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(text)) = map.get_mut("$WebAssembly.Module")
                && let Some(file) = text.strip_prefix('@')
            {
                use base64::Engine as _;
                let path = base.join(file);
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                *text = base64::engine::general_purpose::STANDARD.encode(bytes);
                return Ok(());
            }
            map.values_mut().try_for_each(|v| read_module_files(v, base))
        }
        _ => Ok(()),
    }
}

fn bytes_of(body: &Value) -> Option<Vec<u8>> {
    body.as_array()?.iter().map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect()
}

fn element_width(kind: &str) -> usize {
    match kind {
        "Int16Array" | "Uint16Array" | "Float16Array" => 2,
        "Int32Array" | "Uint32Array" | "Float32Array" => 4,
        "Float64Array" | "BigInt64Array" | "BigUint64Array" => 8,
        _ => 1,
    }
}

/// Rewrites integral floating-point numbers as integers (`1.0` becomes `1`), as
/// JavaScript prints them. Boa's JSON conversion yields floats for most numbers.
pub fn tidy_numbers(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(number) => {
            if let Some(x) = number.as_f64().filter(|x| number.is_f64() && x.fract() == 0.0 && x.abs() < EXACT) {
                *value = Value::from(x as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_numbers),
        Value::Object(map) => map.values_mut().for_each(tidy_numbers),
        _ => {}
    }
}

/// One little-endian element of a typed array as a JSON number (or string for BigInt).
fn element(kind: &str, chunk: &[u8]) -> Value {
    let bytes8 = |c: &[u8]| {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        b
    };
    let number = |x: f64| serde_json::Number::from_f64(x).map_or_else(|| non_finite(x), Value::Number);
    match kind {
        "Int8Array" => (chunk[0] as i8).into(),
        "Int16Array" => i16::from_le_bytes([chunk[0], chunk[1]]).into(),
        "Uint16Array" => u16::from_le_bytes([chunk[0], chunk[1]]).into(),
        "Int32Array" => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]).into(),
        "Uint32Array" => u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]).into(),
        "Float16Array" => number(f16_to_f64(u16::from_le_bytes([chunk[0], chunk[1]]))),
        "Float32Array" => number(f64::from(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))),
        "Float64Array" => number(f64::from_le_bytes(bytes8(chunk))),
        "BigInt64Array" => i64::from_le_bytes(bytes8(chunk)).to_string().into(),
        "BigUint64Array" => u64::from_le_bytes(bytes8(chunk)).to_string().into(),
        _ => chunk[0].into(),
    }
}

fn non_finite(x: f64) -> Value {
    let text = if x.is_nan() {
        "NaN"
    } else if x > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    Value::Object(Map::from_iter([("$number".to_owned(), Value::from(text))]))
}

fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_json_is_valid_and_displays_as_itself() {
        let v = json!({"volume": 0.8, "list": [1, "a", null, true]});
        validate(&v).unwrap();
        assert_eq!(to_display(&v), v);
    }

    #[test]
    fn typed_arrays_display_as_number_arrays() {
        assert_eq!(to_display(&json!({"$Float32Array": [0.5, 1]})), json!([0.5, 1]));
        assert_eq!(to_display(&json!({"$ArrayBuffer": [1, 2]})), json!([1, 2]));
    }

    #[test]
    fn views_decode_their_slice_of_the_buffer() {
        let view = json!({"$view": {"type": "Int16Array", "buffer": {"$ArrayBuffer": [0, 0, 1, 0, 255, 255]}, "byteOffset": 2, "length": 2}});
        assert_eq!(to_display(&view), json!([1, -1]));
        let shared = json!([
            {"$view": {"type": "Uint8Array", "buffer": {"$def": [0, {"$ArrayBuffer": [7, 8]}]}, "byteOffset": 1, "length": 1}},
            {"$view": {"type": "Uint8Array", "buffer": {"$ref": 0}, "byteOffset": 0, "length": 2}}
        ]);
        assert_eq!(to_display(&shared), json!([[8], [7, 8]]));
        let cyclic = json!({"$def": [0, {"self": {"$ref": 0}}]});
        assert_eq!(to_display(&cyclic), cyclic);
    }

    #[test]
    fn integral_floats_become_integers() {
        let mut v = json!({"a": 1.0, "b": [2.5, -3.0], "c": 1e300});
        tidy_numbers(&mut v);
        assert_eq!(v.to_string(), r#"{"a":1,"b":[2.5,-3],"c":1e+300}"#);
    }

    #[test]
    fn other_tags_stay_tagged() {
        let v = json!({"a": {"$undefined": null}, "b": {"$number": "NaN"}, "c": {"$map": [["k", {"$bigint": "1"}]]}});
        assert_eq!(to_display(&v), v);
    }

    #[test]
    fn malformed_messages_are_refused() {
        for bad in [
            json!({"$number": "Nope"}),
            json!({"$bigint": "12x"}),
            json!({"$Float33Array": []}),
            json!({"$ArrayBuffer": [256]}),
            json!({"$map": [[1]]}),
            json!({"$def": ["x", 1]}),
        ] {
            assert!(validate(&bad).is_err(), "{bad}");
        }
        let mut deep = json!(0);
        for _ in 0..=MAX_DEPTH + 1 {
            deep = json!([deep]);
        }
        assert!(validate(&deep).is_err());
    }

    #[test]
    fn half_floats_decode() {
        assert!((f16_to_f64(0x3c00) - 1.0).abs() < 1e-12);
        assert!((f16_to_f64(0xc000) + 2.0).abs() < 1e-12);
        assert!(f16_to_f64(0x7c00).is_infinite());
    }
}
