//! Script errors: processorerror with file, line and column; silence afterwards;
//! listener exceptions go to the console; the runaway guard.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use worklet::engine::{PortName, Post, RenderSpec};
use worklet_tests::{console, message_data, processor_errors, render_source};

fn connected(frames: u64) -> RenderSpec {
    RenderSpec { frames, input: Some(vec![vec![0.5; frames as usize]]), ..RenderSpec::default() }
}

#[test]
fn an_exception_in_process_is_one_located_processorerror_then_silence() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  process(inputs, outputs) {
    outputs[0][0].fill(1);
    if (currentFrame === 256) {
      undefinedFunction();
    }
    return true;
  }
});",
        &connected(1024),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "exactly one processorerror: {errors:?}");
    let (frame, message, file, line, column) = &errors[0];
    assert_eq!(*frame, 384, "observed after the quantum that threw");
    assert!(message.starts_with("ReferenceError"), "{message}");
    assert!(message.contains("undefinedFunction"), "{message}");
    assert_eq!((file.as_str(), *line, *column), ("test.js", 5, 7));
    let output = &rendered.output[0];
    assert!(output[..256].iter().all(|&s| (s - 1.0).abs() < 1e-7), "sound before the error");
    assert!(output[256..].iter().all(|&s| s == 0.0), "silence from the failing quantum on");
}

#[test]
fn a_thrown_error_object_is_located_where_it_was_created() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  process() {
    throw new RangeError('out of range');
  }
});",
        &connected(128),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors[0].1, "RangeError: out of range");
    assert_eq!((errors[0].2.as_str(), errors[0].3, errors[0].4), ("test.js", 3, 11));
}

#[test]
fn a_throwing_constructor_is_a_processorerror_at_frame_zero() {
    let rendered = render_source(
        "class P extends AudioWorkletProcessor {
  constructor() {
    super();
    throw new TypeError('cannot start');
  }
  process(i, outputs) { outputs[0][0].fill(1); return true; }
}
registerProcessor('p', P);",
        &connected(256),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 0);
    assert_eq!(errors[0].1, "TypeError: cannot start");
    assert_eq!((errors[0].3, errors[0].4), (4, 11));
    assert!(rendered.output[0].iter().all(|&s| s == 0.0), "a node whose constructor threw is silent");
}

#[test]
fn a_missing_process_is_located_at_the_registration() {
    let rendered = render_source(
        "class P extends AudioWorkletProcessor {}
registerProcessor('p', P);",
        &connected(256),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.starts_with("TypeError"), "{}", errors[0].1);
    assert!(errors[0].1.contains("process"), "{}", errors[0].1);
    assert_eq!((errors[0].2.as_str(), errors[0].3), ("test.js", 2));
}

#[test]
fn an_exception_in_onmessage_is_reported_on_the_console_not_as_processorerror() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  constructor() {
    super();
    this.port.onmessage = (e) => { throw new Error('bad message ' + e.data); };
    this.port.addEventListener('message', (e) => this.port.postMessage('second listener ran'));
  }
  process(i, outputs) { outputs[0][0].fill(1); return true; }
});",
        &RenderSpec { posts: vec![Post { frame: 0, port: PortName::Node, data: json!(7) }], ..connected(256) },
    );
    assert!(processor_errors(&rendered).is_empty());
    assert_eq!(console(&rendered), ["Uncaught Error: bad message 7 (test.js:4:42)"]);
    assert_eq!(message_data(&rendered), [json!("second listener ran")], "other listeners still run");
    assert!(rendered.output[0].iter().all(|&s| (s - 1.0).abs() < 1e-7), "the node keeps playing");
}

/// Renders in a thread and fails if the runaway guard does not stop the script in time.
fn render_bounded(source: &'static str) -> worklet::engine::Rendered {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(render_source(source, &connected(256)));
    });
    receive.recv_timeout(Duration::from_secs(120)).expect("the runaway guard did not stop the script within 120 s")
}

#[test]
fn an_infinite_loop_becomes_a_processorerror() {
    let rendered = render_bounded(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  process() {
    let x = 0;
    while (true) { x++; }
  }
});",
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("runaway guard"), "{}", errors[0].1);
    assert_eq!(errors[0].3, 4, "located at the loop");
}

#[test]
fn a_loop_that_calls_a_function_that_loops_is_stopped_by_the_budget_of_the_call() {
    // Each frame runs at most a thousand iterations per call, far below the
    // per-frame limit; only the budget shared by the nested calls stops it.
    let rendered = render_bounded(
        "function spin() {
  for (let i = 0; i < 1000; i++) {}
}
registerProcessor('p', class extends AudioWorkletProcessor {
  process() {
    for (;;) spin();
  }
});",
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.contains("across nested calls"), "{}", errors[0].1);
    assert!(errors[0].1.contains("runaway guard"), "{}", errors[0].1);
    assert_eq!((errors[0].2.as_str(), errors[0].3), ("test.js", 2), "located at the loop that spent the budget");
}

#[test]
fn loops_in_callbacks_of_native_functions_spend_the_same_budget() {
    let rendered = render_bounded(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  process() {
    new Array(1e6).fill(0).forEach(() => {
      for (let i = 0; i < 1e5; i++) {}
    });
    return true;
  }
});",
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.contains("across nested calls"), "{}", errors[0].1);
    assert_eq!(errors[0].3, 4, "located at the inner loop");
}

#[test]
fn every_process_call_gets_a_fresh_budget() {
    // Five quanta of five million iterations each: more than one budget in all,
    // less than one per call.
    let rendered = render_bounded(
        "function work() { for (let i = 0; i < 1000; i++) {} }
registerProcessor('p', class extends AudioWorkletProcessor {
  process(inputs, outputs) {
    if (currentFrame < 640) for (let n = 0; n < 5000; n++) work();
    outputs[0][0].fill(1);
    return true;
  }
});",
    );
    assert_eq!(processor_errors(&rendered), [], "no call exceeded its budget");
    assert!(rendered.output[0].iter().all(|&s| s == 1.0), "every quantum played");
}

#[test]
fn a_runaway_message_listener_is_reported_and_the_node_keeps_playing() {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let spec =
            RenderSpec { posts: vec![Post { frame: 0, port: PortName::Node, data: json!("go") }], ..connected(256) };
        let source = "function spin() { for (let i = 0; i < 1000; i++) {} }
registerProcessor('p', class extends AudioWorkletProcessor {
  constructor() { super(); this.port.onmessage = () => { for (;;) spin(); }; }
  process(inputs, outputs) { outputs[0][0].fill(1); return true; }
});";
        let _ = send.send(render_source(source, &spec));
    });
    let rendered = receive.recv_timeout(Duration::from_secs(120)).expect("the budget stops the listener");
    let console = console(&rendered);
    assert_eq!(console.len(), 1, "{console:?}");
    assert!(console[0].starts_with("Uncaught RangeError"), "{}", console[0]);
    assert!(console[0].contains("across nested calls"), "{}", console[0]);
    assert!(console[0].ends_with("(test.js:1:19)"), "located at the loop: {}", console[0]);
    assert_eq!(processor_errors(&rendered), [], "a listener's error is not a processorerror");
    assert!(rendered.output[0].iter().all(|&s| s == 1.0), "the node keeps playing");
}

#[test]
fn an_endless_microtask_chain_becomes_a_processorerror_instead_of_hanging_the_thread() {
    let rendered = render_bounded(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  process(i, outputs) {
    outputs[0][0].fill(1);
    if (currentFrame === 128) { const spin = () => Promise.resolve().then(spin); spin(); }
    return true;
  }
});",
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.contains("microtask queue did not drain"), "{}", errors[0].1);
    assert!(rendered.output[0][..128].iter().all(|&s| s == 1.0), "the first quantum played");
    assert!(rendered.output[0][256..].iter().all(|&s| s == 0.0), "then the failed node is silent");
}

#[test]
fn an_infinite_loop_in_the_constructor_becomes_a_processorerror() {
    let rendered = render_bounded(
        "registerProcessor('p', class extends AudioWorkletProcessor {
  constructor() { super(); for (;;) {} }
  process() { return true; }
});",
    );
    assert_eq!(processor_errors(&rendered).len(), 1);
}

#[test]
fn runaway_recursion_becomes_a_processorerror() {
    let rendered = render_bounded(
        "function down(n) { return down(n + 1) + 1; }
registerProcessor('p', class extends AudioWorkletProcessor {
  process() { return down(0); }
});",
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.starts_with("RangeError"), "{}", errors[0].1);
    assert_eq!((errors[0].2.as_str(), errors[0].3), ("test.js", 1));
}

#[test]
fn a_thrown_non_error_value_is_still_reported() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor { process() { throw 'just a string'; } });",
        &connected(128),
    );
    let errors = processor_errors(&rendered);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("just a string"), "{}", errors[0].1);
    assert_eq!(errors[0].3, 1);
}
