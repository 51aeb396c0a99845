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
    this.report = { rms: [], peak: [] }; // posting copies it, so one object serves every report
  }

  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    const sums = this.sums;
    const peaks = this.peaks;
    const max = Math.max, abs = Math.abs;
    for (let c = 0, channels = input.length; c < channels; c++) {
      const x = input[c];
      let sum = sums[c] ?? 0;
      let peak = peaks[c] ?? 0;
      for (let i = 0, n = x.length; i < n; i++) {
        sum += x[i] * x[i];
        peak = max(peak, abs(x[i]));
      }
      sums[c] = sum;
      peaks[c] = peak;
      if (output[c]) output[c].set(x);
    }
    if (++this.count === this.interval) {
      const frames = this.count * 128;
      const rms = this.report.rms;
      const peak = this.report.peak;
      const sqrt = Math.sqrt;
      const channels = sums.length;
      rms.length = channels;
      peak.length = channels;
      for (let c = 0; c < channels; c++) {
        rms[c] = sqrt(sums[c] / frames);
        peak[c] = peaks[c];
      }
      this.port.postMessage(this.report);
      sums.length = 0;
      peaks.length = 0;
      this.count = 0;
    }
    return true;
  }
}

registerProcessor('level-meter', LevelMeterProcessor);
