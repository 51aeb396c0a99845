class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    for (let i = 0; i < 10000; i++) this.port.postMessage(i)
    return true
  }
}
registerProcessor('p', P)
