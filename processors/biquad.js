// Biquad filter (Audio EQ Cookbook): lowpass, highpass, bandpass, notch, peaking,
// lowshelf, highshelf. `frequency` is a-rate; `Q` and `gain` (dB, for peaking and
// shelves) are k-rate. The type comes from processorOptions.type (default lowpass).
const TYPES = ['lowpass', 'highpass', 'bandpass', 'notch', 'peaking', 'lowshelf', 'highshelf'];

// Writes [b0, b1, b2, a1, a2] / a0 into `c` (reused, so process() allocates nothing).
function coefficients(type, frequency, q, gainDb, rate, c) {
  const w0 = (2 * Math.PI * Math.min(Math.max(frequency, 1), rate / 2 - 1)) / rate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a = Math.pow(10, gainDb / 40);
  let b0, b1, b2, a0, a1, a2;
  switch (type) {
    case 'highpass':
      b0 = (1 + cos) / 2; b1 = -(1 + cos); b2 = (1 + cos) / 2; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'bandpass':
      b0 = alpha; b1 = 0; b2 = -alpha; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'notch':
      b0 = 1; b1 = -2 * cos; b2 = 1; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'peaking':
      b0 = 1 + alpha * a; b1 = -2 * cos; b2 = 1 - alpha * a; a0 = 1 + alpha / a; a1 = -2 * cos; a2 = 1 - alpha / a;
      break;
    case 'lowshelf': {
      const s = 2 * Math.sqrt(a) * alpha;
      b0 = a * ((a + 1) - (a - 1) * cos + s); b1 = 2 * a * ((a - 1) - (a + 1) * cos); b2 = a * ((a + 1) - (a - 1) * cos - s);
      a0 = (a + 1) + (a - 1) * cos + s; a1 = -2 * ((a - 1) + (a + 1) * cos); a2 = (a + 1) + (a - 1) * cos - s;
      break;
    }
    case 'highshelf': {
      const s = 2 * Math.sqrt(a) * alpha;
      b0 = a * ((a + 1) + (a - 1) * cos + s); b1 = -2 * a * ((a - 1) + (a + 1) * cos); b2 = a * ((a + 1) + (a - 1) * cos - s);
      a0 = (a + 1) - (a - 1) * cos + s; a1 = 2 * ((a - 1) - (a + 1) * cos); a2 = (a + 1) - (a - 1) * cos - s;
      break;
    }
    default:
      b0 = (1 - cos) / 2; b1 = 1 - cos; b2 = (1 - cos) / 2; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
  }
  c[0] = b0 / a0; c[1] = b1 / a0; c[2] = b2 / a0; c[3] = a1 / a0; c[4] = a2 / a0;
  return c;
}

class BiquadProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'frequency', defaultValue: 1000, minValue: 10, maxValue: 22000, automationRate: 'a-rate' },
      { name: 'Q', defaultValue: Math.SQRT1_2, minValue: 0.05, maxValue: 50, automationRate: 'k-rate' },
      { name: 'gain', defaultValue: 0, minValue: -40, maxValue: 40, automationRate: 'k-rate' },
    ];
  }

  constructor(options) {
    super();
    const type = options?.processorOptions?.type ?? 'lowpass';
    if (!TYPES.includes(type)) throw new TypeError(`unknown filter type '${type}' (use ${TYPES.join(', ')})`);
    this.type = type;
    this.state = []; // per channel: [x1, x2, y1, y2]
    this.c = new Float64Array(5);
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const frequency = parameters.frequency;
    const q = parameters.Q[0];
    const gain = parameters.gain[0];
    const c = coefficients(this.type, frequency[0], q, gain, sampleRate, this.c);
    for (let channel = 0; channel < output.length; channel++) {
      const x = input[channel];
      const y = output[channel];
      if (!x) continue;
      const s = this.state[channel] ?? (this.state[channel] = [0, 0, 0, 0]);
      let x1 = s[0], x2 = s[1], y1 = s[2], y2 = s[3];
      const n = y.length;
      if (frequency.length > 1) {
        // a-rate frequency: new coefficients for every frame.
        const type = this.type, sr = sampleRate;
        for (let i = 0; i < n; i++) {
          coefficients(type, frequency[i], q, gain, sr, c);
          const xi = x[i];
          const out = c[0] * xi + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
          x2 = x1; x1 = xi; y2 = y1; y1 = out;
          y[i] = out;
        }
      } else {
        // One set of coefficients for the quantum, held in locals.
        const b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4];
        for (let i = 0; i < n; i++) {
          const xi = x[i];
          const out = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
          x2 = x1; x1 = xi; y2 = y1; y1 = out;
          y[i] = out;
        }
      }
      s[0] = x1; s[1] = x2; s[2] = y1; s[3] = y2;
    }
    return true;
  }
}

registerProcessor('biquad', BiquadProcessor);
