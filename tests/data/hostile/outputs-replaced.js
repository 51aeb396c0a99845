class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    'use strict'; outputs[0] = [new Float32Array(3)]; outputs[0][0] = null
    return true
  }
}
registerProcessor('p', P)
