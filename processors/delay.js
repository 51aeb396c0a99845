// Delay with feedback. `delayTime` (seconds, up to 2) is a-rate and read with
// linear interpolation; `feedback` and `mix` (dry/wet) are k-rate.
const MAX_SECONDS = 2;

class DelayProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'delayTime', defaultValue: 0.25, minValue: 0, maxValue: MAX_SECONDS, automationRate: 'a-rate' },
      { name: 'feedback', defaultValue: 0.4, minValue: 0, maxValue: 0.99, automationRate: 'k-rate' },
      { name: 'mix', defaultValue: 0.5, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.size = Math.ceil(MAX_SECONDS * sampleRate) + 2;
    this.lines = [];
    this.write = 0;
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const delay = parameters.delayTime;
    const feedback = parameters.feedback[0];
    const mix = parameters.mix[0];
    const size = this.size;
    const sr = sampleRate;
    const floor = Math.floor;
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      const line = this.lines[c] ?? (this.lines[c] = new Float32Array(size));
      let write = this.write;
      for (let i = 0, n = y.length; i < n; i++) {
        const samples = (delay.length > 1 ? delay[i] : delay[0]) * sr;
        let read = write - samples;
        if (read < 0) read += size;
        const index = floor(read);
        const frac = read - index;
        const a = line[index % size];
        const b = line[(index + 1) % size];
        const wet = samples < 1 ? x[i] * (1 - samples) + a * samples : a + (b - a) * frac;
        line[write] = x[i] + wet * feedback;
        y[i] = x[i] * (1 - mix) + wet * mix;
        write = write + 1 === size ? 0 : write + 1;
      }
      if (c === output.length - 1) this.write = write;
    }
    return true;
  }
}

registerProcessor('delay', DelayProcessor);
