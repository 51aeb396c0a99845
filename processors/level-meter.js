// Level meter: passes audio through and posts { rms, peak } (arrays, one value
// per channel, linear) every `processorOptions.interval` quanta (default 8),
// measured over those quanta.
class LevelMeterProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.interval = options?.processorOptions?.interval ?? 8;
    this.sums = [];
    this.peaks = [];
    this.count = 0;
  }

  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    for (let c = 0; c < input.length; c++) {
      const x = input[c];
      let sum = this.sums[c] ?? 0;
      let peak = this.peaks[c] ?? 0;
      for (let i = 0, n = x.length; i < n; i++) {
        sum += x[i] * x[i];
        peak = Math.max(peak, Math.abs(x[i]));
      }
      this.sums[c] = sum;
      this.peaks[c] = peak;
      if (output[c]) output[c].set(x);
    }
    if (++this.count === this.interval) {
      const frames = this.count * 128;
      this.port.postMessage({ rms: this.sums.map((s) => Math.sqrt(s / frames)), peak: this.peaks.slice() });
      this.sums = [];
      this.peaks = [];
      this.count = 0;
    }
    return true;
  }
}

registerProcessor('level-meter', LevelMeterProcessor);
