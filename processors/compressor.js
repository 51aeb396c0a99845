// Feed-forward compressor with a hard knee, stereo-linked peak detection and
// attack/release smoothing of the gain (in dB). Posts its gain reduction over
// the port every `processorOptions.reportEvery` quanta (default 8) as
// { gainReduction } in dB (positive numbers mean reduction).
class CompressorProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'threshold', defaultValue: -18, minValue: -60, maxValue: 0, automationRate: 'k-rate' },
      { name: 'ratio', defaultValue: 4, minValue: 1, maxValue: 20, automationRate: 'k-rate' },
      { name: 'attack', defaultValue: 0.005, minValue: 0.0001, maxValue: 1, automationRate: 'k-rate' },
      { name: 'release', defaultValue: 0.1, minValue: 0.001, maxValue: 2, automationRate: 'k-rate' },
      { name: 'makeup', defaultValue: 0, minValue: 0, maxValue: 24, automationRate: 'k-rate' },
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
    const input = inputs[0];
    const output = outputs[0];
    const threshold = parameters.threshold[0];
    const slope = 1 - 1 / parameters.ratio[0];
    const attack = Math.exp(-1 / (parameters.attack[0] * sampleRate));
    const release = Math.exp(-1 / (parameters.release[0] * sampleRate));
    const makeup = Math.pow(10, parameters.makeup[0] / 20);
    let reduction = this.reduction;
    const max = Math.max, abs = Math.abs, log10 = Math.log10, pow = Math.pow;
    const sources = input.length, channels = output.length;
    for (let i = 0; i < 128; i++) {
      let peak = 0;
      for (let c = 0; c < sources; c++) peak = max(peak, abs(input[c][i]));
      const level = peak > 1e-9 ? 20 * log10(peak) : -180;
      const target = level > threshold ? (level - threshold) * slope : 0;
      const coefficient = target > reduction ? attack : release;
      reduction = target + (reduction - target) * coefficient;
      const gain = pow(10, -reduction / 20) * makeup;
      for (let c = 0; c < channels; c++) {
        if (input[c]) output[c][i] = input[c][i] * gain;
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

registerProcessor('compressor', CompressorProcessor);
