class P extends AudioWorkletProcessor {
  constructor() {
    super()
    throw new TypeError('boom')
  }
  process() { return true }
}
registerProcessor('p', P)
