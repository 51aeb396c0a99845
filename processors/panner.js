// Stereo panner with the StereoPannerNode algorithm (equal power). `pan` is
// a-rate in [-1, 1]. Mono input is panned; stereo input is balanced. Stereo out.
class PannerProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [{ name: 'pan', defaultValue: 0, minValue: -1, maxValue: 1, automationRate: 'a-rate' }];
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const left = outputs[0][0];
    const right = outputs[0][1];
    const pan = parameters.pan;
    if (input.length === 0 || !right) return true;
    const inLeft = input[0];
    const inRight = input.length > 1 ? input[1] : null;
    const cos = Math.cos;
    const sin = Math.sin;
    const PI = Math.PI;
    for (let i = 0, n = left.length; i < n; i++) {
      const p = pan.length > 1 ? pan[i] : pan[0];
      if (inRight === null) {
        const x = (p + 1) / 2;
        left[i] = inLeft[i] * cos((x * PI) / 2);
        right[i] = inLeft[i] * sin((x * PI) / 2);
      } else {
        const x = p <= 0 ? p + 1 : p;
        const gainL = cos((x * PI) / 2);
        const gainR = sin((x * PI) / 2);
        if (p <= 0) {
          left[i] = inLeft[i] + inRight[i] * gainL;
          right[i] = inRight[i] * gainR;
        } else {
          left[i] = inLeft[i] * gainL;
          right[i] = inRight[i] + inLeft[i] * gainR;
        }
      }
    }
    return true;
  }
}

registerProcessor('panner', PannerProcessor);
