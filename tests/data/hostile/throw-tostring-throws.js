class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    const e = new Error('x'); e.toString = () => { throw e }; throw e
    return true
  }
}
registerProcessor('p', P)
