//! Unhandled promise rejections are reported as Chromium reports them: one console
//! error, "Uncaught (in promise) …", when the microtask checkpoint that left the
//! rejection unhandled ends; a rejection handled within that checkpoint is not
//! reported, and one handled later is not reported again.

use serde_json::json;
use worklet::engine::{MainEvent, PortName, Post, RenderSpec};
use worklet_tests::{console, message_data, processor_errors, render_source, spec};

fn errors(rendered: &worklet::engine::Rendered) -> Vec<(u64, String)> {
    rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Console { level, text } if level == "error" => Some((e.frame, text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn an_async_factory_that_fails_is_reported_with_its_location() {
    let rendered = render_source(
        "async function loadTable(size) {
           if (size > 4) throw new RangeError(`table of ${size} is too big`);
           return new Float32Array(size);
         }
         registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); loadTable(8).then((t) => { this.table = t; }); }
           process() { return true; }
         });",
        &spec(256),
    );
    assert_eq!(
        errors(&rendered),
        [(0, "Uncaught (in promise) RangeError: table of 8 is too big (test.js:2:32)".into())]
    );
    assert!(processor_errors(&rendered).is_empty(), "a rejection is not a processorerror");
}

#[test]
fn rejections_in_module_code_process_and_message_handlers() {
    let rendered = render_source(
        "Promise.reject(new TypeError('at module time'));
         registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.onmessage = async (e) => { throw new Error(`bad message ${e.data}`); };
           }
           process() {
             if (currentFrame === 256) Promise.reject(7);
             if (currentFrame === 384) Promise.reject('text');
             return true;
           }
         });",
        &RenderSpec { posts: vec![Post { frame: 128, port: PortName::Node, data: json!(1) }], ..spec(512) },
    );
    assert_eq!(
        errors(&rendered),
        [
            (0, "Uncaught (in promise) TypeError: at module time (test.js:1:16)".to_owned()),
            (256, "Uncaught (in promise) Error: bad message 1 (test.js:5:57)".to_owned()),
            (384, "Uncaught (in promise) 7".to_owned()),
            (512, "Uncaught (in promise) text".to_owned()),
        ]
    );
}

#[test]
fn a_rejection_handled_in_the_same_checkpoint_is_not_reported() {
    let rendered = render_source(
        "const p = Promise.reject(new Error('soon handled'));
         Promise.resolve().then(() => Promise.resolve()).then(() => p.catch(() => {}));
         (async () => { try { await Promise.reject(new Error('caught')); } catch {} })();
         Promise.reject(new Error('chained')).then(() => {}).catch(() => port.postMessage('caught chained'));
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(256),
    );
    assert_eq!(message_data(&rendered), [json!("caught chained")]);
    assert!(errors(&rendered).is_empty(), "{:?}", errors(&rendered));
}

#[test]
fn a_rejection_handled_later_is_reported_once() {
    let rendered = render_source(
        "const late = Promise.reject(new Error('late'));
         registerProcessor('p', class extends AudioWorkletProcessor {
           process() {
             if (currentFrame === 256) late.catch((e) => this.port.postMessage(`handled ${e.message}`));
             if (currentFrame === 384) late.catch(() => {});
             return true;
           }
         });",
        &spec(512),
    );
    assert_eq!(errors(&rendered), [(0, "Uncaught (in promise) Error: late (test.js:1:29)".to_owned())]);
    assert_eq!(message_data(&rendered), [json!("handled late")]);
}

#[test]
fn a_module_that_throws_is_a_load_error_not_an_unhandled_rejection() {
    let mut realm = worklet::engine::Realm::new(&worklet::engine::RealmConfig::new(48_000.0)).unwrap();
    let error = realm.add_module_source("bad.js", "throw new TypeError('top level');").unwrap_err();
    assert_eq!(error.to_string(), "bad.js:1:7: TypeError: top level");
    realm
        .add_module_source(
            "good.js",
            "registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        )
        .unwrap();
    let rendered = worklet::engine::render(realm, &spec(128), &mut |_| {}).unwrap();
    assert!(console(&rendered).is_empty(), "{:?}", console(&rendered));
}

#[test]
fn a_rejection_flood_is_bounded() {
    let rendered = render_source(
        "for (let i = 0; i < 5000; i++) Promise.reject(i);
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(128),
    );
    let errors = errors(&rendered);
    assert_eq!(errors.len(), 1025, "1024 reported one by one, then a count");
    assert_eq!(errors[0].1, "Uncaught (in promise) 0");
    assert_eq!(errors[1024].1, "Uncaught (in promise): 3976 more unhandled rejections");
}
