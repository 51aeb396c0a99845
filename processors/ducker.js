// Sidechain ducker: a feed-forward compressor on input 0 whose level detector
// listens to input 1, the key (a plugin's sidechain bus; in a page, whatever is
// connected to the node's second input). Construct it with
// { numberOfInputs: 2, outputChannelCount: [2] } (with two inputs an output is
// mono unless told otherwise); a mono input 0 plays on both output channels.
// With nothing connected to input 1 it keys from input 0, as a plain
// compressor does.
//
// Hard knee, peak detection linked over the key's channels, the gain smoothed
// in dB by one-pole attack and release, the reduction capped at `range` dB.
// Posts { gainReduction } (dB, positive means reduction) every
// `processorOptions.reportEvery` quanta (default 8).
class DuckerProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'threshold', defaultValue: -30, minValue: -80, maxValue: 0, automationRate: 'k-rate' },
      { name: 'ratio', defaultValue: 8, minValue: 1, maxValue: 100, automationRate: 'k-rate' },
      { name: 'attack', defaultValue: 0.002, minValue: 0.0001, maxValue: 1, automationRate: 'k-rate' },
      { name: 'release', defaultValue: 0.25, minValue: 0.001, maxValue: 4, automationRate: 'k-rate' },
      { name: 'range', defaultValue: 36, minValue: 0, maxValue: 96, automationRate: 'k-rate' },
    ];
  }

  constructor(options) {
    super();
    this.reportEvery = options?.processorOptions?.reportEvery ?? 8;
    this.reduction = 0;
    this.quanta = 0;
    this.report = { gainReduction: 0 };
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0] ?? [];
    const key = inputs[1]?.length ? inputs[1] : input;
    const output = outputs[0];
    const threshold = parameters.threshold[0];
    const slope = 1 - 1 / parameters.ratio[0];
    const range = parameters.range[0];
    const attack = Math.exp(-1 / (parameters.attack[0] * sampleRate));
    const release = Math.exp(-1 / (parameters.release[0] * sampleRate));
    let reduction = this.reduction;
    const max = Math.max, min = Math.min, abs = Math.abs, log10 = Math.log10, pow = Math.pow;
    const keys = key.length, channels = output.length;
    for (let i = 0, n = output[0].length; i < n; i++) {
      let peak = 0;
      for (let c = 0; c < keys; c++) peak = max(peak, abs(key[c][i]));
      const level = peak > 1e-9 ? 20 * log10(peak) : -180;
      const target = level > threshold ? min(range, (level - threshold) * slope) : 0;
      const coefficient = target > reduction ? attack : release;
      reduction = target + (reduction - target) * coefficient;
      const gain = pow(10, -reduction / 20);
      for (let c = 0; c < channels; c++) {
        const source = input[c] ?? input[0];
        output[c][i] = source ? source[i] * gain : 0;
      }
    }
    this.reduction = reduction;
    if (++this.quanta % this.reportEvery === 0) {
      this.report.gainReduction = reduction; // posting copies it, so one object serves every report
      this.port.postMessage(this.report);
    }
    return true;
  }
}

registerProcessor('ducker', DuckerProcessor);
