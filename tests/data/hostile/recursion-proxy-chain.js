class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    let p = {}; for (let i = 0; i < 1e6; i++) p = new Proxy(p, {}); p.x
    return true
  }
}
registerProcessor('p', P)
