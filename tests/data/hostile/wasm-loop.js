// Wasm that never returns, called from process(): the runaway guard stops it.
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,7,8,1,4,115,112,105,110,0,0,10,9,1,7,0,3,64,12,0,11,11,0,19,4,110,97,109,101,1,7,1,0,4,115,112,105,110,2,3,1,0,0])))
class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    exports.spin()
    return true
  }
}
registerProcessor('p', P)
