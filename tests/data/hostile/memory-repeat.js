class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    'x'.repeat(2 ** 30)
    return true
  }
}
registerProcessor('p', P)
