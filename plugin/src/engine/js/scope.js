// AudioWorkletGlobalScope: the JavaScript half of the worklet realm.
//
// Evaluated once per realm, on the render thread that owns the realm, before any
// user module. It is a single function expression: Rust calls it with the native
// hooks and keeps the object it returns (the realm's internals). Nothing but the
// Web Audio globals leaks onto `globalThis`.
(function workletScope(native, clone, dom) {
  'use strict';

  const { defineProperty, freeze, isFrozen, create } = Object;
  const { construct, apply } = Reflect;
  // Captured before any user module runs: the internals below must keep working
  // when a script replaces or breaks these builtins (array iteration included).
  const mapForEach = Map.prototype.forEach;
  const eachEntry = (map, f) => apply(mapForEach, map, [f]);
  const FLOAT_MAX = 3.4028234663852886e38;
  const { DOMException, QuotaExceededError, domError, Event, EventTarget, dispatchTrusted, eventHandler } = dom;

  // ---------------------------------------------------------------- console
  const console = create(null);
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = function (...args) { native.console(level, clone.format(args)); };
  }
  console.trace = function (...args) { native.console('debug', clone.format(args)); };
  console.assert = function (condition, ...args) {
    if (!condition) native.console('error', 'Assertion failed' + (args.length ? ': ' + clone.format(args) : ''));
  };

  // ---------------------------------------------------------------- MessageEvent
  class MessageEvent extends Event {
    #data; #origin; #lastEventId; #source; #ports;
    constructor(type, init = undefined) {
      if (arguments.length < 1) throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
      super(type, init);
      const dict = init ?? {};
      this.#data = 'data' in dict ? dict.data : null;
      this.#origin = dict.origin === undefined ? '' : String(dict.origin);
      this.#lastEventId = dict.lastEventId === undefined ? '' : String(dict.lastEventId);
      this.#source = readSource(dict.source);
      this.#ports = freeze(readPorts(dict.ports));
    }
    get data() { return this.#data; }
    get origin() { return this.#origin; }
    get lastEventId() { return this.#lastEventId; }
    get source() { return this.#source; }
    get ports() { return this.#ports; }
    get userActivation() { return null; }
    initMessageEvent(type, bubbles = false, cancelable = false, data = null, origin = '', lastEventId = '', source = null, ports = []) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'initMessageEvent' on 'MessageEvent': 1 argument required, but only 0 present.");
      this.initEvent(type, bubbles, cancelable);
      this.#data = data;
      this.#origin = String(origin);
      this.#lastEventId = String(lastEventId);
      this.#source = readSource(source);
      this.#ports = freeze(readPorts(ports));
    }
  }
  defineProperty(MessageEvent.prototype, Symbol.toStringTag, { value: 'MessageEvent', configurable: true });
  function readSource(source) {
    if (source === undefined || source === null) return null;
    if (!isPort(source)) throw new TypeError("Failed to construct 'MessageEvent': The provided value is not of type '(MessagePort or ServiceWorker or Window)'.");
    return source;
  }
  function readPorts(ports) {
    if (ports === undefined) return [];
    if (ports === null || typeof ports[Symbol.iterator] !== 'function') {
      throw new TypeError("Failed to construct 'MessageEvent': The provided value cannot be converted to a sequence.");
    }
    const list = Array.from(ports);
    if (!list.every(isPort)) throw new TypeError("Failed to construct 'MessageEvent': Failed to convert value to 'MessagePort'.");
    return list;
  }

  // ---------------------------------------------------------------- MessagePort
  const PORT_TOKEN = Symbol('port');
  // Messages waiting on one port (not started, or not yet run); more are dropped.
  const MAX_QUEUED_PER_PORT = 4096;
  const portState = new WeakMap();
  const portsById = new Map();
  let messageSequence = 0;
  // Messages queued on every port together; Rust skips runTask while it is 0, so
  // a quantum with no message costs no entry into JavaScript.
  let queuedMessages = 0;
  const countQueued = (delta) => { queuedMessages += delta; native.queued(queuedMessages); };

  class MessagePort extends EventTarget {
    constructor(token, id) {
      if (token !== PORT_TOKEN) throw new TypeError('Illegal constructor');
      super();
      portState.set(this, { id, started: false, closed: false, detached: false, queue: [] });
      portsById.set(id, this);
    }
    postMessage(message, transfer = undefined) {
      const state = portState.get(this);
      if (!state) throw new TypeError('Illegal invocation');
      let list = [];
      if (Array.isArray(transfer)) list = transfer;
      else if (transfer !== undefined && transfer !== null) {
        if (typeof transfer !== 'object') throw new TypeError('postMessage: the second argument must be an array or an options object');
        list = transfer.transfer ?? [];
      }
      const wire = clone.serialize(message, Array.from(list), this, domError, portHooks);
      // Transferred ports leave this realm with the messages still queued on them,
      // and so do the ports those messages carry.
      const portIds = [];
      const moved = [];
      const move = (port) => {
        const moving = portState.get(port);
        const pending = moving.queue.map((entry) => entry.message);
        moving.detached = true;
        moving.closed = true;
        if (moving.queue.length > 0) countQueued(-moving.queue.length);
        moving.queue.length = 0;
        portsById.delete(moving.id);
        moved.push({ id: moving.id, pending });
        for (const message of pending) {
          for (const id of message.ports) {
            const inner = portsById.get(id);
            if (inner) move(inner);
          }
        }
      };
      for (const item of list) {
        if (!isPort(item)) continue;
        portIds.push(portState.get(item).id);
        move(item);
      }
      if (!state.closed) native.post(state.id, wire, portIds, moved);
    }
    start() {
      const state = portState.get(this);
      if (!state) throw new TypeError('Illegal invocation');
      state.started = true;
    }
    close() {
      const state = portState.get(this);
      if (!state) throw new TypeError('Illegal invocation');
      if (state.closed) return;
      state.closed = true;
      if (state.queue.length > 0) countQueued(-state.queue.length);
      state.queue.length = 0;
      portsById.delete(state.id);
      native.close(state.id);
    }
  }
  Object.defineProperties(MessagePort.prototype, {
    onmessage: eventHandler('message', function () { this.start(); }),
    onmessageerror: eventHandler('messageerror'),
    [Symbol.toStringTag]: { value: 'MessagePort', configurable: true },
  });

  function newPort(id) { return new MessagePort(PORT_TOKEN, id); }
  const isPort = (value) => value !== null && typeof value === 'object' && portState.has(value);
  // What the structured clone needs to know about ports.
  const portHooks = {
    isPort,
    check(port, sender) {
      const state = portState.get(port);
      if (port === sender) return 'the sending port cannot be transferred with its own message';
      if (state.detached) return 'the MessagePort was already transferred';
      if (state.closed) return 'a closed MessagePort cannot be transferred';
      return null;
    },
  };

  class MessageChannel {
    #port1; #port2;
    constructor() {
      const [a, b] = native.entangle();
      this.#port1 = newPort(a);
      this.#port2 = newPort(b);
    }
    get port1() { return this.#port1; }
    get port2() { return this.#port2; }
  }
  defineProperty(MessageChannel.prototype, Symbol.toStringTag, { value: 'MessageChannel' });

  // ---------------------------------------------------------------- registerProcessor
  const processors = new Map();
  const toFloat = (value, what) => {
    const number = Number(value);
    if (!Number.isFinite(number)) throw new TypeError(`${what} is not a finite floating-point value`);
    return Math.fround(number);
  };

  function readDescriptor(entry) {
    if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) {
      if (entry !== undefined && entry !== null) throw new TypeError('AudioParamDescriptor must be an object');
    }
    const dict = entry ?? {};
    const name = dict.name;
    if (name === undefined) throw new TypeError("AudioParamDescriptor: required member 'name' is undefined");
    const read = (key, fallback) => {
      const value = dict[key];
      return value === undefined ? fallback : toFloat(value, `AudioParamDescriptor.${key}`);
    };
    const automationRateValue = dict.automationRate;
    const automationRate = automationRateValue === undefined ? 'a-rate' : String(automationRateValue);
    if (automationRate !== 'a-rate' && automationRate !== 'k-rate') {
      throw new TypeError(`AudioParamDescriptor.automationRate: '${automationRate}' is not a valid AutomationRate`);
    }
    return freeze({
      name: String(name),
      defaultValue: read('defaultValue', 0),
      minValue: read('minValue', -FLOAT_MAX),
      maxValue: read('maxValue', FLOAT_MAX),
      automationRate,
    });
  }

  function registerProcessor(name, processorCtor) {
    if (arguments.length < 2) throw new TypeError(`registerProcessor: 2 arguments required, but only ${arguments.length} present`);
    const processorName = String(name);
    if (processorName === '') throw domError('NotSupportedError', 'registerProcessor: the processor name is empty');
    if (processors.has(processorName)) {
      throw domError('NotSupportedError', `registerProcessor: a processor named '${processorName}' is already registered`);
    }
    if (!isConstructor(processorCtor)) throw new TypeError('registerProcessor: the processor constructor is not a constructor');
    const prototype = processorCtor.prototype;
    if (prototype === null || (typeof prototype !== 'object' && typeof prototype !== 'function')) {
      throw new TypeError("registerProcessor: the constructor's prototype is not an object");
    }
    const descriptorsValue = processorCtor.parameterDescriptors;
    const descriptors = [];
    if (descriptorsValue !== undefined) {
      if (descriptorsValue === null || typeof descriptorsValue[Symbol.iterator] !== 'function') {
        throw new TypeError('registerProcessor: parameterDescriptors is not iterable');
      }
      const names = new Set();
      for (const entry of descriptorsValue) {
        const descriptor = readDescriptor(entry);
        if (names.has(descriptor.name)) {
          throw domError('NotSupportedError', `registerProcessor: duplicate parameter name '${descriptor.name}'`);
        }
        names.add(descriptor.name);
        if (descriptor.defaultValue < descriptor.minValue || descriptor.defaultValue > descriptor.maxValue) {
          throw domError('InvalidStateError',
            `registerProcessor: parameter '${descriptor.name}' has defaultValue ${descriptor.defaultValue} outside [${descriptor.minValue}, ${descriptor.maxValue}]`);
        }
        descriptors.push(descriptor);
      }
    }
    // Where registerProcessor was called, to locate errors that have no stack
    // of their own (a processor without a process() method).
    const site = new Error().stack ?? '';
    processors.set(processorName, { ctor: processorCtor, descriptors: freeze(descriptors), site });
  }

  function isConstructor(value) {
    if (typeof value !== 'function') return false;
    try {
      construct(String, [], value);
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- AudioWorkletProcessor
  let pendingConstruction = null;
  const processorPorts = new WeakMap();
  class AudioWorkletProcessor {
    constructor() {
      if (pendingConstruction === null) {
        throw new TypeError('Illegal constructor: AudioWorkletProcessor can only be constructed by an AudioWorkletNode');
      }
      const { port } = pendingConstruction;
      pendingConstruction = null;
      processorPorts.set(this, port);
    }
    get port() {
      const port = processorPorts.get(this);
      if (!port) throw new TypeError('Illegal invocation');
      return port;
    }
  }

  // ---------------------------------------------------------------- globals
  const globalPort = newPort(native.globalPortId);
  const readonly = (get) => ({ get, enumerable: true, configurable: true });
  defineProperty(globalThis, 'sampleRate', readonly(() => native.sampleRate()));
  defineProperty(globalThis, 'currentFrame', readonly(() => native.currentFrame()));
  defineProperty(globalThis, 'currentTime', readonly(() => native.currentFrame() / native.sampleRate()));
  defineProperty(globalThis, 'renderQuantumSize', readonly(() => 128));
  defineProperty(globalThis, 'port', readonly(() => globalPort));
  const exposed = {
    registerProcessor, AudioWorkletProcessor, MessagePort, MessageChannel, MessageEvent, Event, EventTarget,
    DOMException, QuotaExceededError, console,
  };
  for (const [key, value] of Object.entries(exposed)) {
    defineProperty(globalThis, key, { value, writable: true, enumerable: false, configurable: true });
  }
  // The global object's interfaces: globalThis is an AudioWorkletGlobalScope, which
  // is a WorkletGlobalScope, as in browsers. Neither can be constructed.
  const illegal = (name) => {
    const ctor = function () { throw new TypeError('Illegal constructor'); };
    defineProperty(ctor, 'name', { value: name });
    defineProperty(ctor.prototype, Symbol.toStringTag, { value: name, configurable: true });
    defineProperty(globalThis, name, { value: ctor, writable: true, enumerable: false, configurable: true });
    return ctor;
  };
  const WorkletGlobalScope = illegal('WorkletGlobalScope');
  const AudioWorkletGlobalScope = illegal('AudioWorkletGlobalScope');
  Object.setPrototypeOf(AudioWorkletGlobalScope.prototype, WorkletGlobalScope.prototype);
  Object.setPrototypeOf(AudioWorkletGlobalScope, WorkletGlobalScope);
  Object.setPrototypeOf(globalThis, AudioWorkletGlobalScope.prototype);

  // ---------------------------------------------------------------- internals (Rust only)
  function taskOrder() {
    let best = null;
    for (const port of portsById.values()) {
      const state = portState.get(port);
      if (!state.started || state.closed || state.queue.length === 0) continue;
      if (best === null || state.queue[0].seq < portState.get(best).queue[0].seq) best = port;
    }
    return best;
  }

  return freeze({
    processorNames() {
      const names = [];
      eachEntry(processors, (_, name) => { names[names.length] = name; });
      return names;
    },
    describe() {
      const out = [];
      eachEntry(processors, ({ descriptors, site }, name) => {
        const parameterDescriptors = [];
        for (let i = 0; i < descriptors.length; i++) parameterDescriptors[i] = { ...descriptors[i] };
        out[out.length] = { name, parameterDescriptors, site };
      });
      return out;
    },
    descriptors(name) { return processors.get(name)?.descriptors ?? null; },
    construct(name, optionsWire, portId) {
      const entry = processors.get(name);
      if (!entry) throw domError('InvalidStateError', `no processor named '${name}' is registered`);
      const options = clone.deserialize(optionsWire, []);
      const port = newPort(portId);
      pendingConstruction = { port };
      try {
        const instance = construct(entry.ctor, [options]);
        if (instance === null || typeof instance !== 'object') throw new TypeError('the processor constructor did not return an object');
        return instance;
      } finally {
        pendingConstruction = null;
      }
    },
    // Queues a message (a task) for a port; delivered by runTask in arrival order.
    // `ports` are the ids of the ports the message carries (already adopted).
    enqueue(portId, wire, ports) {
      const port = portsById.get(portId);
      if (!port) return false;
      const state = portState.get(port);
      if (state.closed) return false;
      if (state.queue.length >= MAX_QUEUED_PER_PORT) return false;
      state.queue.push({ seq: messageSequence++, message: { wire, ports: ports ?? [] } });
      countQueued(1);
      return true;
    },
    // Creates the realm's object for a port that was transferred into this realm.
    adopt(portId) {
      if (!portsById.has(portId)) newPort(portId);
    },
    // Runs the oldest deliverable message task; returns false when none is ready.
    runTask() {
      const port = taskOrder();
      if (port === null) return false;
      const { message } = portState.get(port).queue.shift();
      countQueued(-1);
      const carried = message.ports.map((id) => portsById.get(id)).filter((p) => p !== undefined);
      let data;
      try {
        data = clone.deserialize(message.wire, carried);
      } catch {
        dispatchTrusted(port, new MessageEvent('messageerror', { data: null }));
        return true;
      }
      dispatchTrusted(port, new MessageEvent('message', { data, ports: carried }));
      return true;
    },
    frozenArray(items) { return freeze(items); },
    parameterObject(entries) {
      const object = {};
      for (const [key, value] of entries) defineProperty(object, key, { value, enumerable: true });
      return freeze(object);
    },
    isFrozen,
  });
})
