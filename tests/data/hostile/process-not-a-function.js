class P extends AudioWorkletProcessor {
  constructor() { super(); this.process = 42 }
}
registerProcessor('p', P)
