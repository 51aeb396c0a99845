class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    throw { toString() { throw 1 } }
    return true
  }
}
registerProcessor('p', P)
