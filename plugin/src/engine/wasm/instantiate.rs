//! `new WebAssembly.Instance(module, importObject)` (the realm's thread): the JS
//! API's "read the imports", instantiation in the realm's store, and the frozen
//! `exports` object.
//!
//! The imports are read first, in the module's import order, with every
//! `Get` the spec makes (a getter on the import object runs then, and may call
//! wasm); only then is the store taken to make host functions and constant
//! globals and to instantiate. A failed link is a `LinkError` naming the import
//! (`Import #2 "env" "_sinf": ...`); a trap in the start function is a
//! `RuntimeError`.

use boa_engine::object::builtins::JsArray;
use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsString, JsValue};
use wasmtime::{Extern, ExternType, GlobalType, Mutability, Trap};

use super::engine::Compiled;
use super::errors;
use super::functions;
use super::scope::{Kind, Thing, WasmScope, identity, with_store};
use super::sections;
use super::values::{self, Pending};

/// An import, read from the import object.
enum Resolved {
    /// A wasm function (an exported function of another instance).
    Func(wasmtime::Func),
    /// A JavaScript function, made a host function of this type.
    Host(JsObject, wasmtime::FuncType),
    Memory(wasmtime::Memory),
    Table(wasmtime::Table),
    Global(wasmtime::Global),
    /// A Number, BigInt or reference, made a constant global of this type.
    Constant(Pending, GlobalType),
}

/// Instantiates `compiled` with the imports read from `import_object`; returns
/// the exports as `[name, value, ...]`.
pub(crate) fn instantiate(
    scope: &WasmScope,
    compiled: &Compiled,
    import_object: &JsValue,
    context: &mut Context,
) -> JsResult<JsValue> {
    let module = &compiled.module;
    let imports: Vec<_> = module.imports().collect();
    if !imports.is_empty() && !import_object.is_object() {
        return Err(JsNativeError::typ()
            .with_message("WebAssembly.Instance(): the module has imports, so an import object is required")
            .into());
    }
    if !import_object.is_undefined() && !import_object.is_object() {
        return Err(JsNativeError::typ()
            .with_message("WebAssembly.Instance(): the import object is not an object")
            .into());
    }
    let mut resolved = Vec::with_capacity(imports.len());
    for (index, import) in imports.iter().enumerate() {
        let label = format!("Import #{index} \"{}\" \"{}\"", import.module(), import.name());
        let namespace = import_object
            .as_object()
            .map(|o| o.get(JsString::from(import.module()), context))
            .transpose()?
            .unwrap_or_default();
        let Some(namespace) = namespace.as_object() else {
            return Err(JsNativeError::typ().with_message(format!("{label}: the module is not an object")).into());
        };
        let value = namespace.get(JsString::from(import.name()), context)?;
        resolved.push(resolve(scope, &label, &value, import.ty(), context)?);
    }
    let mut externs = Vec::with_capacity(resolved.len());
    let instance = with_store(scope, |store| -> JsResult<wasmtime::Instance> {
        for item in resolved {
            externs.push(match item {
                Resolved::Func(func) => Extern::Func(func),
                Resolved::Host(callable, ty) => Extern::Func(functions::host(scope, callable, ty, store)),
                Resolved::Memory(memory) => Extern::Memory(memory),
                Resolved::Table(table) => Extern::Table(table),
                Resolved::Global(global) => Extern::Global(global),
                Resolved::Constant(value, ty) => {
                    let value = value.into_val(store)?;
                    let global = wasmtime::Global::new(&mut *store, ty, value)
                        .map_err(|e| JsNativeError::typ().with_message(e.to_string()))?;
                    Extern::Global(global)
                }
            });
        }
        let made = super::scope::CONTEXT
            .with(|slot| slot.enter(context, || wasmtime::Instance::new(&mut *store, module, &externs)));
        scope.refresh(&*store);
        made.map_err(|error| {
            if error.downcast_ref::<Trap>().is_some() || store.data().thrown.is_some() {
                errors::from_call(error, scope, store, context)
            } else {
                let message = error.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ");
                errors::link(scope, &format!("WebAssembly.Instance(): {message}"), context)
            }
        })
    })?;
    exports_object(scope, compiled, instance, context)
}

/// One import, read as the JS API reads it.
fn resolve(
    scope: &WasmScope,
    label: &str,
    value: &JsValue,
    ty: ExternType,
    context: &mut Context,
) -> JsResult<Resolved> {
    let thing = value.as_object().and_then(|o| scope.thing(&o));
    let link = |what: &str, context: &mut Context| Err(errors::link(scope, &format!("{label}: {what}"), context));
    match ty {
        ExternType::Func(ty) => match (thing, value.as_callable()) {
            (Some(Thing::Function(func)), _) => Ok(Resolved::Func(func)),
            (_, Some(callable)) => Ok(Resolved::Host(callable.clone(), ty)),
            _ => link("function import requires a callable", context),
        },
        ExternType::Memory(_) => match thing {
            Some(Thing::Memory(memory)) => Ok(Resolved::Memory(memory)),
            _ => link("memory import must be a WebAssembly.Memory object", context),
        },
        ExternType::Table(_) => match thing {
            Some(Thing::Table(table)) => Ok(Resolved::Table(table)),
            _ => link("table import requires a WebAssembly.Table", context),
        },
        ExternType::Global(ty) => {
            if let Some(Thing::Global(global)) = thing {
                return Ok(Resolved::Global(global));
            }
            if ty.mutability() == Mutability::Var {
                return link("imported mutable global must be a WebAssembly.Global object", context);
            }
            let content = ty.content();
            let fits = match content {
                wasmtime::ValType::I64 => value.is_bigint(),
                wasmtime::ValType::I32 | wasmtime::ValType::F32 | wasmtime::ValType::F64 => value.is_number(),
                wasmtime::ValType::V128 => false,
                wasmtime::ValType::Ref(_) => true,
            };
            if !fits {
                return link(
                    "global import must be a number, valid Wasm reference, or WebAssembly.Global object",
                    context,
                );
            }
            let pending = values::from_js(value, content, scope, context)?;
            Ok(Resolved::Constant(pending, ty))
        }
        _ => link("this kind of import is not supported", context),
    }
}

/// The exports, in the module's order, as a flat list `[name, value, name,
/// value, ...]` (`wasm.js` makes the frozen, null-prototype `exports` object).
fn exports_object(
    scope: &WasmScope,
    compiled: &Compiled,
    instance: wasmtime::Instance,
    context: &mut Context,
) -> JsResult<JsValue> {
    let indices = sections::export_indices(&compiled.bytes);
    let names: Vec<String> = compiled.module.exports().map(|e| e.name().to_owned()).collect();
    let mut list: Vec<JsValue> = Vec::with_capacity(2 * names.len());
    with_store(scope, |store| -> JsResult<()> {
        for name in &names {
            let Some(export) = instance.get_export(&mut *store, name) else { continue };
            let value: JsValue = match export {
                Extern::Func(func) => {
                    let index = indices.iter().find(|(n, _)| n == name).map(|&(_, i)| i);
                    functions::exported(scope, func, index, store, context)?.into()
                }
                Extern::Memory(memory) => {
                    let key = identity(&memory);
                    wrap(scope, Kind::Memory, Thing::Memory(memory), key, context)?
                }
                Extern::Table(table) => {
                    let key = identity(&table);
                    wrap(scope, Kind::Table, Thing::Table(table), key, context)?
                }
                Extern::Global(global) => {
                    let key = identity(&global);
                    wrap(scope, Kind::Global, Thing::Global(global), key, context)?
                }
                _ => {
                    return Err(JsNativeError::typ()
                        .with_message(format!("the export \"{name}\" is of a kind JavaScript cannot hold"))
                        .into());
                }
            };
            list.push(JsString::from(name.as_str()).into());
            list.push(value);
        }
        Ok(())
    })?;
    Ok(JsArray::from_iter(list, context).into())
}

/// The object that stands for a memory, table or global: the one JavaScript has
/// already, or a new object of its class (`wasm.js`'s `wrap`).
pub(crate) fn wrap(
    scope: &WasmScope,
    kind: Kind,
    thing: Thing,
    key: String,
    context: &mut Context,
) -> JsResult<JsValue> {
    if let Some(object) = scope.object(kind, &key) {
        return Ok(object.into());
    }
    let name = match kind {
        Kind::Memory => "Memory",
        Kind::Table => "Table",
        Kind::Global => "Global",
        Kind::Function => "Function",
    };
    let object = scope.js.wrap.call(&JsValue::undefined(), &[JsString::from(name).into()], context)?;
    let object = object.as_object().ok_or_else(|| JsNativeError::typ().with_message("wrap returned no object"))?;
    scope.bind(&object, thing, Some((kind, key)));
    Ok(object.into())
}

/// `Module.imports(module)` as `[module, name, kind, ...]`, or
/// `Module.exports(module)` as `[name, kind, ...]`.
pub(crate) fn descriptions(compiled: &Compiled, imports: bool, context: &mut Context) -> JsValue {
    let kind = |ty: ExternType| match ty {
        ExternType::Func(_) => "function",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Global(_) => "global",
        ExternType::Tag(_) => "tag",
    };
    let mut list: Vec<JsValue> = Vec::new();
    if imports {
        for import in compiled.module.imports() {
            list.push(JsString::from(import.module()).into());
            list.push(JsString::from(import.name()).into());
            list.push(JsString::from(kind(import.ty())).into());
        }
    } else {
        for export in compiled.module.exports() {
            list.push(JsString::from(export.name()).into());
            list.push(JsString::from(kind(export.ty())).into());
        }
    }
    JsArray::from_iter(list, context).into()
}
