// A 4 GiB linear memory: refused with a RangeError, not an allocation that kills the process.
class P extends AudioWorkletProcessor {
  constructor() {
    super()
    this.memory = new WebAssembly.Memory({ initial: 65536 })
  }
  process() { return true }
}
registerProcessor('p', P)
