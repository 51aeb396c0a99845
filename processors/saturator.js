// Waveshaper / saturator: y = shape(drive * x) * output, mixed with the dry
// signal. Shapes (processorOptions.shape): 'tanh' (default), 'soft' (cubic soft
// clip), 'hard' (clip at ±1). `drive` is in dB; all parameters are k-rate.
const SHAPES = {
  tanh: (x) => Math.tanh(x),
  soft: (x) => (x <= -1 ? -2 / 3 : x >= 1 ? 2 / 3 : x - (x * x * x) / 3),
  hard: (x) => Math.max(-1, Math.min(1, x)),
};

class SaturatorProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'drive', defaultValue: 6, minValue: 0, maxValue: 48, automationRate: 'k-rate' },
      { name: 'output', defaultValue: 0.7, minValue: 0, maxValue: 2, automationRate: 'k-rate' },
      { name: 'mix', defaultValue: 1, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
    ];
  }

  constructor(options) {
    super();
    const shape = options?.processorOptions?.shape ?? 'tanh';
    if (!(shape in SHAPES)) throw new TypeError(`unknown shape '${shape}' (use ${Object.keys(SHAPES).join(', ')})`);
    this.shape = SHAPES[shape];
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const drive = Math.pow(10, parameters.drive[0] / 20);
    const gain = parameters.output[0];
    const mix = parameters.mix[0];
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      for (let i = 0, n = y.length; i < n; i++) y[i] = x[i] * (1 - mix) + this.shape(x[i] * drive) * gain * mix;
    }
    return true;
  }
}

registerProcessor('saturator', SaturatorProcessor);
