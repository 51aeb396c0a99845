//! The native functions the realm's internal scripts call (`post`, `console`,
//! `entangle`, `transfer`, …), handed to them as one object. They run on the
//! realm's thread, inside calls into JavaScript, and reach the realm only
//! through its [`ScopeState`] in the context's host data.

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArray, JsArrayBuffer};
use boa_engine::property::Attribute;
use boa_engine::{Context, JsError, JsNativeError, JsObject, JsResult, JsValue, NativeFunction, js_string};

use super::realm::{Outgoing, ScopeState, locate, uncaught_text};
use crate::port::{Message, MovedPort, Pending, PortId, SCOPE_PORT};

/// The object of natives `lang.js`, `clone.js`, `dom.js` and `scope.js` receive.
pub(super) fn natives(context: &mut Context) -> JsObject {
    ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(native_console), js_string!("console"), 2)
        .function(NativeFunction::from_fn_ptr(native_post), js_string!("post"), 2)
        .function(NativeFunction::from_fn_ptr(native_close), js_string!("close"), 1)
        .function(NativeFunction::from_fn_ptr(native_report_error), js_string!("reportError"), 1)
        .function(NativeFunction::from_fn_ptr(native_sample_rate), js_string!("sampleRate"), 0)
        .function(NativeFunction::from_fn_ptr(native_current_frame), js_string!("currentFrame"), 0)
        .function(NativeFunction::from_fn_ptr(native_detach), js_string!("detach"), 1)
        .function(NativeFunction::from_fn_ptr(native_is_detached), js_string!("isDetached"), 1)
        .function(NativeFunction::from_fn_ptr(native_entangle), js_string!("entangle"), 0)
        .function(NativeFunction::from_fn_ptr(native_transfer), js_string!("transfer"), 3)
        .function(NativeFunction::from_fn_ptr(native_now), js_string!("now"), 0)
        .function(NativeFunction::from_fn_ptr(native_queued), js_string!("queued"), 1)
        .property(js_string!("globalPortId"), SCOPE_PORT, Attribute::READONLY)
        .build()
}

fn state(context: &Context) -> &ScopeState {
    context.get_data::<ScopeState>().expect("realm state is installed at creation")
}

fn arg_string(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<String> {
    Ok(args.get(index).cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped())
}

fn arg_port(args: &[JsValue], context: &mut Context) -> JsResult<PortId> {
    args.first().cloned().unwrap_or_default().to_u32(context)
}

fn native_console(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let level = arg_string(args, 0, context)?;
    let text = arg_string(args, 1, context)?;
    state(context).outbox.borrow_mut().push(Outgoing::Console { level, text });
    Ok(JsValue::undefined())
}

/// `post(from, wire, portIds, moved)`: a message leaves a realm port.
fn native_post(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let from = arg_port(args, context)?;
    let json = |index: usize, context: &mut Context| -> JsResult<serde_json::Value> {
        let mut value = args.get(index).cloned().unwrap_or_default().to_json(context)?.unwrap_or_default();
        crate::port::wire::tidy_numbers(&mut value);
        Ok(value)
    };
    let data = json(1, context)?;
    let ports = port_ids(&json(2, context)?);
    let moved = json(3, context)?
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| MovedPort {
            id: entry["id"].as_u64().unwrap_or(u64::MAX) as PortId,
            pending: entry["pending"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Pending { data: p["wire"].clone(), ports: port_ids(&p["ports"]) })
                .collect(),
            received: 0,
        })
        .collect();
    state(context).outbox.borrow_mut().push(Outgoing::Message { from, message: Message { data, ports, moved } });
    Ok(JsValue::undefined())
}

fn port_ids(value: &serde_json::Value) -> Vec<PortId> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_u64().and_then(|v| PortId::try_from(v).ok())).collect()
}

/// `entangle()`: two fresh port ids for a `MessageChannel`.
fn native_entangle(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let state = state(context);
    let a = state.next_port.get();
    state.next_port.set(a + 2);
    state.outbox.borrow_mut().push(Outgoing::Entangle { a, b: a + 1 });
    Ok(JsArray::from_iter([JsValue::from(a), JsValue::from(a + 1)], context).into())
}

fn native_close(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let port = arg_port(args, context)?;
    state(context).outbox.borrow_mut().push(Outgoing::Closed { port });
    Ok(JsValue::undefined())
}

fn native_report_error(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let error = JsError::from_opaque(args.first().cloned().unwrap_or_default());
    let located = locate(&error, context);
    state(context)
        .outbox
        .borrow_mut()
        .push(Outgoing::Console { level: "error".to_owned(), text: uncaught_text(&located) });
    Ok(JsValue::undefined())
}

fn native_sample_rate(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    Ok(state(context).sample_rate.into())
}

fn native_current_frame(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    Ok((state(context).current_frame.get() as f64).into())
}

fn array_buffer_arg(args: &[JsValue]) -> JsResult<JsArrayBuffer> {
    let object = args
        .first()
        .and_then(JsValue::as_object)
        .ok_or_else(|| JsNativeError::typ().with_message("not an ArrayBuffer"))?;
    JsArrayBuffer::from_object(object)
}

/// Detaches an ArrayBuffer that is transferred by `postMessage`.
fn native_detach(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    array_buffer_arg(args)?.detach(&JsValue::undefined())?;
    Ok(JsValue::undefined())
}

/// `transfer(buffer, newLength, maxByteLength)`: moves the buffer's bytes into a
/// new ArrayBuffer of `newLength` bytes (resizable up to `maxByteLength` when given)
/// and detaches the old one. `lang.js` has done the spec's checks.
fn native_transfer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let buffer = array_buffer_arg(args)?;
    let length = args.get(1).cloned().unwrap_or_default().to_index(context)?;
    let max = match args.get(2) {
        Some(value) if !value.is_undefined() => Some(value.to_index(context)?),
        _ => None,
    };
    let limit = context.host_hooks().max_buffer_size(context);
    let length = usize::try_from(length)
        .ok()
        .filter(|&n| n as u64 <= limit)
        .ok_or_else(|| JsNativeError::range().with_message("Array buffer allocation failed"))?;
    let mut block = buffer.detach(&JsValue::undefined())?;
    block.resize(length, 0);
    let moved = JsArrayBuffer::from_byte_block(block, context)?;
    let moved = match max {
        Some(max) => moved.with_max_byte_length(max),
        None => moved,
    };
    Ok(moved.into())
}

/// `queued(count)`: how many messages the realm's ports hold now.
fn native_queued(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let count = args.first().cloned().unwrap_or_default().to_u32(context)?;
    state(context).queued.set(count);
    Ok(JsValue::undefined())
}

/// Milliseconds since the realm was made (`Event.timeStamp`).
fn native_now(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    Ok((state(context).created.elapsed().as_secs_f64() * 1e3).into())
}

fn native_is_detached(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(array_buffer_arg(args)?.data().is_none().into())
}
