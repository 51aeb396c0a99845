class P extends AudioWorkletProcessor {
  process() { return { valueOf() { throw 1 }, [Symbol.toPrimitive]() { throw 1 } } }
}
registerProcessor('p', P)
