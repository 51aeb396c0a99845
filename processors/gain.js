// Gain: multiplies every input channel by an a-rate `gain` parameter.
class GainProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [{ name: 'gain', defaultValue: 1, minValue: 0, maxValue: 4, automationRate: 'a-rate' }];
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const gain = parameters.gain;
    for (let channel = 0; channel < output.length; channel++) {
      const x = input[channel];
      const y = output[channel];
      if (!x) continue;
      const n = y.length;
      if (gain.length === 1) {
        const g = gain[0];
        for (let i = 0; i < n; i++) y[i] = x[i] * g;
      } else {
        for (let i = 0; i < n; i++) y[i] = x[i] * gain[i];
      }
    }
    return true;
  }
}

registerProcessor('gain', GainProcessor);
