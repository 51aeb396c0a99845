// The WebAssembly JavaScript Interface (https://webassembly.github.io/spec/js-api/)
// in the worklet realm: the `WebAssembly` namespace, its classes and their WebIDL
// conversions, over the realm's wasmtime store (engine/wasm/natives.rs).
//
// Evaluated once per realm, on the realm's thread, after lang.js and before any
// user module. It is a single function expression that Rust calls with the natives;
// it defines `globalThis.WebAssembly` and returns what Rust and clone.js keep:
// `wrap(kind)` (an object of a class for a memory, table or global made by wasm),
// the error classes, `toList` (IterableToList) and the structured-clone hooks.
//
// Differences from browsers: `compile` and `instantiate` compile on the realm's
// thread (the promise is settled by the time the caller's microtasks run; the
// compile cache makes a module seen before cost little), and shared memories are
// not available yet.
(function workletWebAssembly(native) {
  'use strict';

  const { defineProperty, create, freeze, setPrototypeOf } = Object;
  const { construct } = Reflect;
  const arrayFrom = Array.from;
  const toNumber = Number;
  const toStringValue = String;
  const isFiniteNumber = Number.isFinite;
  const trunc = Math.trunc;
  const PromiseConstructor = Promise;
  const ErrorConstructor = Error;
  const MAX_UNSIGNED_LONG = 4294967295;
  const MAX_PAGES = 65536;
  const VALUE_TYPES = ['i32', 'i64', 'f32', 'f64', 'v128', 'externref', 'anyfunc', 'funcref'];
  const ELEMENT_TYPES = ['anyfunc', 'funcref', 'externref'];

  function method(target, name, value, length) {
    defineProperty(value, 'name', { value: name, configurable: true });
    if (length !== undefined) defineProperty(value, 'length', { value: length, configurable: true });
    defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  }

  function tag(target, name) {
    defineProperty(target.prototype, Symbol.toStringTag, { value: name, configurable: true });
  }

  // WebIDL `[EnforceRange] unsigned long`.
  function enforceRange(value, what) {
    const number = toNumber(value);
    if (!isFiniteNumber(number)) throw new TypeError(`${what} must be convertible to a valid number`);
    const integer = trunc(number);
    if (integer < 0 || integer > MAX_UNSIGNED_LONG) throw new TypeError(`${what} must be in the unsigned long range`);
    return integer;
  }

  function requireArguments(count, needed, what) {
    if (count < needed) throw new TypeError(`${what}: ${needed} argument${needed === 1 ? '' : 's'} required, but only ${count} present`);
  }

  function requireDictionary(value, what) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      throw new TypeError(`${what} must be an object`);
    }
  }

  // ---------------------------------------------------------------- errors
  // Constructors like the NativeError ones: callable with or without `new`.
  function errorClass(name) {
    const ErrorClass = function (message = undefined, options = undefined) {
      return construct(ErrorConstructor, [message, options], new.target === undefined ? ErrorClass : new.target);
    };
    setPrototypeOf(ErrorClass, ErrorConstructor);
    defineProperty(ErrorClass, 'name', { value: name, configurable: true });
    defineProperty(ErrorClass, 'length', { value: 1, configurable: true });
    defineProperty(ErrorClass, 'prototype', {
      value: create(ErrorConstructor.prototype, {
        constructor: { value: ErrorClass, writable: true, configurable: true },
        name: { value: name, writable: true, configurable: true },
        message: { value: '', writable: true, configurable: true },
      }),
      writable: false,
    });
    return ErrorClass;
  }
  const CompileError = errorClass('CompileError');
  const LinkError = errorClass('LinkError');
  const RuntimeError = errorClass('RuntimeError');

  // ---------------------------------------------------------------- Module
  class Module {
    constructor(bytes) {
      requireArguments(arguments.length, 1, 'WebAssembly.Module()');
      native.moduleNew(this, bytes);
    }

    static exports(moduleObject) {
      requireArguments(arguments.length, 1, 'WebAssembly.Module.exports()');
      const flat = native.moduleExports(moduleObject);
      const list = [];
      for (let i = 0; i < flat.length; i += 2) list[list.length] = { name: flat[i], kind: flat[i + 1] };
      return list;
    }

    static imports(moduleObject) {
      requireArguments(arguments.length, 1, 'WebAssembly.Module.imports()');
      const flat = native.moduleImports(moduleObject);
      const list = [];
      for (let i = 0; i < flat.length; i += 3) list[list.length] = { module: flat[i], name: flat[i + 1], kind: flat[i + 2] };
      return list;
    }

    static customSections(moduleObject, sectionName) {
      requireArguments(arguments.length, 2, 'WebAssembly.Module.customSections()');
      return native.customSections(moduleObject, toStringValue(sectionName));
    }
  }
  tag(Module, 'WebAssembly.Module');

  // ---------------------------------------------------------------- Instance
  class Instance {
    #exports;

    constructor(module, importObject = undefined) {
      requireArguments(arguments.length, 1, 'WebAssembly.Instance()');
      if (native.kindOf(module) !== 'Module') throw new TypeError('WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module');
      const flat = native.instantiate(module, importObject);
      const exports = create(null);
      for (let i = 0; i < flat.length; i += 2) {
        defineProperty(exports, flat[i], { value: flat[i + 1], writable: true, enumerable: true, configurable: true });
      }
      this.#exports = freeze(exports);
    }

    get exports() {
      return this.#exports;
    }
  }
  tag(Instance, 'WebAssembly.Instance');

  // ---------------------------------------------------------------- Memory
  class Memory {
    constructor(descriptor) {
      requireArguments(arguments.length, 1, 'WebAssembly.Memory()');
      requireDictionary(descriptor, "WebAssembly.Memory(): Argument 0");
      const initialValue = descriptor.initial;
      if (initialValue === undefined) throw new TypeError("WebAssembly.Memory(): Property 'initial' is required");
      const initial = enforceRange(initialValue, "WebAssembly.Memory(): Property 'initial'");
      const maximumValue = descriptor.maximum;
      const maximum = maximumValue === undefined ? undefined : enforceRange(maximumValue, "WebAssembly.Memory(): Property 'maximum'");
      const shared = Boolean(descriptor.shared);
      if (initial > MAX_PAGES) throw new RangeError(`WebAssembly.Memory(): Property 'initial': value ${initial} is above the upper bound ${MAX_PAGES}`);
      if (maximum !== undefined && maximum > MAX_PAGES) throw new RangeError(`WebAssembly.Memory(): Property 'maximum': value ${maximum} is above the upper bound ${MAX_PAGES}`);
      if (maximum !== undefined && maximum < initial) throw new RangeError(`WebAssembly.Memory(): Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
      if (shared && maximum === undefined) throw new TypeError('WebAssembly.Memory(): If shared is true, maximum property should be defined.');
      native.memoryNew(this, initial, maximum, shared);
    }

    get buffer() {
      return native.memoryBuffer(this);
    }

    grow(delta) {
      requireArguments(arguments.length, 1, 'WebAssembly.Memory.grow()');
      if (native.kindOf(this) !== 'Memory') throw new TypeError('Illegal invocation');
      return native.memoryGrow(this, enforceRange(delta, 'WebAssembly.Memory.grow(): Argument 0'));
    }
  }
  tag(Memory, 'WebAssembly.Memory');

  // ---------------------------------------------------------------- Table
  class Table {
    constructor(descriptor, value = undefined) {
      requireArguments(arguments.length, 1, 'WebAssembly.Table()');
      requireDictionary(descriptor, 'WebAssembly.Table(): Argument 0');
      const elementValue = descriptor.element;
      if (elementValue === undefined) throw new TypeError("WebAssembly.Table(): Property 'element' is required");
      const element = toStringValue(elementValue);
      if (!ELEMENT_TYPES.includes(element)) throw new TypeError("WebAssembly.Table(): Descriptor property 'element' must be a WebAssembly reference type");
      const initialValue = descriptor.initial;
      if (initialValue === undefined) throw new TypeError("WebAssembly.Table(): Property 'initial' is required");
      const initial = enforceRange(initialValue, "WebAssembly.Table(): Property 'initial'");
      const maximumValue = descriptor.maximum;
      const maximum = maximumValue === undefined ? undefined : enforceRange(maximumValue, "WebAssembly.Table(): Property 'maximum'");
      if (maximum !== undefined && maximum < initial) throw new RangeError(`WebAssembly.Table(): Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
      native.tableNew(this, element, initial, maximum, arguments.length >= 2, value);
    }

    get length() {
      return native.tableLength(this);
    }

    get(index) {
      requireArguments(arguments.length, 1, 'WebAssembly.Table.get()');
      if (native.kindOf(this) !== 'Table') throw new TypeError('Illegal invocation');
      return native.tableGet(this, enforceRange(index, 'WebAssembly.Table.get(): Argument 0'));
    }

    set(index, value = undefined) {
      requireArguments(arguments.length, 1, 'WebAssembly.Table.set()');
      if (native.kindOf(this) !== 'Table') throw new TypeError('Illegal invocation');
      native.tableSet(this, enforceRange(index, 'WebAssembly.Table.set(): Argument 0'), arguments.length >= 2, value);
    }

    grow(delta, value = undefined) {
      requireArguments(arguments.length, 1, 'WebAssembly.Table.grow()');
      if (native.kindOf(this) !== 'Table') throw new TypeError('Illegal invocation');
      return native.tableGrow(this, enforceRange(delta, 'WebAssembly.Table.grow(): Argument 0'), arguments.length >= 2, value);
    }
  }
  tag(Table, 'WebAssembly.Table');

  // ---------------------------------------------------------------- Global
  class Global {
    constructor(descriptor, value = undefined) {
      requireArguments(arguments.length, 1, 'WebAssembly.Global()');
      requireDictionary(descriptor, 'WebAssembly.Global(): Argument 0');
      const mutable = Boolean(descriptor.mutable);
      const typeValue = descriptor.value;
      if (typeValue === undefined) throw new TypeError("WebAssembly.Global(): Property 'value' is required");
      const type = toStringValue(typeValue);
      if (!VALUE_TYPES.includes(type)) throw new TypeError("WebAssembly.Global(): Descriptor property 'value' must be a WebAssembly type");
      native.globalNew(this, type, mutable, arguments.length >= 2, value);
    }

    valueOf() {
      return native.globalGet(this);
    }

    get value() {
      return native.globalGet(this);
    }

    set value(value) {
      requireArguments(arguments.length, 1, 'WebAssembly.Global.value setter');
      native.globalSet(this, value);
    }
  }
  tag(Global, 'WebAssembly.Global');

  // ---------------------------------------------------------------- namespace
  const namespace = create(Object.prototype);
  defineProperty(namespace, Symbol.toStringTag, { value: 'WebAssembly', configurable: true });
  const functions = {
    validate(bytes) {
      requireArguments(arguments.length, 1, 'WebAssembly.validate()');
      return native.validate(bytes);
    },
    compile(bytes) {
      return new PromiseConstructor((resolve) => {
        requireArguments(arguments.length, 1, 'WebAssembly.compile()');
        resolve(new Module(bytes));
      });
    },
    instantiate(source, importObject = undefined) {
      const count = arguments.length;
      return new PromiseConstructor((resolve) => {
        requireArguments(count, 1, 'WebAssembly.instantiate()');
        if (importObject !== undefined && (importObject === null || typeof importObject !== 'object')) {
          throw new TypeError('WebAssembly.instantiate(): Argument 1 must be an object');
        }
        if (native.kindOf(source) === 'Module') {
          resolve(new Instance(source, importObject));
          return;
        }
        const module = new Module(source);
        resolve({ module, instance: new Instance(module, importObject) });
      });
    },
  };
  method(namespace, 'validate', functions.validate, 1);
  method(namespace, 'compile', functions.compile, 1);
  method(namespace, 'instantiate', functions.instantiate, 1);
  for (const [name, value] of [
    ['Module', Module], ['Instance', Instance], ['Memory', Memory], ['Table', Table], ['Global', Global],
    ['CompileError', CompileError], ['LinkError', LinkError], ['RuntimeError', RuntimeError],
  ]) {
    defineProperty(namespace, name, { value, writable: true, enumerable: false, configurable: true });
  }
  defineProperty(globalThis, 'WebAssembly', { value: namespace, writable: true, enumerable: false, configurable: true });

  const prototypes = { Memory: Memory.prototype, Table: Table.prototype, Global: Global.prototype };
  return {
    wrap(kind) {
      return create(prototypes[kind]);
    },
    toList(value) {
      return arrayFrom(value);
    },
    compileError: CompileError,
    linkError: LinkError,
    runtimeError: RuntimeError,
    // Structured clone (clone.js): a Module travels as its bytes.
    isModule(value) {
      return native.kindOf(value) === 'Module';
    },
    moduleToWire(module) {
      return native.moduleToBase64(module);
    },
    moduleFromWire(text) {
      const module = create(Module.prototype);
      native.moduleFromBase64(module, toStringValue(text));
      return module;
    },
  };
});
