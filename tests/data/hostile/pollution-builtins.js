// Builtins the engine's own code must not depend on once user code runs.
Map.prototype.forEach = null
JSON.stringify = null
JSON.parse = null
Promise.prototype.then = null
Reflect.construct = null
delete Float32Array.prototype.set
Float32Array.prototype.subarray = null
Float32Array.prototype.fill = null
Object.prototype[Symbol.iterator] = function* () { throw 1 }
String.prototype.toString = null
class P extends AudioWorkletProcessor {
  constructor() {
    super()
    this.port.onmessage = (e) => this.port.postMessage(e.data)
  }
  process(inputs, outputs) {
    outputs[0][0][0] = 0.5
    this.port.postMessage({ n: [1, 2] })
    return true
  }
}
registerProcessor('p', P)
