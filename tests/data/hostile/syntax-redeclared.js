let a = 1
let a = 2
class P extends AudioWorkletProcessor {
  process() { return true }
}
registerProcessor('p', P)
