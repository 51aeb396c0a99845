// State-variable filter (trapezoidal, after A. Simper): lowpass, highpass,
// bandpass and notch from one structure. `cutoff` (Hz) is a-rate; `resonance`
// (Q) is k-rate. The mode comes from processorOptions.mode (default 'lowpass').
const MODES = ['lowpass', 'highpass', 'bandpass', 'notch'];

class SvfProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'cutoff', defaultValue: 1000, minValue: 20, maxValue: 20000, automationRate: 'a-rate' },
      { name: 'resonance', defaultValue: Math.SQRT1_2, minValue: 0.1, maxValue: 20, automationRate: 'k-rate' },
    ];
  }

  constructor(options) {
    super();
    this.mode = options?.processorOptions?.mode ?? 'lowpass';
    if (!MODES.includes(this.mode)) throw new TypeError(`unknown mode '${this.mode}' (use ${MODES.join(', ')})`);
    this.state = [];
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const cutoff = parameters.cutoff;
    const k = 1 / parameters.resonance[0];
    const tan = Math.tan, min = Math.min, PI = Math.PI, sr = sampleRate;
    const mode = this.mode;
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      const s = this.state[c] ?? (this.state[c] = [0, 0]);
      let ic1 = s[0], ic2 = s[1];
      let g = tan((PI * min(cutoff[0], sr * 0.49)) / sr);
      for (let i = 0, n = y.length; i < n; i++) {
        if (cutoff.length > 1) g = tan((PI * min(cutoff[i], sr * 0.49)) / sr);
        const a1 = 1 / (1 + g * (g + k));
        const a2 = g * a1;
        const a3 = g * a2;
        const v3 = x[i] - ic2;
        const v1 = a1 * ic1 + a2 * v3;
        const v2 = ic2 + a2 * ic1 + a3 * v3;
        ic1 = 2 * v1 - ic1;
        ic2 = 2 * v2 - ic2;
        const low = v2;
        const band = v1;
        const high = x[i] - k * v1 - v2;
        y[i] = mode === 'lowpass' ? low : mode === 'highpass' ? high : mode === 'bandpass' ? band : low + high;
      }
      s[0] = ic1;
      s[1] = ic2;
    }
    return true;
  }
}

registerProcessor('svf', SvfProcessor);
