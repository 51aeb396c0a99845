const s = 'abc
class P extends AudioWorkletProcessor {
  process() { return true }
}
registerProcessor('p', P)
