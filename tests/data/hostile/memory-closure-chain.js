class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    let f = () => 0; for (;;) { const g = f; f = () => g() }
    return true
  }
}
registerProcessor('p', P)
