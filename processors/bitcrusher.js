// Bitcrusher: quantizes to `bits` bits (step 2 / 2^bits) and holds every
// `downsample`-th sample. Both k-rate.
class BitcrusherProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'bits', defaultValue: 8, minValue: 1, maxValue: 16, automationRate: 'k-rate' },
      { name: 'downsample', defaultValue: 1, minValue: 1, maxValue: 64, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.counter = 0;
    this.held = [];
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const step = 2 / Math.pow(2, Math.round(parameters.bits[0]));
    const hold = Math.max(1, Math.round(parameters.downsample[0]));
    let counter = this.counter;
    const held = this.held;
    const round = Math.round;
    const channels = output.length;
    for (let i = 0; i < 128; i++) {
      const sample = counter === 0;
      for (let c = 0; c < channels; c++) {
        if (!input[c]) continue;
        if (sample) held[c] = step * round(input[c][i] / step);
        output[c][i] = held[c] ?? 0;
      }
      counter = (counter + 1) % hold;
    }
    this.counter = counter;
    return true;
  }
}

registerProcessor('bitcrusher', BitcrusherProcessor);
