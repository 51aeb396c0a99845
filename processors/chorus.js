// Chorus: each channel is mixed with a copy delayed by a sine-modulated time
// (base 20 ms; the right channel's LFO is a quarter period later). `rate` (Hz),
// `depth` (ms) and `mix` are k-rate.
const BASE_MS = 20;
const MAX_MS = 60;

class ChorusProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'rate', defaultValue: 0.8, minValue: 0.01, maxValue: 10, automationRate: 'k-rate' },
      { name: 'depth', defaultValue: 5, minValue: 0, maxValue: 15, automationRate: 'k-rate' },
      { name: 'mix', defaultValue: 0.5, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.size = Math.ceil((MAX_MS / 1000) * sampleRate) + 2;
    this.lines = [];
    this.write = 0;
    this.phase = 0;
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const rate = parameters.rate[0];
    const depth = (parameters.depth[0] / 1000) * sampleRate;
    const base = (BASE_MS / 1000) * sampleRate;
    const mix = parameters.mix[0];
    const size = this.size;
    const step = rate / sampleRate;
    const sin = Math.sin;
    const floor = Math.floor;
    const PI = Math.PI;
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      const line = this.lines[c] ?? (this.lines[c] = new Float32Array(size));
      const offset = c === 1 ? 0.25 : 0;
      let write = this.write;
      let phase = this.phase;
      for (let i = 0, n = y.length; i < n; i++) {
        line[write] = x[i];
        const delay = base + depth * sin(2 * PI * (phase + offset));
        let read = write - delay;
        if (read < 0) read += size;
        const index = floor(read);
        const frac = read - index;
        const a = line[index % size];
        const b = line[(index + 1) % size];
        y[i] = x[i] * (1 - mix) + (a + (b - a) * frac) * mix;
        write = write + 1 === size ? 0 : write + 1;
        phase += step;
        if (phase >= 1) phase -= 1;
      }
      if (c === output.length - 1) {
        this.write = write;
        this.phase = phase;
      }
    }
    return true;
  }
}

registerProcessor('chorus', ChorusProcessor);
