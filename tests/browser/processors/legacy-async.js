// Written the way processors in public live-coding repositories are: settings
// arrive as an escaped query string (unescape, substr), and the wavetable comes
// from an async factory that settles after the constructor returns.

function parseSettings(query) {
  const settings = {};
  for (const pair of unescape(query).split('&')) {
    const eq = pair.indexOf('=');
    settings[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return settings;
}

async function makeTable(size, harmonics) {
  await null;
  const table = new Float32Array(size);
  for (let h = 1; h <= harmonics; h++) {
    for (let i = 0; i < size; i++) table[i] += Math.sin((2 * Math.PI * h * i) / size) / h;
  }
  return table;
}

registerProcessor('legacy-async', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = parseSettings(options.processorOptions.query);
    this.gain = Number(settings.gain);
    this.step = Number(settings.step);
    this.label = escape(settings.label).substr(0, 8);
    this.table = null;
    this.phase = 0;
    makeTable(256, Number(settings.harmonics)).then((table) => {
      this.table = table;
    });
  }

  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    const table = this.table;
    if (table === null) return true;
    let phase = this.phase;
    for (let c = 0; c < output.length; c++) {
      const x = input[c] || input[0];
      const y = output[c];
      phase = this.phase;
      for (let i = 0; i < y.length; i++) {
        y[i] = (x ? x[i] : 0) * table[phase] * this.gain;
        phase = (phase + this.step) & 255;
      }
    }
    this.phase = phase;
    return true;
  }
});
