function spin() {
  for (let i = 0; i < 1000; i++) {}
}
class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    for (;;) spin()
  }
}
registerProcessor('p', P)
