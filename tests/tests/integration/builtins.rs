//! Language built-ins that browsers have: Annex B (escape, unescape, substr,
//! trimLeft/trimRight, the HTML string methods, RegExp.prototype.compile),
//! ArrayBuffer's transfer, transferToFixedLength and detached, and Array.fromAsync.

use serde_json::{Value, json};
use worklet_tests::{console, message_data, render_source, spec};

/// Runs `body` at module time; it posts its results with `port.postMessage`.
fn run(body: &str) -> Vec<Value> {
    let source = format!(
        "{body}\nregisterProcessor('p', class extends AudioWorkletProcessor {{ process() {{ return true; }} }});"
    );
    message_data(&render_source(&source, &spec(128)))
}

#[test]
fn escape_and_unescape_follow_annex_b() {
    let data = run(r"port.postMessage([
          escape('a b+c/ä€@*_-.'), unescape('%u20AC%41%e4'), unescape('%zz%u12'),
          unescape(escape('\u{1F600} x')) === '\u{1F600} x', escape.length, unescape.name]);");
    assert_eq!(data, [json!(["a%20b+c/%E4%u20AC@*_-.", "€Aä", "%zz%u12", true, 1, "unescape"])]);
}

#[test]
fn substr_and_the_trim_aliases() {
    let data = run("port.postMessage([
          'abcdef'.substr(1, 3), 'abcdef'.substr(-2), 'abcdef'.substr(4, 99), 'abc'.substr(5), 'abc'.substr(NaN, 1),
          '  x  '.trimLeft() + '|', '|' + '  x  '.trimRight(),
          String.prototype.trimLeft === String.prototype.trimStart,
          String.prototype.trimRight === String.prototype.trimEnd]);");
    assert_eq!(data, [json!(["bcd", "ef", "ef", "", "a", "x  |", "|  x", true, true])]);
}

#[test]
fn html_string_methods() {
    let data = run(r#"port.postMessage([
          'x'.anchor('a"b'), 'x'.big(), 'x'.blink(), 'x'.bold(), 'x'.fixed(), 'x'.fontcolor('red'),
          'x'.fontsize(7), 'x'.italics(), 'x'.link('u'), 'x'.small(), 'x'.strike(), 'x'.sub(), 'x'.sup()]);"#);
    assert_eq!(
        data,
        [json!([
            "<a name=\"a&quot;b\">x</a>",
            "<big>x</big>",
            "<blink>x</blink>",
            "<b>x</b>",
            "<tt>x</tt>",
            "<font color=\"red\">x</font>",
            "<font size=\"7\">x</font>",
            "<i>x</i>",
            "<a href=\"u\">x</a>",
            "<small>x</small>",
            "<strike>x</strike>",
            "<sub>x</sub>",
            "<sup>x</sup>"
        ])]
    );
}

#[test]
fn regexp_compile_recompiles_in_place() {
    let data = run("const re = /a/g; re.lastIndex = 3;
         const same = re.compile('b+', 'i') === re;
         port.postMessage([same, re.source, re.flags, re.lastIndex, re.test('xBBy')]);");
    assert_eq!(data, [json!([true, "b+", "i", 0, true])]);
}

#[test]
fn array_buffer_transfer_moves_the_bytes_and_detaches() {
    let data = run("const a = new ArrayBuffer(8); const view = new Uint8Array(a); view.set([1, 2, 3, 4, 5, 6, 7, 8]);
         const b = a.transfer();
         const c = b.transfer(4);
         const shrunk = Array.from(new Uint8Array(c));
         const d = c.transfer(6);
         port.postMessage([a.detached, a.byteLength, view.length, b.detached, b.byteLength,
                           shrunk, c.detached, Array.from(new Uint8Array(d)), d.detached]);");
    assert_eq!(data, [json!([true, 0, 0, true, 0, [1, 2, 3, 4], true, [1, 2, 3, 4, 0, 0], false])]);
}

#[test]
fn transfer_keeps_resizability_and_transfer_to_fixed_length_drops_it() {
    let data = run("const r = new ArrayBuffer(4, { maxByteLength: 16 });
         const kept = r.transfer(8);
         const fixed = kept.transferToFixedLength();
         kept; port.postMessage([kept.detached, fixed.resizable, fixed.byteLength, fixed.maxByteLength,
           (() => { const s = new ArrayBuffer(2, { maxByteLength: 4 }).transfer(); s.resize(4); return [s.resizable, s.byteLength, s.maxByteLength]; })()]);");
    assert_eq!(data, [json!([true, false, 8, 8, [true, 4, 4]])]);
}

#[test]
fn transfer_errors_are_the_spec_errors() {
    let data = run("const names = [];
         const attempt = (f) => { try { f(); names.push('none'); } catch (e) { names.push(e.name); } };
         const gone = new ArrayBuffer(1); gone.transfer();
         attempt(() => gone.transfer());
         attempt(() => gone.transferToFixedLength());
         attempt(() => new ArrayBuffer(1).transfer(-1));
         attempt(() => new ArrayBuffer(1, { maxByteLength: 2 }).transfer(3));
         attempt(() => ArrayBuffer.prototype.transfer.call(new SharedArrayBuffer(1)));
         attempt(() => ArrayBuffer.prototype.transfer.call({}));
         attempt(() => Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached').get.call(new SharedArrayBuffer(1)));
         attempt(() => new ArrayBuffer(1).transfer(2 ** 40));
         const ok = new ArrayBuffer(2, { maxByteLength: 4 }); ok.transfer(4).byteLength;
         const d = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
         port.postMessage([names, ArrayBuffer.prototype.transfer.length, ArrayBuffer.prototype.transfer.name,
                           d.enumerable, d.writable, d.configurable]);");
    assert_eq!(
        data,
        [json!([
            ["TypeError", "TypeError", "RangeError", "RangeError", "TypeError", "TypeError", "TypeError", "RangeError"],
            0,
            "transfer",
            false,
            true,
            true
        ])]
    );
}

#[test]
fn a_transferred_buffer_views_what_was_written() {
    // Typed arrays over a detached buffer are empty; the new buffer keeps the data.
    let data = run("const f = new Float32Array(4); f.set([0.5, -1, 2, 3]);
         const moved = f.buffer.transfer();
         port.postMessage([f.length, f[0] === undefined, Array.from(new Float32Array(moved))]);");
    assert_eq!(data, [json!([0, true, [0.5, -1, 2, 3]])]);
}

#[test]
fn array_from_async_takes_async_iterables_iterables_and_array_likes() {
    let rendered = render_source(
        "const results = [];
         async function* letters() { yield 'a'; yield 'b'; }
         Promise.all([
           Array.fromAsync(letters()),
           Array.fromAsync([1, Promise.resolve(2), 3], (x, i) => x * 10 + i),
           Array.fromAsync({ length: 2, 0: Promise.resolve('x'), 1: 'y' }),
           Array.fromAsync(new Set([4]), async (x) => x + 1),
           Array.fromAsync.call(function C() { this.made = true; }, [7]).then((r) => [r.made, r[0], r.length]),
           Array.fromAsync(5).then((r) => r.length),
           Array.fromAsync(null).catch((e) => e.name),
           Array.fromAsync([1], 'nope').catch((e) => e.name),
           Array.fromAsync([Promise.reject(new Error('inner'))]).catch((e) => e.message),
         ]).then((all) => port.postMessage([...all, Array.fromAsync.length, Array.fromAsync.name]));
         registerProcessor('p', class extends AudioWorkletProcessor { process() { return true; } });",
        &spec(128),
    );
    assert_eq!(
        message_data(&rendered),
        [json!([
            ["a", "b"],
            [10, 21, 32],
            ["x", "y"],
            [5],
            [true, 7, 1],
            0,
            "TypeError",
            "TypeError",
            "inner",
            1,
            "fromAsync"
        ])]
    );
    assert!(console(&rendered).is_empty(), "every rejection is handled: {:?}", console(&rendered));
}

#[test]
fn array_from_async_closes_the_iterator_when_the_mapper_throws() {
    let data = run("const log = [];
         const iterable = { [Symbol.iterator]() { let i = 0; return {
           next() { return { value: i++, done: false }; },
           return() { log.push('closed'); return {}; } }; } };
         Array.fromAsync(iterable, (x) => { if (x === 2) throw new Error('stop'); return x; })
           .catch((e) => port.postMessage([e.message, log]));");
    assert_eq!(data, [json!(["stop", ["closed"]])]);
}
