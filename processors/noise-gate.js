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
    const max = Math.max, min = Math.min, abs = Math.abs;
    const sources = input.length, channels = output.length;
    // The state lives in locals for the quantum and is stored back after it.
    let envelope = this.envelope, holding = this.holding, gain = this.gain;
    for (let i = 0; i < 128; i++) {
      let peak = 0;
      for (let c = 0; c < sources; c++) peak = max(peak, abs(input[c][i]));
      envelope = max(peak, envelope * decay);
      if (envelope >= threshold) holding = holdFrames;
      else if (holding > 0) holding--;
      const target = envelope >= threshold || holding > 0 ? 1 : 0;
      gain = target > gain ? min(1, gain + open) : max(0, gain - close);
      for (let c = 0; c < channels; c++) {
        if (input[c]) output[c][i] = input[c][i] * gain;
      }
    }
    this.envelope = envelope;
    this.holding = holding;
    this.gain = gain;
    return true;
  }
}

registerProcessor('noise-gate', NoiseGateProcessor);
