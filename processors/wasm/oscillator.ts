// The DSP of processors/oscillator-wasm.js: processors/oscillator.js's band-limited
// oscillator (sine, PolyBLEP sawtooth and square), in AssemblyScript, compiled to
// WebAssembly by asc (build.sh). Its Math is AssemblyScript's own, compiled into
// the module, so every engine computes the same samples.
//
// Memory: the processor writes the `frequency` and `detune` values (128 each, or
// 1 when constant) at the addresses `frequencies()` and `detunes()` return, calls
// process(), and reads 128 samples at `output()`.

const QUANTUM: i32 = 128;
const FREQUENCY: usize = memory.data(QUANTUM * 4, 16);
const DETUNE: usize = memory.data(QUANTUM * 4, 16);
const OUTPUT: usize = memory.data(QUANTUM * 4, 16);

let phase: f64 = 0;

export function frequencies(): usize {
  return FREQUENCY;
}

export function detunes(): usize {
  return DETUNE;
}

export function output(): usize {
  return OUTPUT;
}

// PolyBLEP residual for a unit step at phase 0, with phase increment dt.
function polyBlep(t: f64, dt: f64): f64 {
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

function value(at: usize, length: i32, i: i32): f64 {
  return <f64>load<f32>(at + (<usize>(length > 1 ? i : 0) << 2));
}

// type: 0 sine, 1 sawtooth, 2 square.
export function process(type: i32, frames: i32, frequencyLength: i32, detuneLength: i32, gain: f64, rate: f64): void {
  const constant = frequencyLength == 1 && detuneLength == 1;
  let dt = (value(FREQUENCY, 1, 0) * Math.pow(2, value(DETUNE, 1, 0) / 1200)) / rate;
  let p = phase;
  for (let i = 0; i < frames; i++) {
    if (!constant) {
      dt = (value(FREQUENCY, frequencyLength, i) * Math.pow(2, value(DETUNE, detuneLength, i) / 1200)) / rate;
    }
    let sample: f64;
    if (type == 0) {
      sample = Math.sin(2 * Math.PI * p);
    } else if (type == 1) {
      sample = 2 * p - 1 - polyBlep(p, dt);
    } else {
      sample = (p < 0.5 ? 1.0 : -1.0) + polyBlep(p, dt) - polyBlep((p + 0.5) % 1, dt);
    }
    store<f32>(OUTPUT + <usize>i * 4, <f32>(gain * sample));
    p += dt;
    p -= Math.floor(p);
  }
  phase = p;
}
