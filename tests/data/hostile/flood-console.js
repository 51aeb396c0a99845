class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    for (let i = 0; i < 10000; i++) console.log(i)
    return true
  }
}
registerProcessor('p', P)
