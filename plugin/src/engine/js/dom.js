// DOM pieces of the AudioWorkletGlobalScope: DOMException, Event, EventTarget.
//
// Evaluated once per realm, on the realm's thread, before scope.js. It is a single
// function expression: Rust calls it with the native hooks and passes the object
// it returns to scope.js. The behaviour follows the DOM standard for targets that
// are not nodes (no tree, so no capture or bubble path: a dispatch runs the
// target's listeners at AT_TARGET, capture listeners first).
(function workletDom(native) {
  'use strict';

  const { defineProperty, freeze } = Object;
  const { apply } = Reflect;

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

  class QuotaExceededError extends DOMException {
    #quota; #requested;
    constructor(message = '', options = {}) {
      super(message, 'QuotaExceededError');
      const number = (key) => {
        const value = options?.[key];
        if (value === undefined || value === null) return null;
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) throw new RangeError(`QuotaExceededError: ${key} must be a non-negative number`);
        return n;
      };
      this.#quota = number('quota');
      this.#requested = number('requested');
      if (this.#quota !== null && this.#requested !== null && this.#requested < this.#quota) {
        throw new RangeError('QuotaExceededError: requested must not be smaller than quota');
      }
    }
    get quota() { return this.#quota; }
    get requested() { return this.#requested; }
  }

  // ---------------------------------------------------------------- Event
  const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;
  const eventState = new WeakMap();
  const state = (event) => {
    const s = eventState.get(event);
    if (!s) throw new TypeError('Illegal invocation');
    return s;
  };

  class Event {
    constructor(type, init = undefined) {
      if (arguments.length < 1) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
      const dict = init ?? {};
      if (typeof dict !== 'object' && typeof dict !== 'function') {
        throw new TypeError("Failed to construct 'Event': The provided value is not of type 'EventInit'.");
      }
      eventState.set(this, {
        type: String(type), bubbles: !!dict.bubbles, cancelable: !!dict.cancelable, composed: !!dict.composed,
        target: null, currentTarget: null, phase: NONE, trusted: false, canceled: false, passive: false,
        dispatching: false, initialized: true, stop: false, stopImmediate: false, timeStamp: native.now(),
      });
      // isTrusted is an own, unforgeable property in browsers.
      defineProperty(this, 'isTrusted', { get: isTrusted, enumerable: true, configurable: false });
    }
    get type() { return state(this).type; }
    get target() { return state(this).target; }
    get srcElement() { return state(this).target; }
    get currentTarget() { return state(this).currentTarget; }
    get eventPhase() { return state(this).phase; }
    get bubbles() { return state(this).bubbles; }
    get cancelable() { return state(this).cancelable; }
    get composed() { return state(this).composed; }
    get defaultPrevented() { return state(this).canceled; }
    get timeStamp() { return state(this).timeStamp; }
    get returnValue() { return !state(this).canceled; }
    set returnValue(value) { if (!value) cancel(state(this)); }
    get cancelBubble() { return state(this).stop; }
    set cancelBubble(value) { if (value) state(this).stop = true; }
    composedPath() {
      const s = state(this);
      return s.currentTarget === null ? [] : [s.currentTarget];
    }
    preventDefault() { cancel(state(this)); }
    stopPropagation() { state(this).stop = true; }
    stopImmediatePropagation() {
      const s = state(this);
      s.stop = true;
      s.stopImmediate = true;
    }
    initEvent(type, bubbles = false, cancelable = false) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'initEvent' on 'Event': 1 argument required, but only 0 present.");
      const s = state(this);
      if (s.dispatching) return;
      Object.assign(s, {
        type: String(type), bubbles: !!bubbles, cancelable: !!cancelable, initialized: true,
        stop: false, stopImmediate: false, canceled: false, trusted: false, target: null,
      });
    }
  }
  function isTrusted() { return state(this).trusted; }
  function cancel(s) {
    if (s.cancelable && !s.passive) s.canceled = true;
  }
  const phases = { NONE, CAPTURING_PHASE, AT_TARGET, BUBBLING_PHASE };
  for (const [key, value] of Object.entries(phases)) {
    defineProperty(Event, key, { value, enumerable: true });
    defineProperty(Event.prototype, key, { value, enumerable: true });
  }
  defineProperty(Event.prototype, Symbol.toStringTag, { value: 'Event', configurable: true });

  // ---------------------------------------------------------------- EventTarget
  const listenerLists = new WeakMap();
  const listenersOf = (target) => {
    const lists = listenerLists.get(target);
    if (!lists) throw new TypeError('Illegal invocation');
    return lists;
  };
  function flatten(options) {
    if (typeof options === 'boolean') return { capture: options };
    if (options === null || (typeof options !== 'object' && typeof options !== 'function')) return { capture: false };
    return { capture: !!options.capture, once: !!options.once, passive: !!options.passive, signal: options.signal };
  }

  class EventTarget {
    constructor() {
      listenerLists.set(this, new Map());
    }
    addEventListener(type, callback, options = undefined) {
      const lists = listenersOf(this);
      if (arguments.length < 2) throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': 2 arguments required.");
      const { capture, once = false, passive = false, signal } = flatten(options);
      if (signal !== undefined && (signal === null || typeof signal !== 'object')) {
        throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type 'AbortSignal'.");
      }
      if (signal?.aborted) return;
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') {
        throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': The callback provided as parameter 2 is not an object.");
      }
      const key = String(type);
      let list = lists.get(key);
      if (!list) lists.set(key, (list = []));
      if (list.some((l) => l.callback === callback && l.capture === capture)) return;
      const listener = { callback, capture, once, passive, removed: false };
      list.push(listener);
      if (signal && typeof signal.addEventListener === 'function') {
        signal.addEventListener('abort', () => removeListener(this, key, listener));
      }
    }
    removeEventListener(type, callback, options = undefined) {
      const lists = listenersOf(this);
      const { capture } = flatten(options);
      const key = String(type);
      const listener = lists.get(key)?.find((l) => l.callback === callback && l.capture === capture);
      if (listener) removeListener(this, key, listener);
    }
    dispatchEvent(event) {
      listenersOf(this);
      if (!eventState.has(event)) {
        throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      }
      const s = eventState.get(event);
      if (s.dispatching || !s.initialized) {
        throw domError('InvalidStateError', "Failed to execute 'dispatchEvent' on 'EventTarget': The event is already being dispatched.");
      }
      s.trusted = false;
      return dispatch(this, event);
    }
  }
  defineProperty(EventTarget.prototype, Symbol.toStringTag, { value: 'EventTarget', configurable: true });

  function removeListener(target, type, listener) {
    const list = listenerLists.get(target)?.get(type);
    const index = list ? list.indexOf(listener) : -1;
    listener.removed = true;
    if (index >= 0) list.splice(index, 1);
  }

  // The dispatch algorithm for a target without parents.
  function dispatch(target, event) {
    const s = eventState.get(event);
    s.dispatching = true;
    s.target = target;
    s.currentTarget = target;
    s.phase = AT_TARGET;
    const list = listenerLists.get(target).get(s.type) ?? [];
    const snapshot = list.slice();
    for (const capture of [true, false]) {
      for (const listener of snapshot) {
        if (s.stopImmediate) break;
        if (listener.removed || listener.capture !== capture) continue;
        if (listener.once) removeListener(target, s.type, listener);
        s.passive = listener.passive;
        try {
          if (typeof listener.callback === 'function') apply(listener.callback, target, [event]);
          else {
            const handleEvent = listener.callback.handleEvent;
            if (typeof handleEvent !== 'function') throw new TypeError("'handleEvent' property of the listener is not callable");
            apply(handleEvent, listener.callback, [event]);
          }
        } catch (error) {
          native.reportError(error);
        }
        s.passive = false;
      }
    }
    s.phase = NONE;
    s.currentTarget = null;
    s.dispatching = false;
    s.stop = false;
    s.stopImmediate = false;
    return !s.canceled;
  }

  // An event the engine fires (a port's message): isTrusted is true.
  function dispatchTrusted(target, event) {
    eventState.get(event).trusted = true;
    return dispatch(target, event);
  }

  // `on<type>` attributes: the handler is one listener that keeps the position it
  // was first given, as in HTML.
  const handlers = new WeakMap();
  function eventHandler(type, onSet = undefined) {
    return {
      get() {
        listenersOf(this);
        return handlers.get(this)?.get(type)?.value ?? null;
      },
      set(value) {
        listenersOf(this);
        let map = handlers.get(this);
        if (!map) handlers.set(this, (map = new Map()));
        const callable = typeof value === 'function' || (value !== null && typeof value === 'object') ? value : null;
        let entry = map.get(type);
        if (callable === null) {
          if (entry) {
            removeListener(this, type, entry.record);
            map.delete(type);
          }
          return;
        }
        if (!entry) {
          const self = this;
          const callback = function (event) {
            const handler = map.get(type)?.value;
            if (typeof handler === 'function') return apply(handler, self, [event]);
          };
          this.addEventListener(type, callback);
          const list = listenerLists.get(this).get(type);
          map.set(type, (entry = { value: callable, record: list[list.length - 1] }));
        }
        entry.value = callable;
        onSet?.call(this);
      },
      enumerable: true,
      configurable: true,
    };
  }

  return freeze({ DOMException, QuotaExceededError, domError, Event, EventTarget, dispatchTrusted, eventHandler });
})
