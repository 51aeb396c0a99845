// The AudioWorkletGlobalScope port example: settings sent with
// audioWorklet.port.postMessage({ volume }) reach the global scope, where every
// processor of the scope can read them. Browsers that do not have the global
// `port` yet (Chromium 148) still load the module; the volume then stays at 1.
const settings = { volume: 1 };

if (globalThis.port) {
  globalThis.port.onmessage = (event) => {
    if (typeof event.data?.volume === 'number') settings.volume = event.data.volume;
  };
}

class GlobalVolumeProcessor extends AudioWorkletProcessor {
  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    const volume = settings.volume; // messages change it between quanta, never during one
    for (let c = 0; c < output.length; c++) {
      const x = input[c];
      const y = output[c];
      if (!x) continue;
      for (let i = 0, n = y.length; i < n; i++) y[i] = x[i] * volume;
    }
    return true;
  }
}

registerProcessor('global-volume', GlobalVolumeProcessor);
