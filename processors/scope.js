// Oscilloscope tap: passes audio through and posts { frame, samples } every
// `processorOptions.quanta` quanta (default 4), where samples is a Float32Array
// of the first channel over those quanta (its buffer is transferred).
class ScopeProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.quanta = options?.processorOptions?.quanta ?? 4;
    this.buffer = new Float32Array(128 * this.quanta);
    this.filled = 0;
    this.start = 0;
  }

  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    for (let c = 0, channels = input.length; c < channels; c++) if (output[c]) output[c].set(input[c]);
    if (this.filled === 0) this.start = currentFrame;
    if (input.length > 0) this.buffer.set(input[0], this.filled);
    this.filled += 128;
    if (this.filled === this.buffer.length) {
      const samples = this.buffer;
      this.port.postMessage({ frame: this.start, samples }, [samples.buffer]);
      this.buffer = new Float32Array(128 * this.quanta);
      this.filled = 0;
    }
    return true;
  }
}

registerProcessor('scope', ScopeProcessor);
