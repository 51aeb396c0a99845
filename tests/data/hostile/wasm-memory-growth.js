// Wasm that grows its memory every quantum until memory.grow fails (-1): the realm's
// cap refuses it inside wasm, and the processor reports what it saw.
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,127,3,2,1,0,5,3,1,0,1,7,17,2,6,109,101,109,111,114,121,2,0,4,103,114,111,119,0,0,10,9,1,7,0,65,232,7,64,0,11])))
class P extends AudioWorkletProcessor {
  process() {
    if (exports.grow() < 0) throw new RangeError('memory.grow refused at ' + exports.memory.buffer.byteLength + ' bytes')
    return true
  }
}
registerProcessor('p', P)
