//! What the JS API reads from a module's bytes that wasmtime does not keep (any
//! thread): custom sections (`Module.customSections`) and the function index of
//! each exported function (an exported function's `name`).
//!
//! Only modules that compiled are read, so the binary is known to be well formed;
//! a read past the end still just stops.

/// The sections of a module: `(id, payload)`.
fn sections(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut at = 8usize.min(bytes.len());
    std::iter::from_fn(move || {
        let id = *bytes.get(at)?;
        at += 1;
        let size = leb(bytes, &mut at)? as usize;
        let payload = bytes.get(at..at.checked_add(size)?)?;
        at += size;
        Some((id, payload))
    })
}

/// An unsigned LEB128 number at `at`, which moves past it.
fn leb(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A name (length-prefixed UTF-8) at `at`.
fn name<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a str> {
    let len = leb(bytes, at)? as usize;
    let text = bytes.get(*at..at.checked_add(len)?)?;
    *at += len;
    std::str::from_utf8(text).ok()
}

/// The payloads of the custom sections named `wanted`, in order.
pub(crate) fn custom_sections<'a>(bytes: &'a [u8], wanted: &str) -> Vec<&'a [u8]> {
    sections(bytes)
        .filter(|&(id, _)| id == 0)
        .filter_map(|(_, payload)| {
            let mut at = 0;
            (name(payload, &mut at)? == wanted).then(|| &payload[at..])
        })
        .collect()
}

/// `(export name, function index)` of every exported function.
pub(crate) fn export_indices(bytes: &[u8]) -> Vec<(String, u32)> {
    let Some((_, payload)) = sections(bytes).find(|&(id, _)| id == 7) else { return Vec::new() };
    let mut at = 0;
    let count = leb(payload, &mut at).unwrap_or(0);
    let mut found = Vec::new();
    for _ in 0..count {
        let Some(export) = name(payload, &mut at) else { break };
        let Some(&kind) = payload.get(at) else { break };
        at += 1;
        let Some(index) = leb(payload, &mut at) else { break };
        if kind == 0 {
            found.push((export.to_owned(), index as u32));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with two exported functions (indices 0 and 1), a memory export
    /// and two custom sections named "meta" and one named "other".
    fn module() -> Vec<u8> {
        let mut bytes = vec![0, b'a', b's', b'm', 1, 0, 0, 0];
        let custom = |name: &str, data: &[u8]| {
            let mut payload = vec![name.len() as u8];
            payload.extend_from_slice(name.as_bytes());
            payload.extend_from_slice(data);
            let mut section = vec![0, payload.len() as u8];
            section.extend(payload);
            section
        };
        bytes.extend(custom("meta", b"one"));
        bytes.extend([1, 4, 1, 0x60, 0, 0]); // type: () -> ()
        bytes.extend([3, 3, 2, 0, 0]); // two functions of type 0
        bytes.extend([5, 3, 1, 0, 1]); // a memory of one page
        bytes.extend([7, 13, 3, 1, b'a', 0, 0, 1, b'b', 0, 1, 1, b'm', 2, 0]); // exports a, b, m
        bytes.extend([10, 7, 2, 2, 0, 11, 2, 0, 11]); // two empty bodies
        bytes.extend(custom("meta", b"two"));
        bytes.extend(custom("other", b"x"));
        bytes
    }

    #[test]
    fn custom_sections_are_found_by_name_in_order() {
        let bytes = module();
        assert!(wasmtime::Module::validate(&wasmtime::Engine::default(), &bytes).is_ok(), "a valid module");
        assert_eq!(custom_sections(&bytes, "meta"), [&b"one"[..], &b"two"[..]]);
        assert_eq!(custom_sections(&bytes, "other"), [&b"x"[..]]);
        assert!(custom_sections(&bytes, "none").is_empty());
    }

    #[test]
    fn exported_functions_have_their_indices() {
        assert_eq!(export_indices(&module()), [("a".to_owned(), 0), ("b".to_owned(), 1)]);
        assert!(export_indices(b"\0asm\x01\0\0\0").is_empty());
    }
}
