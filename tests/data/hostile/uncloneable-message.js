class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    this.port.postMessage(() => 1)
    return true
  }
}
registerProcessor('p', P)
