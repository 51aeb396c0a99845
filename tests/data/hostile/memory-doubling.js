class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    let s = 'x'; for (;;) s += s
    return true
  }
}
registerProcessor('p', P)
