//! JSON on the command line (`--options`, `--post`, `--post-global`): written
//! inline or read from a file with `@FILE.json`, since real payloads (a
//! WebAssembly module's bytes) exceed a command line. Runs on the caller's thread.

use std::path::Path;

use serde_json::Value;

use super::Failure;
use crate::port::wire;

/// Parses `text` (JSON, or `@FILE` naming a JSON file) for `flag`; errors about
/// inline JSON name it as `written` (the whole argument as typed). Inside it,
/// `{"$WebAssembly.Module": "@dsp.wasm"}` names a module by its file, read relative
/// to the JSON file's folder (inline JSON: the current folder).
pub(crate) fn parse(flag: &str, written: &str, text: &str) -> Result<Value, Failure> {
    let (json, base, origin) = match text.strip_prefix('@') {
        Some(file) => {
            let path = Path::new(file);
            let json = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("{flag} @{file}: cannot read it: {e}")))?;
            let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
            (json, base, format!("{flag} @{file}"))
        }
        None => (text.to_owned(), std::path::PathBuf::new(), format!("{flag} '{written}'")),
    };
    let mut value: Value =
        serde_json::from_str(&json).map_err(|e| Failure::usage(format!("{origin}: invalid JSON: {e}")))?;
    let base = if base.as_os_str().is_empty() { Path::new(".") } else { base.as_path() };
    wire::read_module_files(&mut value, base).map_err(|e| Failure::usage(format!("{origin}: cannot read {e}")))?;
    wire::validate(&value).map_err(|e| Failure::usage(format!("{origin}: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("worklet-json-arg-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn inline_json_parses_and_bad_json_names_the_flag() {
        assert_eq!(parse("--post", "0:\"ping\"", "\"ping\"").unwrap(), Value::from("ping"));
        let error = parse("--options", "{", "{").unwrap_err();
        assert_eq!(error.status, super::super::EXIT_USAGE);
        assert!(error.message.starts_with("--options '{': invalid JSON"), "{}", error.message);
    }

    #[test]
    fn a_file_is_read_and_its_module_references_resolve_beside_it() {
        let dir = scratch("file");
        std::fs::write(dir.join("dsp.wasm"), b"\0asm\x01\0\0\0").unwrap();
        let json = dir.join("options.json");
        std::fs::write(&json, r#"{"processorOptions": {"module": {"$WebAssembly.Module": "@dsp.wasm"}}}"#).unwrap();
        let value = parse("--options", "", &format!("@{}", json.display())).unwrap();
        assert_eq!(value["processorOptions"]["module"]["$WebAssembly.Module"], "AGFzbQEAAAA=");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_file_or_module_is_a_usage_error_naming_it() {
        let error = parse("--post", "", "@/nonexistent/worklet/post.json").unwrap_err();
        assert!(error.message.contains("/nonexistent/worklet/post.json: cannot read it"), "{}", error.message);
        let dir = scratch("missing");
        let json = dir.join("post.json");
        std::fs::write(&json, r#"{"$WebAssembly.Module": "@gone.wasm"}"#).unwrap();
        let error = parse("--post", "", &format!("@{}", json.display())).unwrap_err();
        assert!(error.message.contains("gone.wasm"), "{}", error.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_wire_forms_are_refused() {
        let error = parse("--post", "", r#"{"$nope": 1}"#).unwrap_err();
        assert!(error.message.contains("malformed"), "{}", error.message);
    }
}
