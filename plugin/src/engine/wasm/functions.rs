//! Functions across the boundary (the realm's thread): wasm functions as
//! JavaScript sees them (the JS API's "Exported Functions") and JavaScript
//! functions as wasm sees them (host functions).
//!
//! Calling an export is the hot path (a processor calls its DSP once per
//! quantum): arguments are converted into a stack array, the call goes straight
//! to wasmtime, and nothing is allocated unless a value is a reference.

use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsValue, NativeFunction};
use boa_gc::{Finalize, Trace};
use wasmtime::{AsContextMut, Caller, Func, FuncType, Val, ValType};

use super::errors;
use super::math;
use super::scope::{CALLER, CONTEXT, Kind, StoreData, Thing, WasmScope, with_store};
use super::values::{self, Pending};

/// Parameters (and results) converted without allocating; more spill to the heap.
const INLINE_VALUES: usize = 16;

/// What an exported function object carries.
#[derive(Trace, Finalize)]
struct Export {
    #[unsafe_ignore_trace]
    func: Func,
    #[unsafe_ignore_trace]
    params: Box<[ValType]>,
    #[unsafe_ignore_trace]
    results: Box<[ValType]>,
}

/// The function object for `func`, made once per function (`index`: its index in
/// its module, the object's `name`).
pub(crate) fn exported(
    scope: &WasmScope,
    func: Func,
    index: Option<u32>,
    store: &mut impl AsContextMut<Data = StoreData>,
    context: &mut Context,
) -> JsResult<JsObject> {
    let key = format!("{:p}", func.to_raw(&mut *store));
    if let Some(object) = scope.object(Kind::Function, &key) {
        return Ok(object);
    }
    let ty = func.ty(&*store);
    let export = Export { func, params: ty.params().collect(), results: ty.results().collect() };
    let length = export.params.len();
    let native = NativeFunction::from_copy_closure_with_captures(call, export);
    let name = index.map(|i| i.to_string()).unwrap_or_default();
    let object: JsObject =
        FunctionObjectBuilder::new(context.realm(), native).name(name).length(length).constructor(false).build().into();
    scope.bind(&object, Thing::Function(func), Some((Kind::Function, key)));
    Ok(object)
}

/// Calling an exported function from JavaScript.
fn call(_: &JsValue, args: &[JsValue], export: &Export, context: &mut Context) -> JsResult<JsValue> {
    let scope = WasmScope::of(context)?;
    // Everything that may run JavaScript (valueOf) happens before the store is taken.
    let mut pending: smallvec::SmallVec<[Pending; INLINE_VALUES]> = smallvec::SmallVec::new();
    for (index, ty) in export.params.iter().enumerate() {
        let arg = args.get(index).cloned().unwrap_or_default();
        pending.push(values::from_js(&arg, ty, &scope, context)?);
    }
    with_store(&scope, |store| {
        let mut params: smallvec::SmallVec<[Val; INLINE_VALUES]> = smallvec::SmallVec::new();
        for value in pending {
            params.push(value.into_val(store)?);
        }
        let mut results: smallvec::SmallVec<[Val; INLINE_VALUES]> =
            smallvec::smallvec![Val::I32(0); export.results.len()];
        let called = CONTEXT.with(|slot| slot.enter(context, || export.func.call(&mut *store, &params, &mut results)));
        scope.refresh(&*store);
        if let Err(error) = called {
            return Err(errors::from_call(error, &scope, store, context));
        }
        match results.as_slice() {
            [] => Ok(JsValue::undefined()),
            [one] => values::to_js(one, &scope, store, context),
            many => {
                let mut list = Vec::with_capacity(many.len());
                for value in many {
                    list.push(values::to_js(value, &scope, store, context)?);
                }
                Ok(boa_engine::object::builtins::JsArray::from_iter(list, context).into())
            }
        }
    })
}

/// A host function that calls `callable` (a JavaScript function the import object
/// named), or a native one when it is the realm's own `Math` function.
pub(crate) fn host(
    scope: &WasmScope,
    callable: JsObject,
    ty: FuncType,
    store: &mut impl AsContextMut<Data = StoreData>,
) -> Func {
    let params: Vec<ValType> = ty.params().collect();
    let results: Vec<ValType> = ty.results().collect();
    let math = scope
        .js
        .math
        .iter()
        .find(|(_, f)| JsObject::equals(f, &callable))
        .and_then(|(name, _)| math::FUNCTIONS.iter().find(|(n, _)| n == name))
        .map(|&(_, f)| f);
    if let Some(typed) = math.and_then(|f| math::typed(f, &params, &results, &mut *store)) {
        return typed;
    }
    if let Some(native) = math.and_then(|f| math::bind(f, &params, &results)) {
        return Func::new(&mut *store, ty, move |_, args, out| {
            native(args, out);
            Ok(())
        });
    }
    let index = {
        let mut store = store.as_context_mut();
        let callables = &mut store.data_mut().callables;
        callables.push(callable);
        callables.len() - 1
    };
    Func::new(&mut *store, ty, move |mut caller: Caller<'_, StoreData>, args: &[Val], out: &mut [Val]| {
        call_javascript(index, &mut caller, args, out, &params, &results)
    })
}

/// A wasm call of a JavaScript import: converts the arguments, runs the function
/// with the context the exported function parked, converts what it returns. An
/// exception it throws is kept in the store and comes out of the outer call
/// unchanged.
fn call_javascript(
    index: usize,
    caller: &mut Caller<'_, StoreData>,
    args: &[Val],
    out: &mut [Val],
    params: &[ValType],
    results: &[ValType],
) -> wasmtime::Result<()> {
    let callable = caller.data().callables[index].clone();
    let outcome = CONTEXT.with(|slot| {
        slot.take(|context| -> JsResult<()> {
            let context = context.ok_or_else(|| {
                JsNativeError::typ().with_message("a JavaScript import was called with no script running")
            })?;
            let scope = WasmScope::of(context)?;
            scope.refresh(&*caller);
            let mut values = Vec::with_capacity(args.len());
            for (arg, _) in args.iter().zip(params) {
                values.push(values::to_js(arg, &scope, caller, context)?);
            }
            let returned = CALLER
                .with(|parked| parked.enter(caller, || callable.call(&JsValue::undefined(), &values, context)))?;
            let pending = match results {
                [] => Vec::new(),
                [ty] => vec![values::from_js(&returned, ty, &scope, context)?],
                many => {
                    let list = scope.to_list(&returned, context)?;
                    if list.len() != many.len() {
                        return Err(JsNativeError::typ()
                            .with_message(format!(
                                "a JavaScript import returned {} values where wasm expects {}",
                                list.len(),
                                many.len()
                            ))
                            .into());
                    }
                    let mut pending = Vec::with_capacity(many.len());
                    for (value, ty) in list.iter().zip(many) {
                        pending.push(values::from_js(value, ty, &scope, context)?);
                    }
                    pending
                }
            };
            for (slot, value) in out.iter_mut().zip(pending) {
                *slot = value.into_val(caller)?;
            }
            Ok(())
        })
    });
    outcome.map_err(|error| {
        caller.data_mut().thrown = Some(error);
        wasmtime::Error::msg("a JavaScript import threw")
    })
}
