class P extends AudioWorkletProcessor {
  constructor() {
    super()
    (async () => { for (;;) await null })()
  }
  process() { return true }
}
registerProcessor('p', P)
