// Structured clone over the wire format, and console formatting.
//
// Evaluated once per realm on the render thread, before scope.js, as a single
// function expression called with the realm's natives and wasm.js's clone hooks;
// Rust passes the object it returns to scope.js. A WebAssembly.Module travels as
// its bytes ("$WebAssembly.Module": base64), as browsers clone it. The wire
// format is plain JSON with single-key "$tag" objects for what JSON cannot say;
// it is documented in README.md ("Wire format") and mirrored in port/wire.rs.
(function workletClone(native, wasm) {
  'use strict';

  const MAX_DEPTH = 256;
  const TYPED_ARRAYS = [
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
    'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array',
    'BigInt64Array', 'BigUint64Array',
  ].filter((name) => typeof globalThis[name] === 'function');
  const TypedArray = Object.getPrototypeOf(Int8Array);
  const ERROR_NAMES = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];
  const typedArrayName = (value) => Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get.call(value);
  const isTag = (key) => key.length > 1 && key[0] === '$';

  const brand = (value) => Object.prototype.toString.call(value).slice(8, -1);
  const getter = (proto, key) => Object.getOwnPropertyDescriptor(proto, key).get;
  // Brand checks: each throws a TypeError unless `value` has the internal slot.
  const BRANDS = [
    ['ArrayBuffer', (v) => getter(ArrayBuffer.prototype, 'byteLength').call(v)],
    ['Map', (v) => Map.prototype.has.call(v, undefined)],
    ['Set', (v) => Set.prototype.has.call(v, undefined)],
    ['Date', (v) => Date.prototype.getTime.call(v)],
    ['RegExp', (v) => (v !== RegExp.prototype ? getter(RegExp.prototype, 'source').call(v) : fail())],
    ['BoxedBoolean', (v) => Boolean.prototype.valueOf.call(v)],
    ['BoxedNumber', (v) => Number.prototype.valueOf.call(v)],
    ['BoxedString', (v) => String.prototype.valueOf.call(v)],
    ['BoxedBigInt', (v) => BigInt.prototype.valueOf.call(v)],
  ];
  const fail = () => { throw new TypeError('brand'); };
  const hasBrand = (check, value) => { try { check(value); return true; } catch { return false; } };
  const UNCLONEABLE = ['Promise', 'WeakMap', 'WeakSet', 'WeakRef', 'SharedArrayBuffer', 'MessagePort',
    'FinalizationRegistry', 'Generator', 'AsyncGenerator', 'Proxy', 'WebAssembly.Instance', 'WebAssembly.Memory',
    'WebAssembly.Table', 'WebAssembly.Global'];
  function kindOf(value) {
    if (typeof value === 'function') return 'Function';
    if (ArrayBuffer.isView(value)) return value instanceof DataView ? 'DataView' : 'TypedArray';
    if (Array.isArray(value)) return 'Array';
    // Plain objects, the common case, skip the brand checks (each one throws).
    const prototype = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) return 'Object';
    if (wasm.isModule(value)) return 'WebAssembly.Module';
    for (const [kind, check] of BRANDS) if (hasBrand(check, value)) return kind;
    if (value instanceof Error) return 'Error';
    const tag = brand(value);
    return UNCLONEABLE.includes(tag) ? tag : 'Object';
  }

  function encodeNumber(number) {
    if (Number.isNaN(number)) return { $number: 'NaN' };
    if (number === Infinity) return { $number: 'Infinity' };
    if (number === -Infinity) return { $number: '-Infinity' };
    if (Object.is(number, -0)) return { $number: '-0' };
    return number;
  }
  function decodeNumber(value) {
    if (typeof value === 'number') return value;
    switch (value?.$number) {
      case 'NaN': return NaN;
      case 'Infinity': return Infinity;
      case '-Infinity': return -Infinity;
      case '-0': return -0;
      default: throw new TypeError('malformed number');
    }
  }

  // ------------------------------------------------------------------ serialize
  function serialize(message, transfer, sender, domError, ports) {
    const cloneError = (what) => domError('DataCloneError', `${what} could not be cloned.`);
    const transferred = new Set();
    const portIndex = new Map();
    for (const item of transfer) {
      if (transferred.has(item)) throw domError('DataCloneError', 'the transfer list contains the same object twice');
      if (ports.isPort(item)) {
        const problem = ports.check(item, sender);
        if (problem) throw domError('DataCloneError', problem);
        portIndex.set(item, portIndex.size);
      } else if (item !== null && typeof item === 'object' && kindOf(item) === 'ArrayBuffer') {
        if (native.isDetached(item)) throw domError('DataCloneError', 'an ArrayBuffer in the transfer list is detached');
      } else {
        throw domError('DataCloneError', 'only ArrayBuffer and MessagePort objects can be transferred');
      }
      transferred.add(item);
    }

    // Pass 1: count references to find shared and cyclic objects.
    const counts = new Map();
    const kinds = new Map();
    const visit = (value, depth) => {
      if (value === null || typeof value !== 'object' || ports.isPort(value)) return;
      if (depth > MAX_DEPTH) throw domError('DataCloneError', `the message is nested deeper than ${MAX_DEPTH} levels`);
      const seen = counts.get(value) ?? 0;
      counts.set(value, seen + 1);
      if (seen > 0) return;
      const kind = kindOf(value);
      kinds.set(value, kind);
      switch (kind) {
        case 'Array': for (let i = 0; i < value.length; i++) visit(value[i], depth + 1); break;
        case 'Map': for (const [k, v] of Map.prototype.entries.call(value)) { visit(k, depth + 1); visit(v, depth + 1); } break;
        case 'Set': for (const v of Set.prototype.values.call(value)) visit(v, depth + 1); break;
        case 'TypedArray': case 'DataView': visit(value.buffer, depth + 1); break;
        case 'Object': for (const key of Object.keys(value)) visit(value[key], depth + 1); break;
        default: break;
      }
    };
    visit(message, 0);

    const ids = new Map();
    let nextId = 0;
    const encode = (value) => {
      switch (typeof value) {
        case 'undefined': return { $undefined: null };
        case 'boolean': case 'string': return value;
        case 'number': return encodeNumber(value);
        case 'bigint': return { $bigint: value.toString() };
        case 'symbol': throw cloneError('Symbol()');
        case 'function': throw cloneError(`function ${value.name || ''}`.trim());
        default: break;
      }
      if (value === null) return null;
      if (ports.isPort(value)) {
        if (!portIndex.has(value)) throw domError('DataCloneError', 'a MessagePort in a message must also be in the transfer list');
        return { $port: portIndex.get(value) };
      }
      if (ids.has(value)) return { $ref: ids.get(value) };
      if ((counts.get(value) ?? 0) > 1) {
        const id = nextId++;
        ids.set(value, id);
        return { $def: [id, encodeObject(value)] };
      }
      return encodeObject(value);
    };
    const encodeObject = (value) => {
      // A getter may hand out a fresh object on the second read.
      const kind = kinds.get(value) ?? kindOf(value);
      switch (kind) {
        case 'Array': {
          const out = [];
          for (let i = 0; i < value.length; i++) out.push(i in value ? encode(value[i]) : { $hole: null });
          return out;
        }
        case 'Object': {
          const out = {};
          const keys = Object.keys(value);
          for (const key of keys) out[key] = encode(value[key]);
          return keys.length === 1 && isTag(keys[0]) ? { $object: out } : out;
        }
        case 'Map': return { $map: Array.from(Map.prototype.entries.call(value), ([k, v]) => [encode(k), encode(v)]) };
        case 'Set': return { $set: Array.from(Set.prototype.values.call(value), encode) };
        case 'Date': {
          const time = Date.prototype.getTime.call(value);
          return { $date: Number.isNaN(time) ? 'NaN' : time };
        }
        case 'RegExp': return { $regexp: { source: value.source, flags: value.flags } };
        case 'Error': {
          const name = ERROR_NAMES.includes(value.name) ? value.name : 'Error';
          const message = Object.prototype.hasOwnProperty.call(value, 'message') ? String(value.message) : '';
          return { $error: { name, message } };
        }
        case 'WebAssembly.Module': return { '$WebAssembly.Module': wasm.moduleToWire(value) };
        case 'ArrayBuffer': {
          if (native.isDetached(value)) throw domError('DataCloneError', 'a detached ArrayBuffer could not be cloned');
          return { $ArrayBuffer: Array.from(new Uint8Array(value)) };
        }
        case 'TypedArray': case 'DataView': {
          const type = kind === 'DataView' ? 'DataView' : typedArrayName(value);
          if (native.isDetached(value.buffer)) throw domError('DataCloneError', `a ${type} over a detached ArrayBuffer could not be cloned`);
          const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
          if (kind === 'TypedArray' && whole && counts.get(value.buffer) === 1) {
            const bigint = type.startsWith('Big');
            return { ['$' + type]: Array.from(value, (x) => (bigint ? x.toString() : encodeNumber(x))) };
          }
          const length = kind === 'DataView' ? value.byteLength : value.length;
          return { $view: { type, buffer: encode(value.buffer), byteOffset: value.byteOffset, length } };
        }
        case 'BoxedBoolean': return { $boxed: Boolean.prototype.valueOf.call(value) };
        case 'BoxedNumber': return { $boxed: encodeNumber(Number.prototype.valueOf.call(value)) };
        case 'BoxedString': return { $boxed: String.prototype.valueOf.call(value) };
        case 'BoxedBigInt': return { $boxed: { $bigint: BigInt.prototype.valueOf.call(value).toString() } };
        default: throw cloneError(`#<${kind}>`);
      }
    };
    const wire = encode(message);
    for (const buffer of transferred) {
      if (kindOf(buffer) === 'ArrayBuffer') native.detach(buffer);
    }
    return wire;
  }

  // ---------------------------------------------------------------- deserialize
  function deserialize(wire, ports) {
    const defs = new Map();
    let depth = 0;
    const decode = (value) => {
      if (value === null || typeof value !== 'object') {
        if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
        throw new TypeError('malformed message');
      }
      if (++depth > MAX_DEPTH + 8) throw new RangeError('message nested too deeply');
      try {
        return decodeObject(value);
      } finally {
        depth--;
      }
    };
    // Arrays keep their holes (`{"$hole": null}` entries).
    const fillArray = (out, items) => {
      out.length = items.length;
      items.forEach((item, index) => {
        if (!(item !== null && typeof item === 'object' && Object.keys(item).length === 1 && '$hole' in item)) out[index] = decode(item);
      });
      return out;
    };
    const decodeObject = (value) => {
      if (Array.isArray(value)) return fillArray([], value);
      const keys = Object.keys(value);
      if (keys.length !== 1 || !isTag(keys[0])) return decodePlain(value, keys);
      const tag = keys[0];
      const body = value[tag];
      switch (tag) {
        case '$undefined': return undefined;
        case '$number': return decodeNumber(value);
        case '$bigint': return BigInt(String(body));
        case '$object': return decodePlain(body, Object.keys(body));
        case '$port': {
          if (!Number.isInteger(body) || body < 0 || body >= ports.length) throw new RangeError(`$port ${body} names no transferred port`);
          return ports[body];
        }
        case '$ref': {
          if (!defs.has(body)) throw new RangeError(`$ref ${body} names no earlier $def`);
          return defs.get(body);
        }
        case '$def': {
          if (!Array.isArray(body) || body.length !== 2 || !Number.isInteger(body[0])) throw new TypeError('malformed $def');
          return decodeDefinition(body[0], body[1]);
        }
        default: return decodeTagged(tag, body, null);
      }
    };
    const decodePlain = (body, keys, target = {}) => {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new TypeError('malformed object');
      for (const key of keys) {
        Object.defineProperty(target, key, { value: decode(body[key]), writable: true, enumerable: true, configurable: true });
      }
      return target;
    };
    // A $def registers its object before decoding children, so cycles resolve.
    const decodeDefinition = (id, inner) => {
      if (defs.has(id)) throw new RangeError(`$def ${id} defined twice`);
      if (Array.isArray(inner)) {
        const out = [];
        defs.set(id, out);
        return fillArray(out, inner);
      }
      if (inner === null || typeof inner !== 'object') throw new TypeError('malformed $def');
      const keys = Object.keys(inner);
      if (keys.length !== 1 || !isTag(keys[0])) {
        const out = {};
        defs.set(id, out);
        return decodePlain(inner, keys, out);
      }
      const tag = keys[0];
      if (tag === '$object') {
        const out = {};
        defs.set(id, out);
        return decodePlain(inner.$object, Object.keys(inner.$object ?? {}), out);
      }
      return decodeTagged(tag, inner[tag], id);
    };
    const decodeTagged = (tag, body, id) => {
      const register = (object) => { if (id !== null) defs.set(id, object); return object; };
      switch (tag) {
        case '$map': {
          const map = register(new Map());
          for (const [k, v] of body) map.set(decode(k), decode(v));
          return map;
        }
        case '$set': {
          const set = register(new Set());
          for (const v of body) set.add(decode(v));
          return set;
        }
        case '$date': return register(new Date(body === 'NaN' ? NaN : Number(body)));
        case '$regexp': return register(new RegExp(String(body.source), String(body.flags)));
        case '$error': {
          const Ctor = ERROR_NAMES.includes(body?.name) ? globalThis[body.name] : Error;
          const error = new Ctor(String(body?.message ?? ''));
          return register(error);
        }
        case '$boxed': return register(Object(decode(body)));
        case '$WebAssembly.Module': return register(wasm.moduleFromWire(body));
        case '$ArrayBuffer': {
          if (!Array.isArray(body)) throw new TypeError('malformed $ArrayBuffer');
          return register(new Uint8Array(body).buffer);
        }
        case '$view': {
          const buffer = decode(body.buffer);
          if (!(buffer instanceof ArrayBuffer)) throw new TypeError('malformed $view');
          const Ctor = body.type === 'DataView' ? DataView : TYPED_ARRAYS.includes(body.type) ? globalThis[body.type] : null;
          if (!Ctor) throw new TypeError(`unknown view type ${body.type}`);
          return register(new Ctor(buffer, Number(body.byteOffset), Number(body.length)));
        }
        default: {
          const type = tag.slice(1);
          if (!TYPED_ARRAYS.includes(type) || !Array.isArray(body)) throw new TypeError(`unknown tag ${tag}`);
          const bigint = type.startsWith('Big');
          return register(globalThis[type].from(body, (x) => (bigint ? BigInt(x) : decodeNumber(x))));
        }
      }
    };
    return decode(wire);
  }

  // ---------------------------------------------------------------- console formatting
  function inspect(value, depth, seen) {
    switch (typeof value) {
      case 'string': return depth === 0 ? value : `'${value}'`;
      case 'number': return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint': return `${value}n`;
      case 'undefined': return 'undefined';
      case 'boolean': return String(value);
      case 'symbol': return value.toString();
      case 'function': return `[Function: ${value.name || '(anonymous)'}]`;
      default: break;
    }
    if (value === null) return 'null';
    if (seen.has(value)) return '[Circular]';
    const kind = kindOf(value);
    if (kind === 'Error') return value.stack ? `${value.name}: ${value.message}\n${value.stack.trimEnd()}` : `${value.name}: ${value.message}`;
    if (kind === 'Date') return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (kind === 'RegExp') return String(value);
    if (depth > 2) return kind === 'Array' ? '[Array]' : '[Object]';
    seen.add(value);
    try {
      const items = (list, limit, show) => {
        const shown = list.slice(0, limit).map(show);
        if (list.length > limit) shown.push(`... ${list.length - limit} more`);
        return shown.join(', ');
      };
      const nested = (x) => inspect(x, depth + 1, seen);
      switch (kind) {
        case 'Array': return `[ ${items(Array.from(value), 32, nested)} ]`.replace('[  ]', '[]');
        case 'TypedArray': return `${typedArrayName(value)}(${value.length}) [ ${items(Array.from(value), 16, nested)} ]`;
        case 'ArrayBuffer': return `ArrayBuffer { byteLength: ${value.byteLength} }`;
        case 'Map': return `Map(${value.size}) { ${items(Array.from(value), 16, ([k, v]) => `${nested(k)} => ${nested(v)}`)} }`;
        case 'Set': return `Set(${value.size}) { ${items(Array.from(value), 16, nested)} }`;
        default: {
          const keys = Object.keys(value);
          const name = value.constructor && value.constructor !== Object && typeof value.constructor.name === 'string' ? value.constructor.name + ' ' : '';
          if (keys.length === 0) return `${name}{}`;
          return `${name}{ ${items(keys, 32, (k) => `${k}: ${nested(value[k])}`)} }`;
        }
      }
    } finally {
      seen.delete(value);
    }
  }

  function format(args) {
    const parts = [];
    let rest = args;
    if (typeof args[0] === 'string' && args[0].includes('%')) {
      let index = 1;
      const text = args[0].replace(/%[sdifoOjc%]/g, (spec) => {
        if (spec === '%%') return '%';
        if (index >= args.length) return spec;
        const arg = args[index++];
        switch (spec) {
          case '%s': return typeof arg === 'string' ? arg : inspect(arg, 1, new Set());
          case '%d': case '%i': return typeof arg === 'bigint' ? `${arg}n` : String(spec === '%i' ? Math.trunc(Number(arg)) : Number(arg));
          case '%f': return String(Number(arg));
          case '%c': return '';
          default: return inspect(arg, 1, new Set());
        }
      });
      parts.push(text);
      rest = args.slice(index);
    } else if (args.length > 0) {
      parts.push(inspect(args[0], 0, new Set()));
      rest = args.slice(1);
    }
    for (const arg of rest) parts.push(inspect(arg, 0, new Set()));
    return parts.join(' ');
  }

  return Object.freeze({ serialize, deserialize, format, inspect });
})
