// A processor over an Emscripten build as web-audio projects ship them: the
// generated ES module (biquad.mjs, from build.sh) with its wasm inside, its
// factory called synchronously, and Emscripten's HEAPF32 view over the memory.
import Module from './biquad.mjs';

class EmscriptenBiquad extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [{ name: 'frequency', defaultValue: 1000, minValue: 10, maxValue: 22000, automationRate: 'a-rate' }];
  }

  constructor() {
    super();
    this.dsp = Module();
  }

  process(inputs, outputs, parameters) {
    const dsp = this.dsp;
    const input = inputs[0];
    const output = outputs[0];
    const channels = Math.min(input.length, output.length);
    const heap = dsp.HEAPF32;
    const inAt = dsp._inputs() >> 2;
    const outAt = dsp._outputs() >> 2;
    heap.set(parameters.frequency, dsp._frequencies() >> 2);
    for (let c = 0; c < channels; c++) heap.set(input[c], inAt + c * 128);
    dsp._process(0, channels, 128, parameters.frequency.length, Math.SQRT1_2, 0, sampleRate);
    for (let c = 0; c < channels; c++) output[c].set(heap.subarray(outAt + c * 128, outAt + (c + 1) * 128));
    return true;
  }
}

registerProcessor('emscripten-biquad', EmscriptenBiquad);
