// Noise gate: opens when the (stereo-linked) peak envelope rises above
// `threshold` (dB), stays open for `hold` seconds after it falls below, and fades
// in and out over `attack` and `release` seconds. All k-rate.
class NoiseGateProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'threshold', defaultValue: -40, minValue: -90, maxValue: 0, automationRate: 'k-rate' },
      { name: 'attack', defaultValue: 0.001, minValue: 0.0001, maxValue: 0.5, automationRate: 'k-rate' },
      { name: 'hold', defaultValue: 0.05, minValue: 0, maxValue: 2, automationRate: 'k-rate' },
      { name: 'release', defaultValue: 0.1, minValue: 0.001, maxValue: 2, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.envelope = 0;
    this.gain = 0;
    this.holding = 0;
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const threshold = Math.pow(10, parameters.threshold[0] / 20);
    const open = 1 / Math.max(1, parameters.attack[0] * sampleRate);
    const close = 1 / Math.max(1, parameters.release[0] * sampleRate);
    const holdFrames = parameters.hold[0] * sampleRate;
    const decay = Math.exp(-1 / (0.01 * sampleRate));
    for (let i = 0; i < 128; i++) {
      let peak = 0;
      for (let c = 0; c < input.length; c++) peak = Math.max(peak, Math.abs(input[c][i]));
      this.envelope = Math.max(peak, this.envelope * decay);
      if (this.envelope >= threshold) this.holding = holdFrames;
      else if (this.holding > 0) this.holding--;
      const target = this.envelope >= threshold || this.holding > 0 ? 1 : 0;
      this.gain = target > this.gain ? Math.min(1, this.gain + open) : Math.max(0, this.gain - close);
      for (let c = 0; c < output.length; c++) {
        if (input[c]) output[c][i] = input[c][i] * this.gain;
      }
    }
    return true;
  }
}

registerProcessor('noise-gate', NoiseGateProcessor);
