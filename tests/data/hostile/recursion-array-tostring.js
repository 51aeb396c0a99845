class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    let a = []; for (let i = 0; i < 1e6; i++) a = [a]; String(a)
    return true
  }
}
registerProcessor('p', P)
