class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    Array(2 ** 32 - 1).join()
    return true
  }
}
registerProcessor('p', P)
