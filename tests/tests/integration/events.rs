//! `EventTarget` and `Event` as the DOM standard defines them for targets outside
//! a tree, and `MessagePort` / `MessageEvent` built on them as in browsers.

use serde_json::{Value, json};
use worklet_tests::{console, message_data, render_source, spec};

fn run(body: &str) -> (Vec<Value>, Vec<String>) {
    let source = format!(
        "{body}\nregisterProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});"
    );
    let rendered = render_source(&source, &spec(128));
    (message_data(&rendered), console(&rendered))
}

#[test]
fn listeners_run_capture_first_in_order_with_the_event_state() {
    let (data, _) = run("const t = new EventTarget(); const seen = [];
         t.addEventListener('x', (e) => seen.push(['bubble', e.eventPhase, e.target === t, e.currentTarget === t, e.isTrusted]));
         t.addEventListener('x', function (e) { seen.push(['capture', this === t, e.composedPath().length]); }, true);
         t.addEventListener('x', { handleEvent(e) { seen.push(['object', this !== t]); } });
         const e = new Event('x');
         const result = t.dispatchEvent(e);
         port.postMessage([seen, result, e.eventPhase, e.currentTarget, e.target === t, e.composedPath().length]);");
    assert_eq!(
        data,
        [json!([[["capture", true, 1], ["bubble", 2, true, true, false], ["object", true]], true, 0, null, true, 0])]
    );
}

#[test]
fn options_once_capture_passive_and_duplicates() {
    let (data, _) = run("const t = new EventTarget(); let count = 0; const f = () => count++;
         t.addEventListener('x', f); t.addEventListener('x', f); t.addEventListener('x', f, { capture: true });
         t.addEventListener('y', f, { once: true });
         t.addEventListener('z', (e) => e.preventDefault(), { passive: true });
         t.dispatchEvent(new Event('x')); const afterX = count;
         t.dispatchEvent(new Event('y')); t.dispatchEvent(new Event('y')); const afterY = count;
         t.removeEventListener('x', f); t.dispatchEvent(new Event('x')); const afterRemove = count;
         t.removeEventListener('x', f, true); t.dispatchEvent(new Event('x'));
         const passive = t.dispatchEvent(new Event('z', { cancelable: true }));
         port.postMessage([afterX, afterY, afterRemove, count, passive]);");
    assert_eq!(data, [json!([2, 3, 4, 4, true])]);
}

#[test]
fn cancelation_and_propagation_flags() {
    let (data, _) = run("const t = new EventTarget(); const seen = [];
         t.addEventListener('x', (e) => { seen.push(1); e.preventDefault(); e.stopImmediatePropagation(); });
         t.addEventListener('x', () => seen.push(2));
         const cancelable = new Event('x', { cancelable: true });
         const plain = new Event('x');
         const r1 = t.dispatchEvent(cancelable), r2 = t.dispatchEvent(plain);
         const legacy = new Event('y', { cancelable: true }); legacy.returnValue = false;
         const bubble = new Event('y'); bubble.cancelBubble = true;
         port.postMessage([seen, r1, cancelable.defaultPrevented, cancelable.returnValue, r2, plain.defaultPrevented,
                           legacy.defaultPrevented, bubble.cancelBubble]);");
    assert_eq!(data, [json!([[1, 1], false, true, false, true, false, true, true])]);
}

#[test]
fn a_listener_added_or_removed_during_dispatch() {
    let (data, _) = run("const t = new EventTarget(); const seen = [];
         const second = () => seen.push('second');
         t.addEventListener('x', () => { seen.push('first'); t.removeEventListener('x', second); t.addEventListener('x', () => seen.push('late')); });
         t.addEventListener('x', second);
         t.dispatchEvent(new Event('x'));
         port.postMessage(seen);");
    assert_eq!(data, [json!(["first"])]);
}

#[test]
fn a_throwing_listener_is_reported_and_the_others_still_run() {
    let (data, console) = run("const t = new EventTarget(); const seen = [];
         t.addEventListener('x', () => { throw new TypeError('listener failed'); });
         t.addEventListener('x', () => seen.push('after'));
         t.dispatchEvent(new Event('x'));
         port.postMessage(seen);");
    assert_eq!(data, [json!(["after"])]);
    assert_eq!(console.len(), 1);
    assert!(console[0].starts_with("Uncaught TypeError: listener failed (test.js:2:"), "{console:?}");
}

#[test]
fn the_event_constructor_and_init_event() {
    let (data, _) = run("const e = new Event('a', { bubbles: true, cancelable: 1, composed: true });
         const names = [];
         for (const f of [() => new Event(), () => Event('a'), () => new EventTarget().dispatchEvent({}),
                          () => Event.prototype.preventDefault.call({})]) {
           try { f(); names.push('none'); } catch (err) { names.push(err.name); }
         }
         const t = new EventTarget(); let during = null;
         t.addEventListener('again', (event) => { try { t.dispatchEvent(event); } catch (err) { during = err.name; } });
         t.dispatchEvent(new Event('again'));
         const i = new Event('x'); i.initEvent('y', true, true);
         port.postMessage([e.type, e.bubbles, e.cancelable, e.composed, e.isTrusted, e.eventPhase, e.target,
                           typeof e.timeStamp, e.timeStamp >= 0, Event.AT_TARGET, e.BUBBLING_PHASE, names, during,
                           i.type, i.bubbles, i.cancelable, Object.prototype.toString.call(e),
                           Object.getOwnPropertyNames(e).includes('isTrusted')]);");
    assert_eq!(
        data,
        [json!([
            "a",
            true,
            true,
            true,
            false,
            0,
            null,
            "number",
            true,
            2,
            3,
            ["TypeError", "TypeError", "TypeError", "TypeError"],
            "InvalidStateError",
            "y",
            true,
            true,
            "[object Event]",
            true
        ])]
    );
}

#[test]
fn event_target_can_be_subclassed_and_events_too() {
    let (data, _) = run("class Clock extends EventTarget { tick() { this.dispatchEvent(new TickEvent(3)); } }
         class TickEvent extends Event { constructor(n) { super('tick'); this.n = n; } }
         const clock = new Clock(); let got = null;
         clock.addEventListener('tick', (e) => { got = [e.n, e instanceof TickEvent, e instanceof Event]; });
         clock.tick();
         port.postMessage([got, clock instanceof EventTarget]);");
    assert_eq!(data, [json!([[3, true, true], true])]);
}

#[test]
fn message_ports_are_event_targets_with_trusted_message_events() {
    let rendered = render_source(
        "registerProcessor('p', class extends AudioWorkletProcessor {
           constructor() {
             super();
             const seen = [];
             this.port.addEventListener('message', (e) => {
               seen.push([e.data, e.isTrusted, e.target === this.port, e instanceof MessageEvent, e instanceof Event,
                          e.origin, e.lastEventId, e.source, e.ports.length, Object.isFrozen(e.ports)]);
               this.port.postMessage(seen);
             });
             this.port.start();
             this.port.postMessage([this.port instanceof EventTarget, Object.getPrototypeOf(MessagePort.prototype) === EventTarget.prototype]);
           }
           process() { return true; }
         });",
        &worklet::engine::RenderSpec {
            posts: vec![worklet::engine::Post {
                frame: 0,
                port: worklet::engine::PortName::Node,
                data: json!("hi"),
            }],
            ..spec(256)
        },
    );
    assert_eq!(
        message_data(&rendered),
        [json!([true, true]), json!([["hi", true, true, true, true, "", "", null, 0, true]])]
    );
}

#[test]
fn message_events_can_be_constructed_and_dispatched_by_script() {
    let (data, _) = run("const { port1 } = new MessageChannel(); let seen = null;
         port1.onmessage = (e) => { seen = [e.data, e.isTrusted, e.source === port1, e.ports.length]; };
         const e = new MessageEvent('message', { data: { a: 1 }, source: port1, ports: [port1], origin: 'o' });
         port1.dispatchEvent(e);
         const errors = [];
         for (const init of [{ source: {} }, { ports: [1] }, { ports: 3 }]) {
           try { new MessageEvent('m', init); } catch (err) { errors.push(err.name); }
         }
         port.postMessage([seen, e.origin, typeof port1.onmessage, errors]);");
    assert_eq!(data, [json!([[{"a": 1}, false, true, 1], "o", "function", ["TypeError", "TypeError", "TypeError"]])]);
}

#[test]
fn handler_attributes_keep_their_place_and_can_be_cleared() {
    let (data, _) = run("const { port1: t } = new MessageChannel(); const seen = [];
         t.addEventListener('message', () => seen.push('a'));
         t.onmessage = () => seen.push('handler');
         t.addEventListener('message', () => seen.push('b'));
         t.onmessage = () => seen.push('replaced');
         t.dispatchEvent(new MessageEvent('message'));
         t.onmessage = null;
         t.dispatchEvent(new MessageEvent('message'));
         port.postMessage([seen, t.onmessage]);");
    assert_eq!(data, [json!([["a", "replaced", "b", "a", "b"], null])]);
}
