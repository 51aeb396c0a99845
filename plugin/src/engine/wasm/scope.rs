//! One realm's WebAssembly state (the realm's thread): its wasmtime store, the
//! JavaScript objects that stand for wasm things, and the buffers over linear
//! memories.
//!
//! The store is made on first use (a realm that never touches `WebAssembly`
//! costs nothing) and holds every instance, memory, table and global the realm
//! creates, so that they can be linked to each other. Calls between JavaScript
//! and wasm reach it through [`with_store`]: from the outermost call through the
//! store's cell, from inside an import through the caller wasmtime lent it (see
//! [`crate::sys::reentry`]).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use boa_engine::object::builtins::JsArrayBuffer;
use boa_engine::{Context, JsError, JsObject, JsResult, JsValue};
use wasmtime::{AsContext, AsContextMut, Caller, Store, StoreContextMut};

use super::engine::{self, TickerGuard};
use super::limits::{Limits, WasmLimits};
use crate::sys::linear_memory::{self, Extent};
use crate::sys::reentry::{CallerSlot, ContextSlot};

thread_local! {
    /// Boa's context, parked by an exported function while wasm runs.
    pub(crate) static CONTEXT: ContextSlot = const { ContextSlot::new() };
    /// The store wasmtime lent an import, parked while its JavaScript runs.
    pub(crate) static CALLER: CallerSlot<StoreData> = const { CallerSlot::new() };
}

/// What the store carries besides wasm's own state.
pub(crate) struct StoreData {
    pub(crate) limits: Limits,
    /// The JavaScript functions behind host functions, by the index their
    /// closure captured (wasmtime's closures must be `Send`; these are not).
    pub(crate) callables: Vec<JsObject>,
    /// The values behind `externref`s, by the index the reference carries.
    pub(crate) externs: Vec<JsValue>,
    /// An exception a JavaScript import threw, on its way out through wasm.
    pub(crate) thrown: Option<JsError>,
}

/// The store and the ticker that advances its deadlines.
pub(crate) struct StoreCell {
    store: RefCell<Store<StoreData>>,
    _ticker: TickerGuard,
}

/// A memory that JavaScript holds a buffer of.
struct LiveBuffer {
    memory: wasmtime::Memory,
    buffer: JsArrayBuffer,
    extent: Extent,
}

/// The kinds of wasm things JavaScript sees as objects of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Function,
    Memory,
    Table,
    Global,
}

/// What `wasm.js` hands Rust when it is installed.
pub(crate) struct JsSide {
    /// `wrap(kind, handle)`: the Memory, Table or Global object for a handle.
    pub(crate) wrap: JsObject,
    pub(crate) compile_error: JsObject,
    pub(crate) link_error: JsObject,
    pub(crate) runtime_error: JsObject,
    /// `toList(value)`: `IterableToList`, for imports that return several values.
    pub(crate) to_list: JsObject,
    /// The realm's own `Math` functions, as they were before any script ran.
    pub(crate) math: Vec<(&'static str, JsObject)>,
}

/// One realm's WebAssembly.
pub(crate) struct WasmScope {
    pub(crate) js: JsSide,
    pub(crate) limits: WasmLimits,
    store: OnceCell<Rc<StoreCell>>,
    buffers: RefCell<Vec<LiveBuffer>>,
    /// The object JavaScript sees for each wasm thing, so that one thing is always
    /// one object (`exports.f === table.get(0)`).
    objects: RefCell<HashMap<(Kind, String), JsObject>>,
    /// The wasm thing behind each object of the namespace (modules, instances,
    /// memories, tables, globals, exported functions).
    things: RefCell<HashMap<JsObject, Thing>>,
}

/// What an object of the namespace stands for.
#[derive(Clone)]
pub(crate) enum Thing {
    Module(super::engine::Compiled),
    Function(wasmtime::Func),
    Memory(wasmtime::Memory),
    Table(wasmtime::Table),
    Global(wasmtime::Global),
}

impl WasmScope {
    pub(crate) fn new(js: JsSide, limits: WasmLimits) -> Self {
        Self {
            js,
            limits,
            store: OnceCell::new(),
            buffers: RefCell::default(),
            objects: RefCell::default(),
            things: RefCell::default(),
        }
    }

    /// The realm's scope (installed with the realm).
    pub(crate) fn of(context: &Context) -> JsResult<Rc<Self>> {
        context
            .get_data::<Rc<Self>>()
            .cloned()
            .ok_or_else(|| boa_engine::JsNativeError::typ().with_message("WebAssembly is not installed").into())
    }

    /// The store, made on first use.
    pub(crate) fn store(&self) -> &Rc<StoreCell> {
        self.store.get_or_init(|| {
            let data = StoreData {
                limits: Limits::new(&self.limits),
                callables: Vec::new(),
                externs: Vec::new(),
                thrown: None,
            };
            let mut store = Store::new(engine::engine(), data);
            store.limiter(|data| &mut data.limits);
            store.epoch_deadline_trap();
            store.set_epoch_deadline(self.limits.deadline_ticks(false));
            Rc::new(StoreCell { store: RefCell::new(store), _ticker: engine::ticker() })
        })
    }

    /// The object standing for a wasm thing, if JavaScript has one.
    pub(crate) fn object(&self, kind: Kind, key: &str) -> Option<JsObject> {
        self.objects.borrow().get(&(kind, key.to_owned())).cloned()
    }

    /// Binds `object` to the wasm thing it stands for; a wasm thing made in the
    /// store (`key`) is then always shown as this object.
    pub(crate) fn bind(&self, object: &JsObject, thing: Thing, key: Option<(Kind, String)>) {
        if let Some(key) = key {
            self.objects.borrow_mut().insert(key, object.clone());
        }
        self.things.borrow_mut().insert(object.clone(), thing);
    }

    /// What `object` stands for, if it is one of the namespace's objects.
    pub(crate) fn thing(&self, object: &JsObject) -> Option<Thing> {
        self.things.borrow().get(object).cloned()
    }

    /// The wasm function behind an exported function object.
    pub(crate) fn func_of(&self, object: &JsObject) -> Option<wasmtime::Func> {
        match self.thing(object)? {
            Thing::Function(func) => Some(func),
            _ => None,
        }
    }

    /// `IterableToList(value)`.
    pub(crate) fn to_list(&self, value: &JsValue, context: &mut Context) -> JsResult<Vec<JsValue>> {
        let list = self.js.to_list.call(&JsValue::undefined(), std::slice::from_ref(value), context)?;
        let list = list
            .as_object()
            .and_then(|o| boa_engine::object::builtins::JsArray::from_object(o).ok())
            .ok_or_else(|| boa_engine::JsNativeError::typ().with_message("not a list"))?;
        let length = list.length(context)?;
        (0..length).map(|i| list.get(i, context)).collect()
    }

    /// `memory.buffer`: the current buffer of `memory`, made if it has none.
    pub(crate) fn buffer(
        &self,
        memory: wasmtime::Memory,
        store: &mut StoreContextMut<'_, StoreData>,
        context: &mut Context,
    ) -> JsResult<JsArrayBuffer> {
        self.refresh(store);
        let id = identity(&memory);
        if let Some(live) = self.buffers.borrow().iter().find(|b| identity(&b.memory) == id) {
            return Ok(live.buffer.clone());
        }
        let owner = self.store().clone();
        let (buffer, extent) = linear_memory::buffer_over(&memory, &*store, owner, context)?;
        self.buffers.borrow_mut().push(LiveBuffer { memory, buffer: buffer.clone(), extent });
        Ok(buffer)
    }

    /// Detaches every buffer whose memory grew or moved since it was made. Called
    /// whenever wasm may have changed a memory and before JavaScript runs again:
    /// after every call into wasm, before every import runs JavaScript, after
    /// `grow()`.
    pub(crate) fn refresh(&self, store: &impl AsContext<Data = StoreData>) {
        let mut buffers = self.buffers.borrow_mut();
        if buffers.is_empty() {
            return;
        }
        buffers.retain(|live| {
            if Extent::of(&live.memory, store) == live.extent {
                return true;
            }
            // The key is ours: detaching cannot fail.
            let _ = live.buffer.detach(&linear_memory::detach_key());
            false
        });
    }

    /// Detaches the buffer of `memory`, if JavaScript has one (`grow()` always does).
    pub(crate) fn detach(&self, memory: wasmtime::Memory) {
        let id = identity(&memory);
        self.buffers.borrow_mut().retain(|live| {
            if identity(&live.memory) != id {
                return true;
            }
            let _ = live.buffer.detach(&linear_memory::detach_key());
            false
        });
    }

    /// Arms the store's runaway deadline for one entry into the script (see
    /// [`super::limits`]); nothing when the realm never used wasm.
    pub(crate) fn arm_deadline(&self, build: bool) {
        if let Some(cell) = self.store.get()
            && let Ok(mut store) = cell.store.try_borrow_mut()
        {
            store.set_epoch_deadline(self.limits.deadline_ticks(build));
        }
    }

    /// Lets go of everything JavaScript and wasm hold of each other, so that the
    /// realm's objects and the store can be freed: detaches the buffers, drops the
    /// objects and the host functions' JavaScript functions. The realm calls it
    /// before it drops its context.
    pub(crate) fn teardown(&self) {
        for live in self.buffers.borrow_mut().drain(..) {
            let _ = live.buffer.detach(&linear_memory::detach_key());
        }
        self.objects.borrow_mut().clear();
        self.things.borrow_mut().clear();
        if let Some(cell) = self.store.get()
            && let Ok(mut store) = cell.store.try_borrow_mut()
        {
            let data = store.data_mut();
            data.callables.clear();
            data.externs.clear();
            data.thrown = None;
        }
    }
}

/// The identity of a memory, table or global handle within its store.
///
/// wasmtime 48 keeps a handle's identity (its store instance and index) private
/// unless its `debug` feature is on; the handles' `Debug` form shows exactly those
/// fields, so it serves as the key (the version is pinned; a test checks that two
/// handles of one memory agree and two memories differ).
pub(crate) fn identity(handle: &impl std::fmt::Debug) -> String {
    format!("{handle:?}")
}

/// Runs `f` with the store: the caller an import lent (inside a call from wasm
/// into JavaScript), else the store itself.
pub(crate) fn with_store<R>(scope: &WasmScope, f: impl FnOnce(&mut StoreContextMut<'_, StoreData>) -> R) -> R {
    CALLER.with(|slot| {
        slot.take(|caller: Option<&mut Caller<'_, StoreData>>| match caller {
            Some(caller) => f(&mut caller.as_context_mut()),
            None => f(&mut scope.store().store.borrow_mut().as_context_mut()),
        })
    })
}
