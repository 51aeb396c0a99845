// Calls that never loop: no loop budget stops them; the watchdog interrupts the script where it is.
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
class P extends AudioWorkletProcessor {
  process(inputs, outputs) {
    outputs[0][0][0] = fib(60)
    return true
  }
}
registerProcessor('p', P)
