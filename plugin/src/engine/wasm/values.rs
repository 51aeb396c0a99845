//! Values between JavaScript and WebAssembly (the realm's thread): the JS API's
//! `ToWebAssemblyValue` and `ToJSValue`, and its value type names.
//!
//! A conversion from JavaScript may run the script (`valueOf`), which may call
//! wasm again, so it happens in two steps: [`from_js`] does everything that can
//! run JavaScript and needs no store; [`Pending::into_val`] then needs the store
//! and runs nothing.

use boa_engine::{Context, JsBigInt, JsNativeError, JsResult, JsValue};
use wasmtime::{AsContext, AsContextMut, ExternRef, Func, Ref, RefType, Rooted, Val, ValType};

use super::functions;
use super::scope::{StoreData, WasmScope};

/// The JS API's name of a value type (`Global`, `Table` descriptors).
pub(crate) fn parse_type(name: &str) -> JsResult<ValType> {
    Ok(match name {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "anyfunc" | "funcref" => ValType::FUNCREF,
        "externref" => ValType::EXTERNREF,
        other => {
            return Err(JsNativeError::typ().with_message(format!("'{other}' is not a WebAssembly value type")).into());
        }
    })
}

/// A value converted from JavaScript that still needs the store.
pub(crate) enum Pending {
    /// A number, ready.
    Ready(Val),
    /// A function reference (`None`: null).
    Func(Option<Func>),
    /// An `externref` to a JavaScript value (`None`: null).
    Extern(Option<JsValue>),
}

/// `ToWebAssemblyValue(value, ty)`, the part that may run JavaScript.
pub(crate) fn from_js(value: &JsValue, ty: &ValType, scope: &WasmScope, context: &mut Context) -> JsResult<Pending> {
    Ok(match ty {
        ValType::I32 => Pending::Ready(Val::I32(value.to_i32(context)?)),
        ValType::I64 => Pending::Ready(Val::I64(value.to_big_int64(context)?)),
        ValType::F32 => Pending::Ready(Val::F32((value.to_number(context)? as f32).to_bits())),
        ValType::F64 => Pending::Ready(Val::F64(value.to_number(context)?.to_bits())),
        ValType::V128 => {
            return Err(JsNativeError::typ().with_message("v128 values cannot cross into JavaScript").into());
        }
        ValType::Ref(r) if is_func(r) => {
            if value.is_null() {
                if !r.is_nullable() {
                    return Err(JsNativeError::typ().with_message("null is not a non-nullable funcref").into());
                }
                Pending::Func(None)
            } else {
                let func = value.as_object().and_then(|o| scope.func_of(&o)).ok_or_else(|| {
                    JsNativeError::typ().with_message("a funcref must be null or a function exported by WebAssembly")
                })?;
                Pending::Func(Some(func))
            }
        }
        ValType::Ref(r) if is_extern(r) => {
            if value.is_null() && !r.is_nullable() {
                return Err(JsNativeError::typ().with_message("null is not a non-nullable externref").into());
            }
            Pending::Extern((!value.is_null()).then(|| value.clone()))
        }
        ValType::Ref(_) => {
            return Err(JsNativeError::typ().with_message("this reference type cannot cross into JavaScript").into());
        }
    })
}

fn is_func(r: &RefType) -> bool {
    r.heap_type().top().is_func()
}

fn is_extern(r: &RefType) -> bool {
    r.heap_type().top().is_extern()
}

impl Pending {
    /// The wasm value (makes the `externref`).
    pub(crate) fn into_val(self, store: &mut impl AsContextMut<Data = StoreData>) -> JsResult<Val> {
        Ok(match self {
            Self::Ready(val) => val,
            Self::Func(func) => Val::FuncRef(func),
            Self::Extern(None) => Val::ExternRef(None),
            Self::Extern(Some(value)) => {
                let key = {
                    let mut data = store.as_context_mut();
                    let externs = &mut data.data_mut().externs;
                    externs.push(value);
                    (externs.len() - 1) as u32
                };
                let reference = ExternRef::new(&mut *store, key)
                    .map_err(|e| JsNativeError::range().with_message(format!("cannot make an externref: {e}")))?;
                Val::ExternRef(Some(reference))
            }
        })
    }

    /// As a table element.
    pub(crate) fn into_ref(self, store: &mut impl AsContextMut<Data = StoreData>) -> JsResult<Ref> {
        match self.into_val(store)? {
            Val::FuncRef(func) => Ok(Ref::Func(func)),
            Val::ExternRef(reference) => Ok(Ref::Extern(reference)),
            _ => Err(JsNativeError::typ().with_message("a table holds references").into()),
        }
    }
}

/// `ToJSValue(val)`.
pub(crate) fn to_js(
    val: &Val,
    scope: &WasmScope,
    store: &mut impl AsContextMut<Data = StoreData>,
    context: &mut Context,
) -> JsResult<JsValue> {
    Ok(match val {
        Val::I32(v) => JsValue::from(*v),
        Val::I64(v) => JsBigInt::from(*v).into(),
        Val::F32(bits) => JsValue::from(f64::from(f32::from_bits(*bits))),
        Val::F64(bits) => JsValue::from(f64::from_bits(*bits)),
        Val::V128(_) => {
            return Err(JsNativeError::typ().with_message("v128 values cannot cross into JavaScript").into());
        }
        Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) | Val::ContRef(None) => {
            JsValue::null()
        }
        Val::FuncRef(Some(func)) => functions::exported(scope, *func, None, store, context)?.into(),
        Val::ExternRef(Some(reference)) => extern_value(reference, store),
        Val::AnyRef(Some(_)) | Val::ExnRef(Some(_)) | Val::ContRef(Some(_)) => {
            return Err(JsNativeError::typ().with_message("this reference type cannot cross into JavaScript").into());
        }
    })
}

/// The JavaScript value an `externref` carries.
fn extern_value(reference: &Rooted<ExternRef>, store: &mut impl AsContextMut<Data = StoreData>) -> JsValue {
    let key = reference.data(store.as_context()).ok().flatten().and_then(|data| data.downcast_ref::<u32>().copied());
    match key {
        Some(key) => store.as_context_mut().data().externs.get(key as usize).cloned().unwrap_or_default(),
        None => JsValue::undefined(),
    }
}

/// The default value of a type (`Table` without a value, `Global` without one).
pub(crate) fn default_value(ty: &ValType) -> JsValue {
    match ty {
        ValType::Ref(r) if is_func(r) => JsValue::null(),
        ValType::Ref(_) => JsValue::undefined(),
        ValType::I64 => JsBigInt::from(0i64).into(),
        _ => JsValue::from(0),
    }
}
