//! Errors of the WebAssembly namespace (the realm's thread): `CompileError`,
//! `LinkError` and `RuntimeError` objects, and what a failed call into wasm
//! becomes in JavaScript.
//!
//! A trap is a `RuntimeError` worded as Chromium words it (`unreachable`,
//! `memory access out of bounds`, …), followed by where in the wasm it happened:
//! ` (in wasm function $compute [3] at module offset 0x1f2)`. The error object is
//! created while the export's JavaScript caller is on the stack, so its location
//! is that call site. An exception thrown by a JavaScript import comes out
//! unchanged. Wasm that runs past the runaway deadline stops with an uncatchable
//! error, as a runaway JavaScript loop does.

use boa_engine::error::PanicError;
use boa_engine::{Context, JsError, JsNativeError, JsObject, JsString};
use wasmtime::{AsContextMut, Trap, WasmBacktrace};

use super::scope::{StoreData, WasmScope};

/// `new Class(message)` for one of the namespace's error classes.
pub(crate) fn new_error(class: &JsObject, message: &str, context: &mut Context) -> JsError {
    match class.construct(&[JsString::from(message).into()], None, context) {
        Ok(error) => JsError::from_opaque(error.into()),
        Err(error) => error,
    }
}

/// A `CompileError`.
pub(crate) fn compile(scope: &WasmScope, message: &str, context: &mut Context) -> JsError {
    new_error(&scope.js.compile_error, message, context)
}

/// A `LinkError`.
pub(crate) fn link(scope: &WasmScope, message: &str, context: &mut Context) -> JsError {
    new_error(&scope.js.link_error, message, context)
}

/// What a failed call into wasm (a call, an instantiation's start function, a
/// growth) becomes.
pub(crate) fn from_call(
    error: wasmtime::Error,
    scope: &WasmScope,
    store: &mut impl AsContextMut<Data = StoreData>,
    context: &mut Context,
) -> JsError {
    let mut store = store.as_context_mut();
    if let Some(thrown) = store.data_mut().thrown.take() {
        return thrown;
    }
    let refused = store.data_mut().limits.refused.take();
    let frame = error.downcast_ref::<WasmBacktrace>().map(describe_frame).unwrap_or_default();
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => JsError::from(PanicError::new(format!(
            "wasm code ran for more than {} s{frame} (runaway guard: the script was stopped)",
            scope.limits.run_seconds
        ))),
        Some(Trap::StackOverflow) => {
            JsNativeError::range().with_message(format!("Maximum call stack size exceeded{frame}")).into()
        }
        Some(Trap::AllocationTooLarge) | Some(Trap::OutOfFuel) => {
            JsNativeError::range().with_message(refused.unwrap_or_else(|| trap_text(error.downcast_ref()))).into()
        }
        Some(trap) => new_error(&scope.js.runtime_error, &format!("{}{frame}", trap_text(Some(trap))), context),
        None if refused.is_some() => JsNativeError::range().with_message(refused.unwrap_or_default()).into(),
        None => new_error(&scope.js.runtime_error, &format!("{}{frame}", first_line(&error)), context),
    }
}

/// Chromium's words for a trap.
fn trap_text(trap: Option<&Trap>) -> String {
    match trap {
        Some(Trap::UnreachableCodeReached) => "unreachable".into(),
        Some(Trap::MemoryOutOfBounds) => "memory access out of bounds".into(),
        Some(Trap::HeapMisaligned) => "operation does not support unaligned accesses".into(),
        Some(Trap::TableOutOfBounds) => "table index is out of bounds".into(),
        Some(Trap::IndirectCallToNull | Trap::BadSignature) => "null function or function signature mismatch".into(),
        Some(Trap::IntegerDivisionByZero) => "divide by zero".into(),
        Some(Trap::IntegerOverflow) => "divide result unrepresentable".into(),
        Some(Trap::BadConversionToInteger) => "float unrepresentable in integer range".into(),
        Some(Trap::NullReference) => "dereferencing a null pointer".into(),
        Some(Trap::ArrayOutOfBounds) => "array element access out of bounds".into(),
        Some(Trap::AllocationTooLarge) => "allocation too large".into(),
        Some(other) => other.to_string(),
        None => "trap".into(),
    }
}

/// ` (in wasm function $name [index] at module offset 0x…)` for the innermost frame.
fn describe_frame(trace: &WasmBacktrace) -> String {
    let Some(frame) = trace.frames().first() else { return String::new() };
    let name = frame.func_name().map(|n| format!("${n} ")).unwrap_or_default();
    let offset = frame.module_offset().map(|o| format!(" at module offset {o:#x}")).unwrap_or_default();
    format!(" (in wasm function {name}[{}]{offset})", frame.func_index())
}

/// The innermost message of an error chain.
fn first_line(error: &wasmtime::Error) -> String {
    error.chain().last().map(ToString::to_string).unwrap_or_else(|| error.to_string())
}
