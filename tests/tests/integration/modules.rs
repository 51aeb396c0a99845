//! `addModule` semantics: several ES modules in one scope, relative imports inside
//! the allowed root, and clear errors for everything else.

use std::fs;

use serde_json::json;
use worklet::engine::{Realm, RealmConfig, render};
use worklet_tests::{message_data, scratch, spec, try_realm};

fn realm_in(root: &std::path::Path) -> Realm {
    Realm::new(&RealmConfig { module_roots: vec![root.to_path_buf()], ..RealmConfig::new(48_000.0) }).unwrap()
}

#[test]
fn several_modules_share_one_scope_in_order() {
    let dir = scratch("modules-shared");
    fs::write(dir.join("a.js"), "globalThis.shared = ['a']; export const unused = 1;").unwrap();
    fs::write(
        dir.join("b.js"),
        "shared.push('b');
         registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.postMessage(shared); }
           process() { return true; }
         });",
    )
    .unwrap();
    let mut realm = realm_in(&dir);
    realm.add_module_file(&dir.join("a.js")).unwrap();
    realm.add_module_file(&dir.join("b.js")).unwrap();
    let rendered = render(realm, &spec(0), &mut |_| {}).unwrap();
    assert_eq!(message_data(&rendered), [json!(["a", "b"])]);
}

#[test]
fn modules_are_strict_es_modules() {
    let rendered = worklet_tests::render_source(
        "let strict = false;
         try { undeclared = 1; } catch (e) { strict = e instanceof ReferenceError; }
         port.postMessage([strict, this === undefined, typeof import.meta]);
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(0),
    );
    assert_eq!(message_data(&rendered), [json!([true, true, "object"])]);
}

#[test]
fn relative_imports_resolve_inside_the_root() {
    let dir = scratch("modules-imports");
    fs::create_dir_all(dir.join("lib/dsp")).unwrap();
    fs::write(dir.join("lib/dsp/math.js"), "export const twice = (x) => 2 * x;").unwrap();
    fs::write(dir.join("lib/util.js"), "import { twice } from './dsp/math.js'; export const four = twice(2);").unwrap();
    fs::write(
        dir.join("main.js"),
        "import { four } from './lib/util.js';
         import { twice } from './lib/../lib/dsp/math.js';
         registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.postMessage([four, twice(5)]); }
           process() { return true; }
         });",
    )
    .unwrap();
    let mut realm = realm_in(&dir);
    realm.add_module_file(&dir.join("main.js")).unwrap();
    assert_eq!(realm.module_paths().len(), 3, "each file is loaded once");
    let rendered = render(realm, &spec(0), &mut |_| {}).unwrap();
    assert_eq!(message_data(&rendered), [json!([4, 10])]);
}

#[test]
fn an_import_outside_the_root_fails_clearly_at_the_import() {
    let dir = scratch("modules-escape");
    let root = dir.join("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(dir.join("secret.js"), "export const secret = 42;").unwrap();
    fs::write(
        root.join("main.js"),
        "// first line\nimport { secret } from '../secret.js';\nregisterProcessor('p', class {});\n",
    )
    .unwrap();
    let mut realm = realm_in(&root);
    let error = realm.add_module_file(&root.join("main.js")).unwrap_err();
    assert!(error.message.contains("outside the module root"), "{error}");
    assert!(error.message.contains("'../secret.js'"), "{error}");
    assert!(error.filename.ends_with("main.js"), "{error}");
    assert_eq!((error.lineno, error.colno), (2, 24), "{error}");
}

#[test]
fn a_top_level_module_outside_the_root_is_refused() {
    let dir = scratch("modules-top-escape");
    let root = dir.join("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(dir.join("other.js"), "registerProcessor('p', class {});").unwrap();
    let error = realm_in(&root).add_module_file(&dir.join("other.js")).unwrap_err();
    assert!(error.message.contains("outside the module root"), "{error}");
}

#[test]
fn bare_and_missing_imports_name_the_problem() {
    let dir = scratch("modules-missing");
    fs::write(dir.join("bare.js"), "import x from 'lodash';").unwrap();
    fs::write(dir.join("missing.js"), "import x from './nope.js';").unwrap();
    let error = realm_in(&dir).add_module_file(&dir.join("bare.js")).unwrap_err();
    assert!(error.message.contains("bare module specifier 'lodash'"), "{error}");
    let error = realm_in(&dir).add_module_file(&dir.join("missing.js")).unwrap_err();
    assert!(error.message.contains("cannot find module"), "{error}");
    assert_eq!((error.lineno, error.colno), (1, 15));
}

#[test]
fn a_syntax_error_in_an_imported_file_names_that_file() {
    let dir = scratch("modules-import-syntax");
    fs::write(dir.join("broken.js"), "export const a = 1;\nexport const b = ;\n").unwrap();
    fs::write(dir.join("main.js"), "import { a } from './broken.js';").unwrap();
    let error = realm_in(&dir).add_module_file(&dir.join("main.js")).unwrap_err();
    assert_eq!(error.name, "SyntaxError");
    assert!(error.filename.ends_with("broken.js"), "{error}");
    assert_eq!(error.lineno, 2, "{error}");
}

#[test]
fn a_syntax_error_has_file_line_and_column() {
    let error = try_realm("registerProcessor('a', class {\n  process() {\n    return [1, 2;\n  }\n});").err().unwrap();
    assert_eq!(error.name, "SyntaxError");
    assert_eq!((error.filename.as_str(), error.lineno), ("test.js", 3));
    assert!(error.colno > 0);
    assert!(error.to_string().starts_with("test.js:3:"), "{error}");
}

#[test]
fn an_exception_while_evaluating_a_module_is_located() {
    let error = try_realm("const x = 1;\nregisterProcessor('', class {});\n").err().unwrap();
    assert_eq!(error.name, "NotSupportedError");
    assert_eq!(error.lineno, 2);
    assert!((1..=18).contains(&error.colno), "at the call, got column {}", error.colno);
}

#[test]
fn an_undefined_name_at_module_level_is_located_at_the_name() {
    let error = try_realm("const a = 1;\nconst b = a + missingName;\n").err().unwrap();
    assert_eq!(error.name, "ReferenceError");
    assert_eq!((error.lineno, error.colno), (2, 15));
}

#[test]
fn in_memory_modules_import_each_other_and_cannot_escape() {
    let mut realm = Realm::new(&RealmConfig::new(48_000.0)).unwrap();
    realm.provide_module_source("lib/gain.js", "export const unity = 1;");
    realm
        .add_module_source(
            "main.js",
            "import { unity } from './lib/gain.js';
             registerProcessor('p', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(unity); } process() { return true; } });",
        )
        .unwrap();
    let error = realm.add_module_source("other.js", "import '../../etc/passwd';").unwrap_err();
    assert!(error.message.contains("no module"), "{error}");
    let rendered = render(realm, &spec(0), &mut |_| {}).unwrap();
    assert_eq!(message_data(&rendered), [json!(1)]);
}

#[test]
fn only_module_files_are_read() {
    let dir = scratch("modules-only-js");
    fs::write(dir.join("secret.txt"), "password=hunter2").unwrap();
    fs::create_dir_all(dir.join("folder.js")).unwrap();
    fs::write(dir.join("lib.mjs"), "export const ok = 'mjs';").unwrap();
    fs::write(dir.join("text.js"), "import s from './secret.txt';").unwrap();
    fs::write(dir.join("folder.js.js"), "import f from './folder.js';").unwrap();
    let error = realm_in(&dir).add_module_file(&dir.join("text.js")).unwrap_err();
    assert!(error.message.contains("not a JavaScript module file"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "the file is never read: {error}");
    assert_eq!((error.lineno, error.colno), (1, 15), "{error}");
    let error = realm_in(&dir).add_module_file(&dir.join("folder.js.js")).unwrap_err();
    assert!(error.message.contains("is not a file"), "{error}");
    fs::write(
        dir.join("main.js"),
        "import { ok } from './lib.mjs';
         registerProcessor('p', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(ok); } process() { return true; } });",
    )
    .unwrap();
    let mut realm = realm_in(&dir);
    realm.add_module_file(&dir.join("main.js")).unwrap();
    assert_eq!(message_data(&render(realm, &spec(0), &mut |_| {}).unwrap()), [json!("mjs")]);
}

#[test]
fn a_wider_root_lets_imports_reach_a_sibling_folder() {
    let dir = scratch("modules-wide-root");
    fs::create_dir_all(dir.join("lib")).unwrap();
    fs::create_dir_all(dir.join("processors")).unwrap();
    fs::write(dir.join("lib/dsp.js"), "export const half = (x) => x / 2;").unwrap();
    fs::write(
        dir.join("processors/main.js"),
        "import { half } from '../lib/dsp.js';
         registerProcessor('p', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(half(3)); } process() { return true; } });",
    )
    .unwrap();
    let narrow = realm_in(&dir.join("processors")).add_module_file(&dir.join("processors/main.js")).unwrap_err();
    assert!(narrow.message.contains("outside the module root"), "{narrow}");
    let mut realm = realm_in(&dir);
    realm.add_module_file(&dir.join("processors/main.js")).unwrap();
    assert_eq!(message_data(&render(realm, &spec(0), &mut |_| {}).unwrap()), [json!(1.5)]);
}

#[test]
fn an_in_memory_module_that_follows_a_file_imports_beside_that_file() {
    // The plugin's linked module: its text comes from the project, its imports
    // resolve against the folder of the file it follows, inside the allowed root.
    let dir = scratch("modules-linked");
    fs::create_dir_all(dir.join("project/lib")).unwrap();
    fs::write(dir.join("project/lib/table.js"), "export const table = [1, 2, 3];").unwrap();
    fs::write(dir.join("outside.js"), "export const no = 1;").unwrap();
    let mut realm = realm_in(&dir.join("project"));
    realm.set_module_folder("synth.js", &dir.join("project"));
    realm
        .add_module_source(
            "synth.js",
            "import { table } from './lib/table.js';
             registerProcessor('p', class extends AudioWorkletProcessor { constructor() { super(); this.port.postMessage(table); } process() { return true; } });",
        )
        .unwrap();
    let mut other = realm_in(&dir.join("project"));
    other.set_module_folder("escape.js", &dir.join("project"));
    let error = other.add_module_source("escape.js", "import { no } from '../outside.js';").unwrap_err();
    assert!(error.message.contains("outside the module root"), "{error}");
    assert_eq!(message_data(&render(realm, &spec(0), &mut |_| {}).unwrap()), [json!([1, 2, 3])]);
}
