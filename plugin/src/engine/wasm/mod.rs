//! WebAssembly in the worklet realm: the WebAssembly JavaScript Interface's
//! `WebAssembly` namespace, on wasmtime with Cranelift (the realm's thread; the
//! engine and its compile cache are shared by the process).
//!
//! * `js/wasm.js` — the namespace and its classes, WebIDL conversions, promises.
//! * [`natives`] — what those classes call: compile, instantiate, memories,
//!   tables, globals.
//! * [`scope`] — one realm's store and the objects standing for wasm things;
//!   [`instantiate`] — reading the import object, the exports.
//! * [`functions`] — exported functions (the hot path) and imports, with
//!   [`math`] binding the realm's own `Math` functions to native code.
//! * [`values`] — value conversions; [`errors`] — CompileError, LinkError,
//!   RuntimeError, traps.
//! * [`engine`] — the process's engine, compile cache and epoch ticker;
//!   [`disk_cache`] — compiled code kept for later engine processes;
//!   [`limits`] — memory caps and the runaway deadline; [`sections`] — custom
//!   sections and export indices read from the bytes.
//!
//! The `unsafe` this needs sits in `sys`: `linear_memory` (the buffer over a
//! linear memory), `reentry` (the borrows that calls between JavaScript and wasm
//! hand down) and `compiled_code` (machine code loaded from the cache).

pub mod disk_cache;
pub mod engine;
mod errors;
mod functions;
mod instantiate;
pub mod limits;
mod math;
mod natives;
mod scope;
mod sections;
mod values;

use std::rc::Rc;

use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsString, JsValue, js_string};

pub use limits::WasmLimits;
pub(crate) use scope::WasmScope;

/// The natives `wasm.js` is called with.
pub(crate) fn natives(context: &mut Context) -> JsObject {
    natives::natives(context)
}

/// Keeps what `wasm.js` returned (its `wrap`, error classes and `toList`) and the
/// realm's `Math` functions in the realm's [`WasmScope`].
pub(crate) fn install(installed: &JsValue, limits: WasmLimits, context: &mut Context) -> JsResult<()> {
    let object = installed.as_object().ok_or_else(|| JsNativeError::typ().with_message("wasm.js returned nothing"))?;
    let function = |name: &str, context: &mut Context| -> JsResult<JsObject> {
        object
            .get(JsString::from(name), context)?
            .as_object()
            .filter(JsObject::is_callable)
            .ok_or_else(|| JsNativeError::typ().with_message(format!("wasm.js: {name} is missing")).into())
    };
    let global = context.global_object();
    let math_object = global.get(js_string!("Math"), context)?;
    let math_object = math_object.as_object().ok_or_else(|| JsNativeError::typ().with_message("no Math"))?;
    let mut math = Vec::with_capacity(math::FUNCTIONS.len());
    for &(name, _) in math::FUNCTIONS {
        if let Some(f) = math_object.get(JsString::from(name), context)?.as_object() {
            math.push((name, f.clone()));
        }
    }
    let js = scope::JsSide {
        wrap: function("wrap", context)?,
        compile_error: function("compileError", context)?,
        link_error: function("linkError", context)?,
        runtime_error: function("runtimeError", context)?,
        to_list: function("toList", context)?,
        math,
    };
    context.insert_data(Rc::new(WasmScope::new(js, limits)));
    Ok(())
}

/// Arms the realm's wasm deadline for one entry into the script.
pub(crate) fn arm_deadline(context: &Context, build: bool) {
    if let Some(scope) = context.get_data::<Rc<WasmScope>>() {
        scope.arm_deadline(build);
    }
}

/// Lets go of what JavaScript and wasm hold of each other (the realm is going away).
pub(crate) fn teardown(context: &Context) {
    if let Some(scope) = context.get_data::<Rc<WasmScope>>() {
        scope.teardown();
    }
}
