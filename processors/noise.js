// White or pink noise (processorOptions.color, default 'white'), from a seeded
// xorshift32 generator (processorOptions.seed), so renders are reproducible.
// Pink noise uses Paul Kellet's filter. `gain` is k-rate. Use numberOfInputs: 0.
class NoiseProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [{ name: 'gain', defaultValue: 0.25, minValue: 0, maxValue: 1, automationRate: 'k-rate' }];
  }

  constructor(options) {
    super();
    this.color = options?.processorOptions?.color ?? 'white';
    if (this.color !== 'white' && this.color !== 'pink') throw new TypeError(`unknown color '${this.color}' (use white or pink)`);
    this.state = (options?.processorOptions?.seed ?? 1) >>> 0 || 1;
    this.pink = [0, 0, 0, 0, 0, 0, 0];
  }

  next() {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x / 2147483648 - 1;
  }

  process(inputs, outputs, parameters) {
    const output = outputs[0];
    const gain = parameters.gain[0];
    const b = this.pink;
    const pink = this.color === 'pink';
    const channels = output.length;
    for (let i = 0; i < 128; i++) {
      const white = this.next();
      let value = white;
      if (pink) {
        b[0] = 0.99886 * b[0] + white * 0.0555179;
        b[1] = 0.99332 * b[1] + white * 0.0750759;
        b[2] = 0.969 * b[2] + white * 0.153852;
        b[3] = 0.8665 * b[3] + white * 0.3104856;
        b[4] = 0.55 * b[4] + white * 0.5329522;
        b[5] = -0.7616 * b[5] - white * 0.016898;
        value = (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + white * 0.5362) * 0.11;
        b[6] = white * 0.115926;
      }
      for (let c = 0; c < channels; c++) output[c][i] = value * gain;
    }
    return true;
  }
}

registerProcessor('noise', NoiseProcessor);
