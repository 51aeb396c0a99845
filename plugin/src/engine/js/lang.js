// Language built-ins that browsers have and Boa 0.22 lacks: ArrayBuffer's
// transfer, transferToFixedLength and detached (ES2024), and Array.fromAsync
// (ES2026).
//
// Evaluated once per realm, on the realm's thread, before any other script. It is
// a single function expression that Rust calls with the native hooks; it adds the
// methods to the intrinsics with the attributes built-ins have (writable,
// configurable, not enumerable) and returns nothing.
(function workletLanguage(native) {
  'use strict';

  const { defineProperty, getOwnPropertyDescriptor } = Object;
  const { apply, construct } = Reflect;
  const MAX_SAFE = Number.MAX_SAFE_INTEGER;

  function install(target, name, value) {
    defineProperty(target, name, { value, writable: true, enumerable: false, configurable: true });
  }

  // ---------------------------------------------------------------- ArrayBuffer
  const bufferProto = ArrayBuffer.prototype;
  const getter = (name) => getOwnPropertyDescriptor(bufferProto, name).get;
  const byteLength = getter('byteLength');
  const resizable = getter('resizable');
  const maxByteLength = getter('maxByteLength');

  function toIndex(value) {
    const number = Number(value);
    const integer = Number.isNaN(number) ? 0 : Math.trunc(number);
    if (integer < 0 || integer > MAX_SAFE) throw new RangeError('Invalid array buffer length');
    return integer;
  }

  // ArrayBufferCopyAndDetach ( O, newLength, preserveResizability ).
  function copyAndDetach(buffer, newLength, preserve, method) {
    // The getter brand-checks: a TypeError for anything but a non-shared ArrayBuffer.
    const length = apply(byteLength, buffer, []);
    const newByteLength = newLength === undefined ? length : toIndex(newLength);
    if (native.isDetached(buffer)) {
      throw new TypeError(`Cannot perform ArrayBuffer.prototype.${method} on a detached ArrayBuffer`);
    }
    const max = preserve && apply(resizable, buffer, []) ? apply(maxByteLength, buffer, []) : undefined;
    if (max !== undefined && newByteLength > max) {
      throw new RangeError(`ArrayBuffer.prototype.${method}: new length ${newByteLength} exceeds the maxByteLength ${max}`);
    }
    return native.transfer(buffer, newByteLength, max);
  }

  const bufferMethods = {
    transfer(newLength = undefined) { return copyAndDetach(this, newLength, true, 'transfer'); },
    transferToFixedLength(newLength = undefined) {
      return copyAndDetach(this, newLength, false, 'transferToFixedLength');
    },
  };
  install(bufferProto, 'transfer', bufferMethods.transfer);
  install(bufferProto, 'transferToFixedLength', bufferMethods.transferToFixedLength);
  const accessors = {
    get detached() {
      apply(byteLength, this, []);
      return native.isDetached(this);
    },
  };
  defineProperty(bufferProto, 'detached', {
    get: getOwnPropertyDescriptor(accessors, 'detached').get,
    enumerable: false,
    configurable: true,
  });

  // ---------------------------------------------------------------- Array.fromAsync
  function isConstructor(value) {
    if (typeof value !== 'function') return false;
    try {
      construct(String, [], value);
      return true;
    } catch {
      return false;
    }
  }

  function method(object, key) {
    const value = object[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'function') throw new TypeError(`${String(key)} is not a function`);
    return value;
  }

  function defineElement(array, index, value) {
    defineProperty(array, index, { value, writable: true, enumerable: true, configurable: true });
  }

  // CreateAsyncFromSyncIterator: each value is awaited; a rejected value closes
  // the sync iterator.
  function fromSync(iterator) {
    const next = iterator.next;
    return {
      async next() {
        const result = apply(next, iterator, []);
        if (result === null || typeof result !== 'object') throw new TypeError('iterator result is not an object');
        const done = !!result.done;
        try {
          return { value: await result.value, done };
        } catch (error) {
          if (!done) closeSync(iterator);
          throw error;
        }
      },
      return() {
        closeSync(iterator);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  function closeSync(iterator) {
    try {
      const close = method(iterator, 'return');
      if (close) apply(close, iterator, []);
    } catch {
      // AsyncIteratorClose keeps the original error.
    }
  }

  async function closeAsync(iterator) {
    try {
      const close = method(iterator, 'return');
      if (close) await apply(close, iterator, []);
    } catch {
      // AsyncIteratorClose keeps the original error.
    }
  }

  const arrayMethods = {
    async fromAsync(asyncItems, mapfn = undefined, thisArg = undefined) {
      const C = this;
      const mapping = mapfn !== undefined;
      if (mapping && typeof mapfn !== 'function') throw new TypeError('Array.fromAsync: the mapper is not a function');
      if (asyncItems === null || asyncItems === undefined) {
        throw new TypeError(`Array.fromAsync: ${asyncItems} is not iterable or array-like`);
      }
      const usingAsync = method(asyncItems, Symbol.asyncIterator);
      const usingSync = usingAsync === undefined ? method(asyncItems, Symbol.iterator) : undefined;
      if (usingAsync !== undefined || usingSync !== undefined) {
        const array = isConstructor(C) ? new C() : [];
        const iterator = usingAsync !== undefined
          ? apply(usingAsync, asyncItems, [])
          : fromSync(apply(usingSync, asyncItems, []));
        const next = iterator.next;
        for (let k = 0; ; k++) {
          if (k >= MAX_SAFE) {
            const error = new TypeError('Array.fromAsync: too many elements');
            await closeAsync(iterator);
            throw error;
          }
          const result = await apply(next, iterator, []);
          if (result === null || typeof result !== 'object') throw new TypeError('iterator result is not an object');
          if (result.done) {
            array.length = k;
            return array;
          }
          try {
            const value = mapping ? await apply(mapfn, thisArg, [result.value, k]) : result.value;
            defineElement(array, k, value);
          } catch (error) {
            await closeAsync(iterator);
            throw error;
          }
        }
      }
      const arrayLike = Object(asyncItems);
      const rawLength = Number(arrayLike.length);
      const length = Number.isNaN(rawLength) ? 0 : Math.min(Math.max(Math.trunc(rawLength), 0), MAX_SAFE);
      const array = isConstructor(C) ? new C(length) : new Array(length);
      for (let k = 0; k < length; k++) {
        const value = await arrayLike[k];
        defineElement(array, k, mapping ? await apply(mapfn, thisArg, [value, k]) : value);
      }
      array.length = length;
      return array;
    },
  };
  install(Array, 'fromAsync', arrayMethods.fromAsync);

  // %TypedArray% is an intrinsic, not a global, in every browser.
  delete globalThis.TypedArray;
})
