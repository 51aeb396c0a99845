// Band-limited oscillator: sine, sawtooth and square, with PolyBLEP correction at
// the discontinuities. `frequency` and `detune` (cents) are a-rate; `gain` is
// k-rate. The waveform comes from processorOptions.type (default 'sine') and can
// be changed with port.postMessage({ type }).
const TYPES = ['sine', 'sawtooth', 'square'];
const TWO_PI = 2 * Math.PI;

// PolyBLEP residual for a unit step at phase 0, with phase increment dt.
function polyBlep(t, dt) {
  if (t < dt) {
    const x = t / dt;
    return x + x - x * x - 1;
  }
  if (t > 1 - dt) {
    const x = (t - 1) / dt;
    return x * x + x + x + 1;
  }
  return 0;
}

class OscillatorProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'frequency', defaultValue: 440, minValue: 0, maxValue: 20000, automationRate: 'a-rate' },
      { name: 'detune', defaultValue: 0, minValue: -2400, maxValue: 2400, automationRate: 'a-rate' },
      { name: 'gain', defaultValue: 0.5, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
    ];
  }

  constructor(options) {
    super();
    this.type = this.checkType(options?.processorOptions?.type ?? 'sine');
    this.phase = 0;
    this.port.onmessage = (event) => {
      if (event.data && typeof event.data.type === 'string') this.type = this.checkType(event.data.type);
    };
  }

  checkType(type) {
    if (!TYPES.includes(type)) throw new TypeError(`unknown waveform '${type}' (use ${TYPES.join(', ')})`);
    return type;
  }

  process(inputs, outputs, parameters) {
    const output = outputs[0];
    const frequency = parameters.frequency;
    const detune = parameters.detune;
    const gain = parameters.gain[0];
    const channel = output[0];
    const constant = frequency.length === 1 && detune.length === 1;
    const pow = Math.pow;
    const sr = sampleRate;
    let dt = (frequency[0] * pow(2, detune[0] / 1200)) / sr;
    let phase = this.phase;
    // Locals for what the loop reads every frame.
    const type = this.type;
    const sin = Math.sin;
    const floor = Math.floor;
    const n = channel.length;
    for (let i = 0; i < n; i++) {
      if (!constant) {
        const f = frequency.length > 1 ? frequency[i] : frequency[0];
        const d = detune.length > 1 ? detune[i] : detune[0];
        dt = (f * pow(2, d / 1200)) / sr;
      }
      let value;
      if (type === 'sine') {
        value = sin(TWO_PI * phase);
      } else if (type === 'sawtooth') {
        value = 2 * phase - 1 - polyBlep(phase, dt);
      } else {
        value = (phase < 0.5 ? 1 : -1) + polyBlep(phase, dt) - polyBlep((phase + 0.5) % 1, dt);
      }
      channel[i] = gain * value;
      phase += dt;
      phase -= floor(phase);
    }
    this.phase = phase;
    for (let c = 1, channels = output.length; c < channels; c++) output[c].set(channel);
    return true;
  }
}

registerProcessor('oscillator', OscillatorProcessor);
