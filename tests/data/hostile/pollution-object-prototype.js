Object.defineProperty(Object.prototype, 'then', { get() { throw new Error('then') } })
Object.defineProperty(Object.prototype, 'process', { get() { throw 1 } })
Object.defineProperty(Object.prototype, 'data', { set() { throw 1 } })
class P extends AudioWorkletProcessor {
  process() { this.port.postMessage('still here'); return true }
}
registerProcessor('p', P)
