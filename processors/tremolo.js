// Tremolo: amplitude modulation by a sine LFO, gain = 1 - depth * (1 - sin) / 2,
// so it swings between 1 and 1 - depth. `rate` (Hz) is k-rate, `depth` a-rate.
class TremoloProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'rate', defaultValue: 5, minValue: 0.01, maxValue: 40, automationRate: 'k-rate' },
      { name: 'depth', defaultValue: 0.5, minValue: 0, maxValue: 1, automationRate: 'a-rate' },
    ];
  }

  constructor() {
    super();
    this.phase = 0;
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const step = parameters.rate[0] / sampleRate;
    const depth = parameters.depth;
    let phase = this.phase;
    const sin = Math.sin;
    const PI = Math.PI;
    const channels = output.length;
    for (let i = 0; i < 128; i++) {
      const d = depth.length > 1 ? depth[i] : depth[0];
      const gain = 1 - (d * (1 - sin(2 * PI * phase))) / 2;
      for (let c = 0; c < channels; c++) {
        if (input[c]) output[c][i] = input[c][i] * gain;
      }
      phase += step;
      if (phase >= 1) phase -= 1;
    }
    this.phase = phase;
    return true;
  }
}

registerProcessor('tremolo', TremoloProcessor);
