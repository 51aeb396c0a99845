function f() {
  return 1

class P extends AudioWorkletProcessor {
  process() { return true }
}
registerProcessor('p', P)
