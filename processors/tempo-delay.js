// Tempo-synced delay: the echo comes `beats` quarter notes later (0.75 is a
// dotted eighth) at the host's tempo, or at `tempo` when the host reports none.
// The delay follows tempo changes, read with linear interpolation; `feedback`
// and `mix` (dry/wet) are k-rate.
import { HostEvents } from './lib/host-events.js';

const MAX_SECONDS = 4;

class TempoDelayProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'beats', defaultValue: 0.75, minValue: 0.0625, maxValue: 4, automationRate: 'k-rate' },
      { name: 'tempo', defaultValue: 120, minValue: 20, maxValue: 300, automationRate: 'k-rate' },
      { name: 'feedback', defaultValue: 0.4, minValue: 0, maxValue: 0.99, automationRate: 'k-rate' },
      { name: 'mix', defaultValue: 0.5, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.events = new HostEvents(this.port);
    this.size = Math.ceil(MAX_SECONDS * sampleRate) + 2;
    this.lines = [];
    this.write = 0;
  }

  process(inputs, outputs, parameters) {
    this.events.begin();
    const transport = this.events.transport;
    const tempo = transport.known ? transport.tempo : parameters.tempo[0];
    const seconds = Math.min(MAX_SECONDS, parameters.beats[0] * 60 / tempo);
    const samples = seconds * sampleRate;
    const feedback = parameters.feedback[0];
    const mix = parameters.mix[0];
    const input = inputs[0];
    const output = outputs[0];
    const size = this.size;
    const floor = Math.floor;
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      const line = this.lines[c] ?? (this.lines[c] = new Float32Array(size));
      let write = this.write;
      for (let i = 0, n = y.length; i < n; i++) {
        let read = write - samples;
        if (read < 0) read += size;
        const index = floor(read);
        const frac = read - index;
        const a = line[index % size];
        const wet = a + (line[(index + 1) % size] - a) * frac;
        line[write] = x[i] + wet * feedback;
        y[i] = x[i] * (1 - mix) + wet * mix;
        write = write + 1 === size ? 0 : write + 1;
      }
      if (c === output.length - 1) this.write = write;
    }
    return true;
  }
}

registerProcessor('tempo-delay', TempoDelayProcessor);
