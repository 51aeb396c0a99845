//! WebAssembly processors on the command line: modules handed over in
//! `--options` and `--post` from `.wasm` files named in `@FILE.json`.

use std::fs;

use serde_json::{Value, json};
use worklet_tests::{cli, scratch};

/// A processor that gets its module from `processorOptions.module` and later from
/// a message, and reports what each instance computes.
const SOURCE: &str = r#"
registerProcessor('handed', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const module = options.processorOptions.module;
    this.port.postMessage(['options', module instanceof WebAssembly.Module,
      new WebAssembly.Instance(module).exports.twice(21)]);
    this.port.onmessage = ({ data }) => {
      this.port.postMessage(['post', data.module instanceof WebAssembly.Module,
        new WebAssembly.Instance(data.module).exports.twice(data.x)]);
    };
  }
  process() { return true; }
});
"#;

const TWICE: &str =
    r#"(module (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))"#;

#[test]
fn options_and_posts_read_from_files_carry_modules_named_by_file() {
    let dir = scratch("wasm-cli-files");
    let script = dir.join("handed.js");
    fs::write(&script, SOURCE).unwrap();
    fs::create_dir_all(dir.join("payloads")).unwrap();
    fs::write(dir.join("payloads/twice.wasm"), wat::parse_str(TWICE).unwrap()).unwrap();
    let options = dir.join("payloads/options.json");
    fs::write(&options, r#"{"processorOptions": {"module": {"$WebAssembly.Module": "@twice.wasm"}}}"#).unwrap();
    let post = dir.join("payloads/post.json");
    fs::write(&post, r#"{"module": {"$WebAssembly.Module": "@twice.wasm"}, "x": 50}"#).unwrap();
    let (status, stdout, stderr) = cli(&[
        "render",
        script.to_str().unwrap(),
        "--frames",
        "512",
        "--options",
        &format!("@{}", options.display()),
        "--post",
        &format!("256:@{}", post.display()),
        "--events",
        "-",
    ]);
    assert_eq!(status, 0, "{stderr}");
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        events,
        [
            json!({"frame": 0, "type": "message", "port": "node", "data": ["options", true, 42]}),
            json!({"frame": 384, "type": "message", "port": "node", "data": ["post", true, 100]}),
        ]
    );
}

#[test]
fn a_module_file_that_is_missing_or_not_wasm_is_reported_where_it_is_named() {
    let dir = scratch("wasm-cli-bad");
    let script = dir.join("handed.js");
    fs::write(&script, SOURCE).unwrap();
    let missing = r#"{"processorOptions": {"module": {"$WebAssembly.Module": "@nowhere.wasm"}}}"#;
    let (status, _, stderr) = cli(&["render", script.to_str().unwrap(), "--options", missing]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--options") && stderr.contains("nowhere.wasm"), "{stderr}");

    fs::write(dir.join("text.wasm"), "not wasm").unwrap();
    let options = dir.join("options.json");
    fs::write(&options, r#"{"processorOptions": {"module": {"$WebAssembly.Module": "@text.wasm"}}}"#).unwrap();
    let (status, stdout, stderr) =
        cli(&["render", script.to_str().unwrap(), "--options", &format!("@{}", options.display()), "--events", "-"]);
    assert_eq!(status, 0, "{stderr}");
    let error: Value = serde_json::from_str(stdout.lines().next().expect("a processorerror event")).unwrap();
    assert_eq!(error["type"], "processorerror", "{stdout}");
    assert!(error["message"].as_str().unwrap().contains("CompileError"), "{stdout}");
}
