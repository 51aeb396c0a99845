class P extends AudioWorkletProcessor {
  get process() { throw new Error('getter') }
}
registerProcessor('p', P)
