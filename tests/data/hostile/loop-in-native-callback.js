class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    new Array(1e6).fill(0).forEach(() => { for (let i = 0; i < 1e5; i++) {} })
    return true
  }
}
registerProcessor('p', P)
