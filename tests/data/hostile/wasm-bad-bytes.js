// Bytes that are not a module: a CompileError where the module is made.
const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9, 9]))
registerProcessor('p', class extends AudioWorkletProcessor { process() { return true } })
