//! MessagePort and MessageChannel semantics (HTML "Channel messaging") between the
//! node side and the realm, and inside the realm.

use serde_json::json;
use worklet::port::{GLOBAL_PORT, NODE_PORT, PostError, Received};
use worklet_tests::{Harness, message_data, processors_dir_source, received_data};

#[test]
fn the_mdn_ping_pong_processor_answers_pong() {
    let mut node = Harness::new(&processors_dir_source("ping-pong.js"));
    node.main.post(NODE_PORT, json!("ping"), &[]).unwrap();
    let received = node.quantum();
    assert_eq!(
        received,
        [
            Received::Console { level: "log".into(), text: "ping".into() },
            Received::Message { port: NODE_PORT, data: json!("pong"), ports: vec![] },
        ]
    );
}

#[test]
fn audio_worklet_port_settings_reach_the_global_scope() {
    let mut node = Harness::new(
        "let settings = { volume: 1 };
         port.onmessage = (event) => { settings = event.data; };
         registerProcessor('volume', class extends AudioWorkletProcessor {
           process(inputs, [output]) { output[0].fill(settings.volume); return true; }
         });",
    );
    node.quantum();
    assert!((node.output().buses[0][0][0] - 1.0).abs() < 1e-7);
    node.main.post(GLOBAL_PORT, json!({"volume": 0.8}), &[]).unwrap();
    node.quantum();
    assert!((node.output().buses[0][0][5] - 0.8).abs() < 1e-7, "the settings arrived before process()");
}

#[test]
fn onmessage_starts_the_port_but_add_event_listener_does_not() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.addEventListener('message', (e) => this.port.postMessage('heard ' + e.data));
           }
           process() {
             if (currentFrame === 256) this.port.start();
             return true;
           }
         });",
    );
    node.main.post(NODE_PORT, json!(1), &[]).unwrap();
    node.main.post(NODE_PORT, json!(2), &[]).unwrap();
    assert!(received_data(&node.quantum()).is_empty(), "not delivered before start()");
    assert!(received_data(&node.quantum()).is_empty());
    node.quantum(); // start() runs inside this quantum's process()
    assert_eq!(received_data(&node.quantum()), [json!("heard 1"), json!("heard 2")], "queued messages kept, in order");
}

#[test]
fn onmessage_delivers_without_start() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); this.port.onmessage = (e) => this.port.postMessage(e.data * 2); }
           process() { return true; }
         });",
    );
    for n in 0..5 {
        node.main.post(NODE_PORT, json!(n), &[]).unwrap();
    }
    assert_eq!(received_data(&node.quantum()), [json!(0), json!(2), json!(4), json!(6), json!(8)]);
}

#[test]
fn message_events_have_browser_shape() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.onmessage = (e) => this.port.postMessage([
               e.type, e.data, e.target === this.port, e.currentTarget === this.port, e.bubbles, e.cancelable,
               Array.isArray(e.ports), Object.isFrozen(e.ports), e.ports.length, e instanceof MessageEvent, e instanceof Event,
             ]);
           }
           process() { return true; }
         });",
    );
    node.main.post(NODE_PORT, json!({"k": [1]}), &[]).unwrap();
    assert_eq!(
        received_data(&node.quantum()),
        [json!(["message", {"k": [1]}, true, true, false, false, true, true, 0, true, true])]
    );
}

#[test]
fn several_listeners_run_in_order_and_can_be_removed() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const log = [];
             const second = () => log.push('second');
             this.port.addEventListener('message', () => log.push('first'));
             this.port.addEventListener('message', second);
             this.port.addEventListener('message', second); // duplicates are ignored
             this.port.addEventListener('message', { handleEvent: () => log.push('object') });
             this.port.addEventListener('message', () => log.push('once'), { once: true });
             this.port.onmessage = (e) => {
               log.push('handler');
               if (e.data === 'report') this.port.postMessage(log.splice(0));
               if (e.data === 'remove') this.port.removeEventListener('message', second);
             };
           }
           process() { return true; }
         });",
    );
    for message in ["a", "report", "remove", "report"] {
        node.main.post(NODE_PORT, json!(message), &[]).unwrap();
    }
    assert_eq!(
        received_data(&node.quantum()),
        [
            json!(["first", "second", "object", "once", "handler", "first", "second", "object", "handler"]),
            json!(["first", "second", "object", "handler", "first", "object", "handler"]),
        ]
    );
}

#[test]
fn messages_are_tasks_between_quanta_never_synchronous_or_microtasks() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const { port1, port2 } = new MessageChannel();
             this.local = port1;
             this.log = [];
             port2.onmessage = (e) => this.log.push('task ' + e.data);
           }
           process() {
             if (currentFrame === 0) {
               this.local.postMessage('m');
               this.log.push('after post');
               Promise.resolve().then(() => this.log.push('microtask'));
             } else {
               this.port.postMessage(this.log);
             }
             return true;
           }
         });",
    );
    node.quantum();
    assert_eq!(received_data(&node.quantum()), [json!(["after post", "microtask", "task m"])]);
}

#[test]
fn close_stops_delivery_both_ways_silently() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.onmessage = (e) => {
               this.port.postMessage('got ' + e.data);
               if (e.data === 'close') { this.port.close(); this.port.postMessage('after close'); }
             };
           }
           process() { return true; }
         });",
    );
    node.main.post(NODE_PORT, json!("close"), &[]).unwrap();
    node.main.post(NODE_PORT, json!("queued behind close"), &[]).unwrap();
    assert_eq!(received_data(&node.quantum()), [json!("got close")]);
    node.main.post(NODE_PORT, json!("later"), &[]).unwrap();
    assert!(received_data(&node.quantum()).is_empty(), "the peer's posts are dropped");
    assert_eq!(node.main.dropped().total(), 0, "dropped silently, not counted as overflow");
}

#[test]
fn closing_the_node_side_disentangles_the_processor_port() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           process() { this.port.postMessage(currentFrame); return true; }
         });",
    );
    assert_eq!(received_data(&node.quantum()), [json!(0)]);
    node.main.close(NODE_PORT);
    assert!(received_data(&node.quantum()).is_empty());
    assert_eq!(node.main.post(NODE_PORT, json!(1), &[]), Err(PostError::NotHeld(NODE_PORT)));
}

#[test]
fn a_channel_port_transferred_to_the_node_side_is_usable_there() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const channel = new MessageChannel();
             channel.port1.onmessage = (e) => channel.port1.postMessage('echo ' + e.data);
             this.port.postMessage({ hello: 'here is a port', port: channel.port2 }, [channel.port2]);
           }
           process() { return true; }
         });",
    );
    let received = node.drain();
    let Received::Message { port, data, ports } = &received[0] else { panic!("{received:?}") };
    assert_eq!(*port, NODE_PORT);
    assert_eq!(data, &json!({"hello": "here is a port", "port": {"$port": 0}}));
    let channel = ports[0];
    assert!(node.main.holds(channel));
    node.main.post(channel, json!("one"), &[]).unwrap();
    node.main.post(channel, json!("two"), &[]).unwrap();
    let received = node.quantum();
    assert_eq!(
        received,
        [
            Received::Message { port: channel, data: json!("echo one"), ports: vec![] },
            Received::Message { port: channel, data: json!("echo two"), ports: vec![] },
        ]
    );
}

#[test]
fn a_port_goes_back_to_the_realm_with_its_messages_in_order() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const channel = new MessageChannel();
             this.sender = channel.port1;
             this.port.postMessage('take', [channel.port2]);
             this.port.onmessage = (e) => {
               const returned = e.ports[0];
               const seen = [];
               returned.onmessage = (m) => { seen.push(m.data); if (m.data === 'last') this.port.postMessage(seen); };
             };
           }
           process() {
             const n = currentFrame / 128;
             if (n < 3) this.sender.postMessage(n);
             if (n === 3) this.sender.postMessage('last');
             return true;
           }
         });",
    );
    let channel = match &node.drain()[0] {
        Received::Message { ports, .. } => ports[0],
        other => panic!("{other:?}"),
    };
    let first = node.quantum(); // 0 arrives on the node side
    assert_eq!(received_data(&first), [json!(0)]);
    node.render_only(); // 1 is sent; the node side has not taken it yet
    node.main.post(NODE_PORT, json!("back"), &[channel]).unwrap();
    node.quantum(); // 2 is sent while the port travels
    node.quantum(); // 'last'
    let mut received = node.quantum();
    received.extend(node.quantum());
    assert_eq!(
        received_data(&received),
        [json!([1, 2, "last"])],
        "1 was in flight to the node side and came back first"
    );
}

#[test]
fn ports_transfer_between_channels_inside_the_scope() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const carrier = new MessageChannel();
             const inner = new MessageChannel();
             carrier.port2.onmessage = (e) => {
               const [port] = e.ports;
               port.onmessage = (m) => this.port.postMessage(['inner got', m.data, e.data]);
             };
             carrier.port1.postMessage('carrying', { transfer: [inner.port2] });
             inner.port1.postMessage('queued before the move');
           }
           process() { return true; }
         });",
    );
    node.drain();
    assert_eq!(received_data(&node.quantum()), [json!(["inner got", "queued before the move", "carrying"])]);
}

#[test]
fn transferring_an_array_buffer_detaches_it_on_the_sender() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const buffer = new Float32Array([1, 2, 3]).buffer;
             const view = new Float32Array(buffer);
             this.port.postMessage(view, [buffer]);
             this.port.postMessage([buffer.byteLength, view.length]);
             let detachedAgain = 'no error';
             try { this.port.postMessage(buffer, [buffer]); } catch (e) { detachedAgain = e.name; }
             this.port.postMessage(detachedAgain);
           }
           process() { return true; }
         });",
    );
    assert_eq!(
        received_data(&node.drain()),
        [json!({"$Float32Array": [1, 2, 3]}), json!([0, 0]), json!("DataCloneError")]
    );
}

#[test]
fn uncloneable_values_throw_data_clone_error_at_the_sender() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const results = [];
             const attempt = (label, f) => { try { f(); results.push(label + ': sent'); } catch (e) { results.push(label + ': ' + e.name + (e instanceof DOMException ? '' : '?')); } };
             const channel = new MessageChannel();
             const closed = new MessageChannel();
             closed.port1.close();
             attempt('function', () => this.port.postMessage(() => 1));
             attempt('nested function', () => this.port.postMessage({ a: [{ f() {} }] }));
             attempt('symbol', () => this.port.postMessage(Symbol('s')));
             attempt('WeakMap', () => this.port.postMessage(new WeakMap()));
             attempt('Promise', () => this.port.postMessage(Promise.resolve()));
             attempt('port not in transfer list', () => this.port.postMessage(channel.port1));
             attempt('sending port itself', () => this.port.postMessage(null, [this.port]));
             attempt('closed port', () => this.port.postMessage(null, [closed.port1]));
             attempt('duplicate', () => this.port.postMessage(null, [channel.port2, channel.port2]));
             attempt('plain object in transfer list', () => this.port.postMessage(null, [{}]));
             attempt('cloneable', () => this.port.postMessage({ ok: true }));
             this.port.postMessage(results);
           }
           process() { return true; }
         });",
    );
    let data = received_data(&node.drain());
    assert_eq!(data[0], json!({"ok": true}));
    assert_eq!(
        data[1],
        json!([
            "function: DataCloneError",
            "nested function: DataCloneError",
            "symbol: DataCloneError",
            "WeakMap: DataCloneError",
            "Promise: DataCloneError",
            "port not in transfer list: DataCloneError",
            "sending port itself: DataCloneError",
            "closed port: DataCloneError",
            "duplicate: DataCloneError",
            "plain object in transfer list: DataCloneError",
            "cloneable: sent"
        ])
    );
}

#[test]
fn the_node_side_refuses_bad_transfers_and_malformed_data() {
    let mut node =
        Harness::new("registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });");
    assert!(matches!(node.main.post(NODE_PORT, json!(1), &[NODE_PORT]), Err(PostError::DataClone(_))));
    assert!(matches!(node.main.post(NODE_PORT, json!(1), &[99]), Err(PostError::DataClone(_))));
    assert!(matches!(node.main.post(NODE_PORT, json!(1), &[GLOBAL_PORT, GLOBAL_PORT]), Err(PostError::DataClone(_))));
    assert!(matches!(node.main.post(NODE_PORT, json!({"$number": "ten"}), &[]), Err(PostError::Malformed(_))));
    assert!(node.main.holds(GLOBAL_PORT), "a refused transfer leaves the port where it was");
}

#[test]
fn an_undeserializable_message_fires_messageerror_at_the_receiver() {
    let mut node = Harness::new(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             this.port.onmessage = (e) => this.port.postMessage(['message', e.data]);
             this.port.onmessageerror = (e) => this.port.postMessage(['messageerror', e.type, e.data]);
           }
           process() { return true; }
         });",
    );
    node.main.post(NODE_PORT, json!({"$Float32Array": ["not a number"]}), &[]).unwrap();
    node.main.post(NODE_PORT, json!({"$ref": 4}), &[]).unwrap();
    node.main.post(NODE_PORT, json!("fine"), &[]).unwrap();
    assert_eq!(
        received_data(&node.quantum()),
        [
            json!(["messageerror", "messageerror", null]),
            json!(["messageerror", "messageerror", null]),
            json!(["message", "fine"])
        ]
    );
}

#[test]
fn offline_renders_report_messages_through_the_real_ports() {
    let rendered = worklet_tests::render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() { super(); const c = new MessageChannel(); this.port.postMessage('port', [c.port2]); }
           process() { return true; }
         });",
        &worklet_tests::spec(0),
    );
    assert_eq!(message_data(&rendered), [json!("port")]);
    let worklet::engine::MainEvent::Message { ports, .. } = &rendered.events[0].event else { panic!() };
    assert_eq!(ports.len(), 1);
}
