await new Promise(() => {})
class P extends AudioWorkletProcessor {
  process() { return true }
}
registerProcessor('p', P)
