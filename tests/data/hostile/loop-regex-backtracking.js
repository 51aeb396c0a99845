class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    /(a+)+$/.test('a'.repeat(40) + '!')
    return true
  }
}
registerProcessor('p', P)
