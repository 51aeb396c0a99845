//! The worklet realm: one Boa [`Context`] set up as an `AudioWorkletGlobalScope`.
//!
//! Boa's garbage collector is thread-local: a [`Realm`] is created, used and dropped
//! on one thread (the render thread in the plugin, the caller's thread offline). It
//! is deliberately `!Send`.
//!
//! The realm evaluates two internal scripts (`js/clone.js`, `js/scope.js`) that
//! define the Web Audio globals and return an internals object; Rust keeps handles
//! to its functions. What the script side sends out (port messages, console lines)
//! lands, through the natives of `scope_natives.rs`, in a bounded [`Outbox`] that
//! the owner drains after every entry into JS.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use boa_engine::context::InterruptHandle;
use boa_engine::object::builtins::JsArray;
use boa_engine::{Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, Script, Source};

use super::error::ScriptError;
use super::jobs::{Checkpoint, Hooks, Jobs, MICROTASK_BUDGET};
use super::modules::ModuleSet;
use crate::port::router::RealmInbox;
use crate::port::{FIRST_CHANNEL_PORT, Message, PortId};

/// How many outgoing items the outbox holds before it drops and counts.
///
/// The owner drains it after every quantum; 4096 is far more than a processor can
/// sensibly post in one quantum, and it bounds memory when one posts in a loop.
pub const OUTBOX_CAPACITY: usize = 4096;

/// Loop iterations one call frame may run before it is stopped (runaway guard).
///
/// A processor's `process()` loops over 128 frames per channel; even a heavy
/// constructor that fills a ten-second table stays below one million. Twenty
/// million stops `while (true) {}` in about a second at Boa's speed.
pub const DEFAULT_LOOP_LIMIT: u64 = 20_000_000;
/// Loop iterations one entry into JavaScript may run over every function it calls
/// (runaway guard for a loop that calls a function that loops, which the
/// per-frame limit bounds only by the product of the two): one `process()` call,
/// one message task, one microtask checkpoint. As much as one frame may run.
pub const DEFAULT_LOOP_BUDGET: u64 = DEFAULT_LOOP_LIMIT;
/// How many times [`RealmConfig::loop_budget`] loading a module and constructing
/// the processor may each run: they fill tables once, and are built off the
/// audio path, so they get the time a build has (about five seconds at Boa's
/// speed, the engine process's deadline).
pub const BUILD_BUDGET_FACTOR: u64 = 5;
/// Nested JavaScript calls before a `RangeError` (runaway recursion guard).
pub const DEFAULT_RECURSION_LIMIT: usize = 400;

/// Something the script side did that the router must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// `port.postMessage(...)` on the realm port `from`.
    Message {
        /// The sending port.
        from: PortId,
        /// The message and the ports it moves.
        message: Message,
    },
    /// `new MessageChannel()` entangled these two new realm ports.
    Entangle {
        /// `port1`.
        a: PortId,
        /// `port2`.
        b: PortId,
    },
    /// `console.*`, or an exception reported from an event listener.
    Console {
        /// `log`, `info`, `warn`, `error` or `debug`.
        level: String,
        /// The formatted text.
        text: String,
    },
    /// The port with this id was closed from the script side.
    Closed {
        /// The closed port.
        port: PortId,
    },
}

/// The bounded queue of [`Outgoing`] items (drops and counts when full).
#[derive(Debug, Default)]
pub struct Outbox {
    items: VecDeque<Outgoing>,
    dropped: u64,
}

impl Outbox {
    /// Queues `item`, or drops and counts it when full.
    pub(super) fn push(&mut self, item: Outgoing) {
        if self.items.len() >= OUTBOX_CAPACITY {
            self.dropped += 1;
        } else {
            self.items.push_back(item);
        }
    }
}

/// Per-realm state the native functions read, stored in the context's host data.
#[derive(Debug)]
pub(crate) struct ScopeState {
    pub(super) sample_rate: f64,
    pub(super) current_frame: Cell<u64>,
    pub(super) outbox: RefCell<Outbox>,
    pub(super) next_port: Cell<PortId>,
    pub(super) created: std::time::Instant,
    /// Messages queued on the realm's ports (`scope.js` keeps it current).
    pub(super) queued: Cell<u32>,
}

/// Limits and facts fixed when a realm is created.
#[derive(Debug, Clone)]
pub struct RealmConfig {
    /// The context's sample rate in Hz.
    pub sample_rate: f64,
    /// Folders that `import` may read module files from; none allows only
    /// in-memory sources.
    pub module_roots: Vec<PathBuf>,
    /// Runaway guard: loop iterations per call frame.
    pub loop_limit: u64,
    /// Runaway guard: loop iterations per entry into JavaScript, over all the
    /// calls it makes (see [`DEFAULT_LOOP_BUDGET`]).
    pub loop_budget: u64,
    /// Runaway guard: nested calls.
    pub recursion_limit: usize,
    /// What the realm's WebAssembly may use.
    pub wasm: super::wasm::WasmLimits,
    /// Stops the realm's JavaScript from another thread (a watchdog): the code
    /// running then throws an uncatchable `RangeError` at its next loop iteration
    /// or call, located there. `None`: only the realm's own thread holds one.
    pub interrupt: Option<InterruptHandle>,
}

impl RealmConfig {
    /// Defaults for a sample rate.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            module_roots: Vec::new(),
            loop_limit: DEFAULT_LOOP_LIMIT,
            loop_budget: DEFAULT_LOOP_BUDGET,
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            wasm: super::wasm::WasmLimits::default(),
            interrupt: None,
        }
    }
}

/// Handles to the functions of the internals object returned by `scope.js`.
struct Internals {
    describe: JsObject,
    construct: JsObject,
    enqueue: JsObject,
    adopt: JsObject,
    run_task: JsObject,
    frozen_array: JsObject,
    parameter_object: JsObject,
}

/// One `AudioWorkletGlobalScope`. Not `Send`: it lives on the thread that made it.
pub struct Realm {
    context: Context,
    internals: Internals,
    modules: Rc<ModuleSet>,
    /// An error that must stop the processor (a runaway microtask chain).
    fatal: Option<ScriptError>,
    /// Loop iterations per entry into JavaScript ([`RealmConfig::loop_budget`]).
    loop_budget: u64,
}

impl Realm {
    /// Builds the context, installs the natives and evaluates the internal scripts.
    pub fn new(config: &RealmConfig) -> Result<Self, ScriptError> {
        let modules = Rc::new(ModuleSet::new(&config.module_roots).map_err(|e| ScriptError::new("Error", e))?);
        let jobs = Rc::new(Jobs::default());
        let mut context = Context::builder()
            .module_loader(modules.clone())
            .host_hooks(Rc::new(Hooks::new(jobs.clone())))
            .job_executor(jobs)
            .build()
            .map_err(|e| ScriptError::new("Error", e.to_string()))?;
        if let Some(handle) = &config.interrupt {
            context.set_interrupt_handle(handle.clone());
        }
        let limits = context.runtime_limits_mut();
        limits.set_loop_iteration_limit(config.loop_limit);
        limits.set_recursion_limit(config.recursion_limit);
        context.insert_data(ScopeState {
            sample_rate: config.sample_rate,
            current_frame: Cell::new(0),
            outbox: RefCell::new(Outbox::default()),
            next_port: Cell::new(FIRST_CHANNEL_PORT),
            created: std::time::Instant::now(),
            queued: Cell::new(0),
        });
        let internals = install(&mut context, config.wasm).map_err(|e| {
            let located = ScriptError::from_js(&e, Some("worklet:scope.js"), &mut context);
            ScriptError::new("InternalError", located.to_string())
        })?;
        for module in crate::library::FACTORY_MODULES {
            modules.provide_source(module.file, module.source);
        }
        Ok(Self { context, internals, modules, fatal: None, loop_budget: config.loop_budget })
    }

    /// The Boa context (for the engine's own modules).
    pub(crate) fn context(&mut self) -> &mut Context {
        &mut self.context
    }

    /// Runs `entry`, one entry into the script's code, with the loop budget armed:
    /// every loop iteration in it and in everything it calls spends one, and a
    /// spent budget stops it with an uncatchable `RangeError`; wasm it calls gets
    /// the matching deadline (`wasm::limits`). The engine's own JavaScript runs
    /// without a budget.
    pub(crate) fn budgeted<R>(&mut self, build: bool, entry: impl FnOnce(&mut Context) -> R) -> R {
        let budget = if build { self.loop_budget.saturating_mul(BUILD_BUDGET_FACTOR) } else { self.loop_budget };
        self.context.set_loop_iteration_budget(budget);
        super::wasm::arm_deadline(&self.context, build);
        let result = entry(&mut self.context);
        self.context.set_loop_iteration_budget(u64::MAX);
        result
    }

    /// The context's sample rate.
    pub fn sample_rate(&self) -> f64 {
        self.state().sample_rate
    }

    /// Sets `currentFrame` (and so `currentTime`) for what runs next.
    pub fn set_current_frame(&mut self, frame: u64) {
        self.state().current_frame.set(frame);
    }

    /// The current value of `currentFrame`.
    pub fn current_frame(&self) -> u64 {
        self.state().current_frame.get()
    }

    fn state(&self) -> &ScopeState {
        self.context.get_data::<ScopeState>().expect("realm state is installed at creation")
    }

    /// Takes everything the script side sent since the last call.
    pub fn drain_outbox(&mut self, into: &mut Vec<Outgoing>) {
        into.extend(self.state().outbox.borrow_mut().items.drain(..));
    }

    /// How many outgoing items were dropped because the outbox was full since
    /// the last call.
    pub fn take_outbox_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.state().outbox.borrow_mut().dropped)
    }

    /// The registered processors and their normalized parameter descriptors, as JSON.
    pub fn describe(&mut self) -> Result<serde_json::Value, ScriptError> {
        let value = self.call(&self.internals.describe.clone(), &[])?;
        self.json_of(&value)
    }

    /// Runs `new Processor(options)` with a fresh port of id `port_id`.
    pub(crate) fn construct(&mut self, name: &str, options: &serde_json::Value, port_id: PortId) -> JsResult<JsObject> {
        let options = JsValue::from_json(options, &mut self.context)?;
        let args = [JsString::from(name).into(), options, port_id.into()];
        let construct = self.internals.construct.clone();
        let instance = self.budgeted(true, |context| construct.call(&JsValue::undefined(), &args, context))?;
        instance.as_object().ok_or_else(|| JsNativeError::typ().with_message("processor is not an object").into())
    }

    /// Queues a message (wire format) carrying `ports` for the realm port `port`.
    /// Returns `false` when the port does not exist, is closed, or its queue is
    /// full (the message is dropped).
    pub fn enqueue_message(&mut self, port: PortId, wire: &serde_json::Value, ports: &[PortId]) -> bool {
        let Ok(value) = JsValue::from_json(wire, &mut self.context) else { return false };
        let ports = JsArray::from_iter(ports.iter().map(|&p| JsValue::from(p)), &mut self.context);
        self.call(&self.internals.enqueue.clone(), &[port.into(), value, ports.into()]).is_ok_and(|v| v.to_boolean())
    }

    /// Creates the realm's object for a port that was transferred in.
    pub fn adopt_port(&mut self, port: PortId) {
        let _ = self.call(&self.internals.adopt.clone(), &[port.into()]);
    }

    /// Runs the oldest deliverable message task and then a microtask checkpoint.
    /// Returns `false` when no task was ready (at once, without entering
    /// JavaScript, when no port has a message queued).
    pub fn run_one_task(&mut self) -> bool {
        if self.state().queued.get() == 0 {
            return false;
        }
        let run_task = self.internals.run_task.clone();
        let ran = self
            .budgeted(false, |context| run_task.call(&JsValue::undefined(), &[], context))
            .map(|v| v.to_boolean())
            .map_err(|e| self.error(&e));
        self.run_microtasks();
        match ran {
            Ok(ran) => ran,
            Err(error) => {
                self.report_uncaught(&error);
                true
            }
        }
    }

    /// Performs a microtask checkpoint (runs all queued promise jobs), then
    /// reports the rejections that are still unhandled.
    pub fn run_microtasks(&mut self) {
        match self.budgeted(false, Jobs::checkpoint) {
            Checkpoint::Drained => {}
            Checkpoint::Failed(error) => {
                let error = self.error(&error);
                self.report_uncaught(&error);
            }
            Checkpoint::Runaway => {
                let message = format!(
                    "the microtask queue did not drain after {MICROTASK_BUDGET} jobs \
                     (runaway guard: the pending microtasks were dropped)"
                );
                self.fatal = Some(ScriptError::new("RangeError", message));
            }
        }
        self.report_rejections();
    }

    /// The error that must stop the processor, raised since the last call.
    pub(crate) fn take_fatal(&mut self) -> Option<ScriptError> {
        self.fatal.take()
    }

    /// "Uncaught (in promise) ..." for every rejection the last checkpoint left
    /// unhandled, as a browser logs them.
    fn report_rejections(&mut self) {
        let (reasons, more) = Jobs::take_unhandled(&mut self.context);
        for reason in reasons {
            let text = rejection_text(&reason, &mut self.context);
            self.state().outbox.borrow_mut().push(Outgoing::Console { level: "error".to_owned(), text });
        }
        if more > 0 {
            let text = format!("Uncaught (in promise): {more} more unhandled rejections");
            self.state().outbox.borrow_mut().push(Outgoing::Console { level: "error".to_owned(), text });
        }
    }

    /// `Object.freeze([...items])`.
    pub(crate) fn frozen_array(&mut self, items: Vec<JsValue>) -> JsResult<JsValue> {
        let array = JsArray::from_iter(items, &mut self.context);
        self.internals.frozen_array.clone().call(&JsValue::undefined(), &[array.into()], &mut self.context)
    }

    /// A frozen plain object with the given (name, value) entries.
    pub(crate) fn parameter_object(&mut self, entries: &[(JsString, JsValue)]) -> JsResult<JsObject> {
        let pairs: Vec<JsValue> = entries
            .iter()
            .map(|(k, v)| JsArray::from_iter([k.clone().into(), v.clone()], &mut self.context).into())
            .collect();
        let list = JsArray::from_iter(pairs, &mut self.context);
        let object =
            self.internals.parameter_object.clone().call(&JsValue::undefined(), &[list.into()], &mut self.context)?;
        object.as_object().ok_or_else(|| JsNativeError::typ().with_message("parameters is not an object").into())
    }

    /// Converts a Boa error into a located [`ScriptError`].
    pub(crate) fn error(&mut self, error: &JsError) -> ScriptError {
        locate(error, &mut self.context)
    }

    /// Sends "Uncaught ..." to the console, as a browser reports an unhandled exception.
    pub(crate) fn report_uncaught(&mut self, error: &ScriptError) {
        let text = uncaught_text(error);
        self.state().outbox.borrow_mut().push(Outgoing::Console { level: "error".to_owned(), text });
    }

    fn call(&mut self, function: &JsObject, args: &[JsValue]) -> Result<JsValue, ScriptError> {
        function.call(&JsValue::undefined(), args, &mut self.context).map_err(|e| self.error(&e))
    }

    fn json_of(&mut self, value: &JsValue) -> Result<serde_json::Value, ScriptError> {
        let mut json = value.to_json(&mut self.context).map(Option::unwrap_or_default).map_err(|e| self.error(&e))?;
        crate::port::wire::tidy_numbers(&mut json);
        Ok(json)
    }

    /// Paths of every module loaded so far (for error messages and tests).
    pub fn module_paths(&self) -> Vec<PathBuf> {
        self.modules.loaded_paths()
    }

    /// Evaluates a module from disk (see [`ModuleSet`] for the root rules).
    pub fn add_module_file(&mut self, path: &Path) -> Result<(), ScriptError> {
        let modules = self.modules.clone();
        let result = self.budgeted(true, |context| modules.add_file(path, context));
        self.report_rejections();
        result
    }

    /// Makes an in-memory module importable (by `./name` from other in-memory
    /// modules) without evaluating it.
    pub fn provide_module_source(&mut self, name: &str, source: &str) {
        self.modules.provide_source(name, source);
    }

    /// Resolves the relative imports of the in-memory module `name` against
    /// `folder` (the folder of the file it follows) rather than its name's folder.
    pub fn set_module_folder(&mut self, name: &str, folder: &Path) {
        self.modules.set_folder(name, folder);
    }

    /// Evaluates a module from an in-memory source named `name`.
    pub fn add_module_source(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        let modules = self.modules.clone();
        let result = self.budgeted(true, |context| modules.add_source(name, source, context));
        self.report_rejections();
        result
    }
}

impl Drop for Realm {
    /// Frees what JavaScript and WebAssembly hold of each other before the context
    /// goes (a buffer keeps its store alive; a store holds imported functions).
    fn drop(&mut self) {
        super::wasm::teardown(&self.context);
    }
}

/// "Uncaught TypeError: message (file:line:col)".
pub fn uncaught_text(error: &ScriptError) -> String {
    let location = error.location();
    if location.is_empty() {
        format!("Uncaught {}: {}", error.name, error.message)
    } else {
        format!("Uncaught {}: {} ({location})", error.name, error.message)
    }
}

/// "Uncaught (in promise) TypeError: message (file:line:col)" for an error, and
/// "Uncaught (in promise) 42" for a rejection with a primitive reason.
fn rejection_text(reason: &JsValue, context: &mut Context) -> String {
    if reason.is_object() {
        let located = locate(&JsError::from_opaque(reason.clone()), context);
        let location = located.location();
        let (name, message) = (&located.name, &located.message);
        if location.is_empty() {
            format!("Uncaught (in promise) {name}: {message}")
        } else {
            format!("Uncaught (in promise) {name}: {message} ({location})")
        }
    } else {
        let text = match reason.as_string() {
            Some(text) => text.to_std_string_escaped(),
            None => reason.display().to_string(),
        };
        format!("Uncaught (in promise) {text}")
    }
}

fn install(context: &mut Context, wasm: super::wasm::WasmLimits) -> JsResult<Internals> {
    let native = super::scope_natives::natives(context);
    evaluate_internal(context, "worklet:lang.js", include_str!("js/lang.js"), &[native.clone().into()])?;
    let wasm_natives = super::wasm::natives(context);
    let wasm_side = evaluate_internal(context, "worklet:wasm.js", include_str!("js/wasm.js"), &[wasm_natives.into()])?;
    super::wasm::install(&wasm_side, wasm, context)?;
    let clone = evaluate_internal(
        context,
        "worklet:clone.js",
        include_str!("js/clone.js"),
        &[native.clone().into(), wasm_side],
    )?;
    let dom = evaluate_internal(context, "worklet:dom.js", include_str!("js/dom.js"), &[native.clone().into()])?;
    let internals =
        evaluate_internal(context, "worklet:scope.js", include_str!("js/scope.js"), &[native.into(), clone, dom])?;
    let internals =
        internals.as_object().ok_or_else(|| JsNativeError::typ().with_message("scope.js returned no object"))?;
    let function = |name: &str, context: &mut Context| -> JsResult<JsObject> {
        internals
            .get(JsString::from(name), context)?
            .as_object()
            .filter(JsObject::is_callable)
            .ok_or_else(|| JsNativeError::typ().with_message(format!("internals.{name} is missing")).into())
    };
    Ok(Internals {
        describe: function("describe", context)?,
        construct: function("construct", context)?,
        enqueue: function("enqueue", context)?,
        adopt: function("adopt", context)?,
        run_task: function("runTask", context)?,
        frozen_array: function("frozenArray", context)?,
        parameter_object: function("parameterObject", context)?,
    })
}

fn evaluate_internal(context: &mut Context, path: &str, source: &str, args: &[JsValue]) -> JsResult<JsValue> {
    let script = Script::parse(Source::from_bytes(source).with_path(Path::new(path)), None, context)?;
    let function = script.evaluate(context)?;
    let function =
        function.as_object().ok_or_else(|| JsNativeError::typ().with_message(format!("{path} is not a function")))?;
    function.call(&JsValue::undefined(), args, context)
}

/// The error with its location in user code, narrowed by the module texts.
pub(super) fn locate(error: &JsError, context: &mut Context) -> ScriptError {
    let mut located = ScriptError::from_js(error, None, context);
    if let Some(modules) = context.downcast_module_loader::<ModuleSet>() {
        modules.refine_location(&mut located);
    }
    located
}

impl RealmInbox for Realm {
    fn adopt(&mut self, port: PortId) {
        self.adopt_port(port);
    }

    fn enqueue(&mut self, port: PortId, data: &serde_json::Value, ports: &[PortId]) -> bool {
        self.enqueue_message(port, data, ports)
    }
}
