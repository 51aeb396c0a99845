// Wasm runs first (its engine installs signal handlers), then native recursion
// overflows the stack: the engine process still names the stack overflow.
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,7,1,3,114,117,110,0,0,10,6,1,4,0,32,0,11])))
class P extends AudioWorkletProcessor {
  process() {
    exports.run(1)
    let p = {}; for (let i = 0; i < 1e6; i++) p = new Proxy(p, {}); p.x
    return true
  }
}
registerProcessor('p', P)
