class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    outputs[0][0].fill(NaN); outputs[0][1][7] = -Infinity
    return true
  }
}
registerProcessor('p', P)
