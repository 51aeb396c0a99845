// AudioWorkletGlobalScope: the JavaScript half of the worklet realm.
//
// Evaluated once per realm, on the render thread that owns the realm, before any
// user module. It is a single function expression: Rust calls it with the native
// hooks and keeps the object it returns (the realm's internals). Nothing but the
// Web Audio globals leaks onto `globalThis`.
(function workletScope(native, clone) {
  'use strict';

  const { defineProperty, freeze, isFrozen, create } = Object;
  const { construct, apply } = Reflect;
  const FLOAT_MAX = 3.4028234663852886e38;

  // ---------------------------------------------------------------- DOMException
  const LEGACY_CODES = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
    InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
    NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
    InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
    URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
    InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  const exceptionNames = new WeakMap();
  class DOMException extends Error {
    constructor(message = '', name = 'Error') {
      super(String(message));
      exceptionNames.set(this, String(name));
    }
    get name() { return exceptionNames.get(this) ?? 'Error'; }
    get code() { return LEGACY_CODES[exceptionNames.get(this)] ?? 0; }
  }
  defineProperty(DOMException.prototype, Symbol.toStringTag, { value: 'DOMException' });
  const domError = (name, message) => new DOMException(message, name);

  // ---------------------------------------------------------------- console
  const console = create(null);
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = function (...args) { native.console(level, clone.format(args)); };
  }
  console.trace = function (...args) { native.console('debug', clone.format(args)); };
  console.assert = function (condition, ...args) {
    if (!condition) native.console('error', 'Assertion failed' + (args.length ? ': ' + clone.format(args) : ''));
  };

  // ---------------------------------------------------------------- events
  class Event {
    #type;
    constructor(type) { this.#type = String(type); }
    get type() { return this.#type; }
    get bubbles() { return false; }
    get cancelable() { return false; }
    get defaultPrevented() { return false; }
    get composed() { return false; }
    get isTrusted() { return true; }
    preventDefault() {}
    stopPropagation() {}
    stopImmediatePropagation() { stoppedEvents.add(this); }
  }
  const stoppedEvents = new WeakSet();
  const eventTargets = new WeakMap();

  class MessageEvent extends Event {
    #data; #ports; #target;
    constructor(type, init = {}) {
      super(type);
      this.#data = 'data' in init ? init.data : null;
      this.#ports = freeze(Array.from(init.ports ?? []));
      this.#target = eventTargets.get(init) ?? null;
    }
    get data() { return this.#data; }
    get ports() { return this.#ports; }
    get origin() { return ''; }
    get lastEventId() { return ''; }
    get source() { return null; }
    get target() { return this.#target; }
    get currentTarget() { return this.#target; }
  }

  // ---------------------------------------------------------------- MessagePort
  const PORT_TOKEN = Symbol('port');
  // Messages waiting on one port (not started, or not yet run); more are dropped.
  const MAX_QUEUED_PER_PORT = 4096;
  const portState = new WeakMap();
  const portsById = new Map();
  let messageSequence = 0;

  function listenerCallback(listener) {
    if (typeof listener === 'function') return listener;
    if (listener !== null && typeof listener === 'object') return listener;
    return null;
  }

  class MessagePort {
    constructor(token, id) {
      if (token !== PORT_TOKEN) throw new TypeError('Illegal constructor');
      portState.set(this, {
        id, started: false, closed: false, detached: false, queue: [],
        listeners: { message: [], messageerror: [] },
        handlers: { message: null, messageerror: null },
      });
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
      state.queue.length = 0;
      portsById.delete(state.id);
      native.close(state.id);
    }
    addEventListener(type, listener, options = undefined) {
      const state = portState.get(this);
      if (!state) throw new TypeError('Illegal invocation');
      const callback = listenerCallback(listener);
      const list = state.listeners[String(type)];
      if (!callback || !list) return;
      const once = typeof options === 'object' && options !== null && !!options.once;
      if (list.some((entry) => entry.callback === callback)) return;
      list.push({ callback, once });
    }
    removeEventListener(type, listener) {
      const state = portState.get(this);
      if (!state) throw new TypeError('Illegal invocation');
      const list = state.listeners[String(type)];
      if (!list) return;
      const index = list.findIndex((entry) => entry.callback === listener);
      if (index >= 0) list.splice(index, 1);
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError('dispatchEvent: argument is not an Event');
      dispatch(this, event);
      return true;
    }
    get onmessage() { return portState.get(this).handlers.message; }
    set onmessage(value) { setHandler(this, 'message', value); this.start(); }
    get onmessageerror() { return portState.get(this).handlers.messageerror; }
    set onmessageerror(value) { setHandler(this, 'messageerror', value); }
  }
  defineProperty(MessagePort.prototype, Symbol.toStringTag, { value: 'MessagePort' });

  // Event handler attributes keep the position in the listener list they were
  // first given, as in HTML.
  function setHandler(port, type, value) {
    const state = portState.get(port);
    const handler = typeof value === 'function' ? value : null;
    const list = state.listeners[type];
    const index = list.findIndex((entry) => entry.handler);
    state.handlers[type] = handler;
    if (handler === null) {
      if (index >= 0) list.splice(index, 1);
    } else if (index < 0) {
      list.push({ callback: (event) => state.handlers[type]?.call(port, event), once: false, handler: true });
    }
  }

  function dispatch(port, event) {
    const state = portState.get(port);
    const list = state.listeners[event.type];
    if (!list) return;
    for (const entry of list.slice()) {
      if (!list.includes(entry)) continue;
      if (entry.once) list.splice(list.indexOf(entry), 1);
      try {
        if (typeof entry.callback === 'function') apply(entry.callback, port, [event]);
        else {
          const handleEvent = entry.callback.handleEvent;
          if (typeof handleEvent !== 'function') throw new TypeError('handleEvent is not a function');
          apply(handleEvent, entry.callback, [event]);
        }
      } catch (error) {
        native.reportError(error);
      }
      if (stoppedEvents.has(event)) break;
    }
  }

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
  const exposed = { registerProcessor, AudioWorkletProcessor, MessagePort, MessageChannel, MessageEvent, Event, DOMException, console };
  for (const [key, value] of Object.entries(exposed)) {
    defineProperty(globalThis, key, { value, writable: true, enumerable: false, configurable: true });
  }
  defineProperty(globalThis, 'AudioWorkletGlobalScope', { value: globalThis, writable: true, configurable: true });

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
    processorNames() { return Array.from(processors.keys()); },
    describe() {
      return Array.from(processors, ([name, { descriptors, site }]) => ({
        name,
        parameterDescriptors: descriptors.map((d) => ({ ...d })),
        site,
      }));
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
      const carried = message.ports.map((id) => portsById.get(id)).filter((p) => p !== undefined);
      let data;
      try {
        data = clone.deserialize(message.wire, carried);
      } catch {
        const init = { data: null, ports: [] };
        eventTargets.set(init, port);
        dispatch(port, new MessageEvent('messageerror', init));
        return true;
      }
      const init = { data, ports: carried };
      eventTargets.set(init, port);
      dispatch(port, new MessageEvent('message', init));
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
