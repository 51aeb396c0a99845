//! The native half of the `WebAssembly` namespace (the realm's thread): the
//! functions `js/wasm.js` calls. `wasm.js` does the WebIDL part (argument
//! conversions, `[EnforceRange]`, descriptors, promises, class shapes); these do
//! what needs wasmtime. Each takes the namespace object it works on first and
//! fails with a `TypeError` when that is not one of the realm's.

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArray, JsArrayBuffer, JsDataView, JsTypedArray};
use boa_engine::{Context, JsArgs, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction};
use wasmtime::{MemoryType, TableType};

use super::engine;
use super::errors;
use super::instantiate::{descriptions, instantiate};
use super::scope::{Kind, Thing, WasmScope, identity, with_store};
use super::sections;
use super::values;

type Native = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

const NATIVES: &[(&str, Native)] = &[
    ("validate", validate),
    ("kindOf", kind_of),
    ("moduleToBase64", module_to_base64),
    ("moduleFromBase64", module_from_base64),
    ("moduleNew", module_new),
    ("moduleImports", module_imports),
    ("moduleExports", module_exports),
    ("customSections", custom_sections),
    ("moduleBytes", module_bytes),
    ("instantiate", instantiate_native),
    ("memoryNew", memory_new),
    ("memoryBuffer", memory_buffer),
    ("memoryGrow", memory_grow),
    ("tableNew", table_new),
    ("tableLength", table_length),
    ("tableGet", table_get),
    ("tableSet", table_set),
    ("tableGrow", table_grow),
    ("globalNew", global_new),
    ("globalGet", global_get),
    ("globalSet", global_set),
];

/// The object of natives handed to `wasm.js`.
pub(crate) fn natives(context: &mut Context) -> JsObject {
    let mut object = ObjectInitializer::new(context);
    for &(name, function) in NATIVES {
        object.function(NativeFunction::from_fn_ptr(function), JsString::from(name), 0);
    }
    object.build()
}

fn scope(context: &Context) -> JsResult<std::rc::Rc<WasmScope>> {
    WasmScope::of(context)
}

fn object_arg(args: &[JsValue], index: usize) -> JsResult<JsObject> {
    args.get_or_undefined(index)
        .as_object()
        .ok_or_else(|| JsNativeError::typ().with_message("Illegal invocation").into())
}

fn thing_arg(scope: &WasmScope, args: &[JsValue]) -> JsResult<Thing> {
    scope.thing(&object_arg(args, 0)?).ok_or_else(|| JsNativeError::typ().with_message("Illegal invocation").into())
}

fn number_arg(args: &[JsValue], index: usize) -> u64 {
    args.get_or_undefined(index).as_number().map_or(0, |n| n as u64)
}

fn optional_number_arg(args: &[JsValue], index: usize) -> Option<u64> {
    args.get_or_undefined(index).as_number().map(|n| n as u64)
}

/// The value at `index + 1` if the flag at `index` says it was given, else the
/// type's default (the JS API's "if value is missing").
fn value_or_default(args: &[JsValue], index: usize, ty: &wasmtime::ValType) -> JsValue {
    if args.get_or_undefined(index).to_boolean() {
        args.get_or_undefined(index + 1).clone()
    } else {
        values::default_value(ty)
    }
}

/// `kindOf(value)`: `"Module"`, `"Memory"`, `"Table"`, `"Global"`, `"Function"`,
/// or `""` for anything that is not one of the realm's namespace objects.
fn kind_of(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let kind = match args.get_or_undefined(0).as_object().and_then(|o| scope.thing(&o)) {
        Some(Thing::Module(_)) => "Module",
        Some(Thing::Memory(_)) => "Memory",
        Some(Thing::Table(_)) => "Table",
        Some(Thing::Global(_)) => "Global",
        Some(Thing::Function(_)) => "Function",
        None => "",
    };
    Ok(JsString::from(kind).into())
}

/// `moduleToBase64(module)`: the module's bytes for the message wire format.
fn module_to_base64(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    use base64::Engine as _;
    let compiled = module_of(&*scope(context)?, args)?;
    Ok(JsString::from(base64::engine::general_purpose::STANDARD.encode(&compiled.bytes)).into())
}

/// `moduleFromBase64(module, text)`: a module received in a message.
fn module_from_base64(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    use base64::Engine as _;
    let scope = scope(context)?;
    let object = object_arg(args, 0)?;
    let text = args.get_or_undefined(1).to_string(context)?.to_std_string_escaped();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).map_err(|e| {
        JsNativeError::typ().with_message(format!("a WebAssembly.Module in a message is not base64: {e}"))
    })?;
    let compiled = engine::compile(&bytes)
        .map_err(|message| errors::compile(&scope, &format!("WebAssembly.Module(): {message}"), context))?;
    scope.bind(&object, Thing::Module(compiled), None);
    Ok(JsValue::undefined())
}

/// A copy of the bytes of a `BufferSource` (ArrayBuffer, typed array or DataView).
fn buffer_source(value: &JsValue, context: &mut Context) -> JsResult<Vec<u8>> {
    let not_bytes =
        || JsNativeError::typ().with_message("the argument must be an ArrayBuffer, a typed array or a DataView");
    let object = value.as_object().ok_or_else(not_bytes)?;
    if let Ok(buffer) = JsArrayBuffer::from_object(object.clone()) {
        return Ok(buffer.data().map(|bytes| bytes.to_vec()).unwrap_or_default());
    }
    let (buffer, offset, length) = if let Ok(view) = JsTypedArray::from_object(object.clone()) {
        (view.buffer(context)?, view.byte_offset(context)?, view.byte_length(context)?)
    } else if let Ok(view) = JsDataView::from_object(object) {
        (view.buffer(context)?, view.byte_offset(context)? as usize, view.byte_length(context)? as usize)
    } else {
        return Err(not_bytes().into());
    };
    let buffer = buffer
        .as_object()
        .and_then(|b| JsArrayBuffer::from_object(b).ok())
        .ok_or_else(|| JsNativeError::typ().with_message("the argument's buffer must not be a SharedArrayBuffer"))?;
    let bytes = buffer.data().map(|bytes| bytes.get(offset..offset + length).unwrap_or_default().to_vec());
    Ok(bytes.unwrap_or_default())
}

/// `validate(bytes)`.
fn validate(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let bytes = buffer_source(args.get_or_undefined(0), context)?;
    Ok(engine::validate(&bytes).into())
}

/// `moduleNew(module, bytes)`: compiles (or finds the compiled code of) `bytes`.
fn module_new(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let object = object_arg(args, 0)?;
    let bytes = buffer_source(args.get_or_undefined(1), context)?;
    let compiled = engine::compile(&bytes)
        .map_err(|message| errors::compile(&scope, &format!("WebAssembly.Module(): {message}"), context))?;
    scope.bind(&object, Thing::Module(compiled), None);
    Ok(JsValue::undefined())
}

fn module_of(scope: &WasmScope, args: &[JsValue]) -> JsResult<super::engine::Compiled> {
    match thing_arg(scope, args)? {
        Thing::Module(compiled) => Ok(compiled),
        _ => Err(JsNativeError::typ().with_message("the argument is not a WebAssembly.Module").into()),
    }
}

fn module_imports(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let compiled = module_of(&*scope(context)?, args)?;
    Ok(descriptions(&compiled, true, context))
}

fn module_exports(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let compiled = module_of(&*scope(context)?, args)?;
    Ok(descriptions(&compiled, false, context))
}

/// `customSections(module, name)`: copies of the payloads, as ArrayBuffers.
fn custom_sections(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let compiled = module_of(&*scope(context)?, args)?;
    let name = args.get_or_undefined(1).to_string(context)?.to_std_string_escaped();
    let mut buffers = Vec::new();
    for payload in sections::custom_sections(&compiled.bytes, &name) {
        let block = boa_engine::object::builtins::AlignedVec::from_slice(64, payload);
        buffers.push(JsArrayBuffer::from_byte_block(block, context)?.into());
    }
    Ok(JsArray::from_iter(buffers, context).into())
}

/// `moduleBytes(module)`: a copy of the bytes the module was compiled from.
fn module_bytes(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let compiled = module_of(&*scope(context)?, args)?;
    let block = boa_engine::object::builtins::AlignedVec::from_slice(64, &compiled.bytes);
    Ok(JsArrayBuffer::from_byte_block(block, context)?.into())
}

/// `instantiate(module, importObject)`: `[name, value, ...]` of the exports.
fn instantiate_native(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let compiled = module_of(&scope, args)?;
    instantiate(&scope, &compiled, args.get_or_undefined(1), context)
}

fn memory_of(scope: &WasmScope, args: &[JsValue]) -> JsResult<wasmtime::Memory> {
    match thing_arg(scope, args)? {
        Thing::Memory(memory) => Ok(memory),
        _ => Err(JsNativeError::typ().with_message("Illegal invocation: not a WebAssembly.Memory").into()),
    }
}

/// `memoryNew(memory, initial, maximum?, shared)`.
fn memory_new(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let object = object_arg(args, 0)?;
    if args.get_or_undefined(3).to_boolean() {
        return Err(JsNativeError::typ()
            .with_message("WebAssembly.Memory(): shared memories are not supported in Worklet yet")
            .into());
    }
    let initial = number_arg(args, 1);
    let maximum = optional_number_arg(args, 2);
    let ty = MemoryType::new(initial as u32, maximum.map(|m| m as u32));
    let memory = with_store(&scope, |store| {
        wasmtime::Memory::new(&mut *store, ty).map_err(|_| {
            let why = store.data_mut().limits.refused.take();
            JsNativeError::range()
                .with_message(why.unwrap_or_else(|| "WebAssembly.Memory(): could not allocate memory".into()))
        })
    })?;
    let key = identity(&memory);
    scope.bind(&object, Thing::Memory(memory), Some((Kind::Memory, key)));
    Ok(JsValue::undefined())
}

/// `memoryBuffer(memory)`: `memory.buffer`.
fn memory_buffer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let memory = memory_of(&scope, args)?;
    with_store(&scope, |store| scope.buffer(memory, store, context)).map(Into::into)
}

/// `memoryGrow(memory, delta)`: the old size in pages; the old buffer is detached.
fn memory_grow(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let memory = memory_of(&scope, args)?;
    let delta = number_arg(args, 1);
    with_store(&scope, |store| {
        let grown = memory.grow(&mut *store, delta).map_err(|_| {
            let why = store.data_mut().limits.refused.take();
            JsNativeError::range()
                .with_message(why.unwrap_or_else(|| "WebAssembly.Memory.grow(): Maximum memory size exceeded".into()))
        })?;
        // Per spec every grow() detaches the buffer, even by zero pages.
        scope.detach(memory);
        scope.refresh(&*store);
        Ok(JsValue::from(grown as f64))
    })
}

fn table_of(scope: &WasmScope, args: &[JsValue]) -> JsResult<wasmtime::Table> {
    match thing_arg(scope, args)? {
        Thing::Table(table) => Ok(table),
        _ => Err(JsNativeError::typ().with_message("Illegal invocation: not a WebAssembly.Table").into()),
    }
}

/// `tableNew(table, element, initial, maximum?, hasValue, value)`.
fn table_new(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let object = object_arg(args, 0)?;
    let element = args.get_or_undefined(1).to_string(context)?.to_std_string_escaped();
    let element = match values::parse_type(&element)? {
        wasmtime::ValType::Ref(reference) => reference,
        _ => {
            return Err(JsNativeError::typ().with_message("a table's element must be 'anyfunc' or 'externref'").into());
        }
    };
    let initial = number_arg(args, 2);
    let maximum = optional_number_arg(args, 3);
    let value_type = wasmtime::ValType::Ref(element.clone());
    let value = value_or_default(args, 4, &value_type);
    let pending = values::from_js(&value, &value_type, &scope, context)?;
    let table = with_store(&scope, |store| -> JsResult<wasmtime::Table> {
        let init = pending.into_ref(store)?;
        let ty = TableType::new(element, initial as u32, maximum.map(|m| m as u32));
        wasmtime::Table::new(&mut *store, ty, init).map_err(|_| {
            let why = store.data_mut().limits.refused.take();
            JsNativeError::range()
                .with_message(why.unwrap_or_else(|| "WebAssembly.Table(): could not allocate the table".into()))
                .into()
        })
    })?;
    let key = identity(&table);
    scope.bind(&object, Thing::Table(table), Some((Kind::Table, key)));
    Ok(JsValue::undefined())
}

fn table_length(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let table = table_of(&scope, args)?;
    Ok(with_store(&scope, |store| JsValue::from(table.size(&*store) as f64)))
}

fn table_get(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let table = table_of(&scope, args)?;
    let index = number_arg(args, 1);
    with_store(&scope, |store| {
        let element = table
            .get(&mut *store, index)
            .ok_or_else(|| JsNativeError::range().with_message("WebAssembly.Table.get(): invalid address"))?;
        let value = match element {
            wasmtime::Ref::Func(func) => wasmtime::Val::FuncRef(func),
            wasmtime::Ref::Extern(reference) => wasmtime::Val::ExternRef(reference),
            _ => wasmtime::Val::FuncRef(None),
        };
        values::to_js(&value, &scope, store, context)
    })
}

fn table_set(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let table = table_of(&scope, args)?;
    let index = number_arg(args, 1);
    let ty = with_store(&scope, |store| table.ty(&*store).element().clone());
    let ty = wasmtime::ValType::Ref(ty);
    let value = value_or_default(args, 2, &ty);
    let pending = values::from_js(&value, &ty, &scope, context)?;
    with_store(&scope, |store| {
        let element = pending.into_ref(store)?;
        table
            .set(&mut *store, index, element)
            .map_err(|_| JsError::from(JsNativeError::range().with_message("WebAssembly.Table.set(): invalid address")))
    })?;
    Ok(JsValue::undefined())
}

fn table_grow(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let table = table_of(&scope, args)?;
    let delta = number_arg(args, 1);
    let ty = wasmtime::ValType::Ref(with_store(&scope, |store| table.ty(&*store).element().clone()));
    let value = value_or_default(args, 2, &ty);
    let pending = values::from_js(&value, &ty, &scope, context)?;
    with_store(&scope, |store| {
        let init = pending.into_ref(store)?;
        let old = table.grow(&mut *store, delta, init).map_err(|_| {
            let why = store.data_mut().limits.refused.take();
            JsNativeError::range()
                .with_message(why.unwrap_or_else(|| "WebAssembly.Table.grow(): failed to grow table".into()))
        })?;
        Ok(JsValue::from(old as f64))
    })
}

fn global_of(scope: &WasmScope, args: &[JsValue]) -> JsResult<wasmtime::Global> {
    match thing_arg(scope, args)? {
        Thing::Global(global) => Ok(global),
        _ => Err(JsNativeError::typ().with_message("Illegal invocation: not a WebAssembly.Global").into()),
    }
}

/// `globalNew(global, type, mutable, hasValue, value)`.
fn global_new(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let object = object_arg(args, 0)?;
    let name = args.get_or_undefined(1).to_string(context)?.to_std_string_escaped();
    let content = values::parse_type(&name)?;
    if matches!(content, wasmtime::ValType::V128) {
        return Err(JsNativeError::typ()
            .with_message("WebAssembly.Global(): v128 globals cannot be made from JavaScript")
            .into());
    }
    let mutable = args.get_or_undefined(2).to_boolean();
    let value = value_or_default(args, 3, &content);
    let pending = values::from_js(&value, &content, &scope, context)?;
    let mutability = if mutable { wasmtime::Mutability::Var } else { wasmtime::Mutability::Const };
    let global = with_store(&scope, |store| -> JsResult<wasmtime::Global> {
        let value = pending.into_val(store)?;
        wasmtime::Global::new(&mut *store, wasmtime::GlobalType::new(content, mutability), value)
            .map_err(|e| JsNativeError::typ().with_message(e.to_string()).into())
    })?;
    let key = identity(&global);
    scope.bind(&object, Thing::Global(global), Some((Kind::Global, key)));
    Ok(JsValue::undefined())
}

fn global_get(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let global = global_of(&scope, args)?;
    with_store(&scope, |store| {
        let value = global.get(&mut *store);
        values::to_js(&value, &scope, store, context)
    })
}

fn global_set(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let scope = scope(context)?;
    let global = global_of(&scope, args)?;
    let ty = with_store(&scope, |store| global.ty(&*store));
    if ty.mutability() == wasmtime::Mutability::Const {
        return Err(JsNativeError::typ()
            .with_message("WebAssembly.Global: can't set the value of an immutable global")
            .into());
    }
    let pending = values::from_js(args.get_or_undefined(1), ty.content(), &scope, context)?;
    with_store(&scope, |store| {
        let value = pending.into_val(store)?;
        global.set(&mut *store, value).map_err(|e| JsError::from(JsNativeError::typ().with_message(e.to_string())))
    })?;
    Ok(JsValue::undefined())
}
