// Lists the names of an AudioWorkletGlobalScope and what each is (`typeof`), from
// the global object up to Object.prototype, and posts them on the node's port.
// The browser comparison runs it in Chromium and the compatibility-table test
// runs it in Worklet; README's table is made from the two lists.
const names = {};
for (let scope = globalThis; scope && scope !== Object.prototype; scope = Object.getPrototypeOf(scope)) {
  for (const key of Object.getOwnPropertyNames(scope)) {
    if (key in names || key === 'constructor') continue;
    let kind;
    try {
      kind = typeof globalThis[key];
    } catch {
      kind = 'throws';
    }
    names[key] = kind;
  }
}
const features = {
  'String.prototype.substr': typeof ''.substr,
  'Intl.NumberFormat': typeof globalThis.Intl?.NumberFormat,
  'ArrayBuffer.prototype.transfer': typeof ArrayBuffer.prototype.transfer,
  'Array.fromAsync': typeof Array.fromAsync,
  "(1234.5).toLocaleString('en-US')": (1234.5).toLocaleString('en-US'),
};

registerProcessor('globals-probe', class extends AudioWorkletProcessor {
  constructor() {
    super();
    this.port.postMessage({ names, features });
  }

  process() {
    return false;
  }
});
