class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    let f = function () {}; for (let i = 0; i < 1e6; i++) f = f.bind(null); f()
    return true
  }
}
registerProcessor('p', P)
