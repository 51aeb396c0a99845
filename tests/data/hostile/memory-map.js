class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    const m = new Map(); for (let i = 0; ; i++) m.set(i, [i])
    return true
  }
}
registerProcessor('p', P)
