class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    throw new RangeError('late')
    return true
  }
}
registerProcessor('p', P)
