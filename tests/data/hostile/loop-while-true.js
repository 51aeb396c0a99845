class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    while (true) {}
    return true
  }
}
registerProcessor('p', P)
