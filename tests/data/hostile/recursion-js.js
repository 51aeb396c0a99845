class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    const f = () => f(); f()
    return true
  }
}
registerProcessor('p', P)
