//! The process's WebAssembly engine (any thread): wasmtime configured once per
//! process, the epoch ticker behind the runaway guard, and compiled modules kept
//! by their content so that the same bytes are compiled once.
//!
//! * **Traps.** In an engine process or the `worklet` command, wasm runs with
//!   wasmtime's signal-based traps: 4 GiB reservations with guard pages, so
//!   compiled code needs no bounds checks (Faust's zita_rev1: 9.0 µs per quantum
//!   against 14.0 µs with explicit checks, measured side by side). A plugin that
//!   runs its engine inside the host's process (`WORKLET_ENGINE=in-process`)
//!   installs no signal handlers in the DAW: its wasm checks bounds explicitly.
//!   [`use_signal_traps`] chooses the first before the engine is made.
//! * **Runaway guard.** The engine counts epochs: a ticker thread advances them
//!   [`TICKS_PER_SECOND`] times a second while any store exists, and each store's
//!   deadline stops wasm that runs past it (see [`super::limits`]).
//! * **Compile cache.** [`compile`] keys modules by the SHA-256 of their bytes: in
//!   memory for this process, and on disk ([`super::disk_cache`]) for the engine
//!   processes of later generations, so a hot swap of the JavaScript around
//!   unchanged wasm does not compile it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::disk_cache;

/// Epochs per second: the runaway guard's resolution.
pub const TICKS_PER_SECOND: u64 = 100;
/// Compiled modules this process keeps in memory; the oldest go first.
const KEPT_IN_MEMORY: usize = 64;

/// The SHA-256 of a module's bytes.
pub type Key = [u8; 32];

/// A compiled module and the bytes it was compiled from (which `postMessage` sends).
#[derive(Clone)]
pub struct Compiled {
    /// The machine code, ready to instantiate in any store of this engine.
    pub module: wasmtime::Module,
    /// The module's bytes as given.
    pub bytes: Arc<[u8]>,
    /// Their SHA-256.
    pub key: Key,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").field("bytes", &self.bytes.len()).finish_non_exhaustive()
    }
}

/// Whether the engine, when it is made, may use signal-based traps.
static SIGNAL_TRAPS: AtomicBool = AtomicBool::new(false);

/// Lets this process's engine use signal-based traps (faster code; wasmtime installs
/// handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE that pass every signal not
/// raised by wasm code on to the handler before them). Called first thing by
/// engine processes and the `worklet` command; never in a plugin host's process.
/// Has no effect once the engine exists.
pub fn use_signal_traps() {
    SIGNAL_TRAPS.store(true, Ordering::Relaxed);
}

struct Shared {
    engine: wasmtime::Engine,
    signal_traps: bool,
    cache: Mutex<MemoryCache>,
    ticker: Mutex<Ticker>,
}

#[derive(Default)]
struct MemoryCache {
    modules: HashMap<Key, Compiled>,
    order: Vec<Key>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let signal_traps = SIGNAL_TRAPS.load(Ordering::Relaxed);
        let engine = wasmtime::Engine::new(&config(signal_traps)).unwrap_or_else(|e| {
            // The configuration is fixed and valid for every target the plugin builds for.
            panic!("the WebAssembly engine cannot start: {e}")
        });
        Shared { engine, signal_traps, cache: Mutex::default(), ticker: Mutex::default() }
    })
}

fn config(signal_traps: bool) -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    config.wasm_threads(true);
    config.wasm_multi_memory(true);
    // The native stack of a render thread is large (engine::STACK_BYTES); wasm
    // recursion traps well before it ("call stack exhausted").
    config.max_wasm_stack(1 << 20);
    if !signal_traps {
        config.signals_based_traps(false);
        config.memory_reservation(0);
        config.memory_guard_size(0);
    }
    config
}

/// The process's engine.
pub fn engine() -> &'static wasmtime::Engine {
    &shared().engine
}

/// Whether this process's engine uses signal-based traps.
pub fn signal_traps() -> bool {
    shared().signal_traps
}

/// Whether `bytes` are a valid module for this engine.
pub fn validate(bytes: &[u8]) -> bool {
    wasmtime::Module::validate(engine(), bytes).is_ok()
}

/// The module of `bytes`: from this process's memory, from the disk cache, or
/// compiled now (then kept in both). The error is a `CompileError`'s message.
pub fn compile(bytes: &[u8]) -> Result<Compiled, String> {
    let key: Key = Sha256::digest(bytes).into();
    let shared = shared();
    if let Some(found) = shared.cache.lock().unwrap_or_else(PoisonError::into_inner).modules.get(&key) {
        return Ok(found.clone());
    }
    let module = match disk_cache::load(&shared.engine, &key, shared.signal_traps) {
        Some(module) => module,
        None => {
            let module = wasmtime::Module::new(&shared.engine, bytes).map_err(|e| compile_message(&e))?;
            disk_cache::store(&module, &key, shared.signal_traps);
            module
        }
    };
    let compiled = Compiled { module, bytes: bytes.into(), key };
    let mut cache = shared.cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.order.len() >= KEPT_IN_MEMORY {
        let oldest = cache.order.remove(0);
        cache.modules.remove(&oldest);
    }
    cache.order.push(key);
    cache.modules.insert(key, compiled.clone());
    Ok(compiled)
}

/// The first line of wasmtime's error chain that says what is wrong.
fn compile_message(error: &wasmtime::Error) -> String {
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    chain.last().cloned().unwrap_or_else(|| error.to_string())
}

/// Keeps the epoch ticker running while it lives (one per store).
pub struct TickerGuard(());

impl Drop for TickerGuard {
    fn drop(&mut self) {
        let stopped = {
            let mut ticker = shared().ticker.lock().unwrap_or_else(PoisonError::into_inner);
            ticker.users -= 1;
            if ticker.users == 0 { ticker.stop() } else { None }
        };
        // Joined outside the lock: the thread ends within one tick.
        if let Some(thread) = stopped {
            let _ = thread.join();
        }
    }
}

/// Starts the ticker if it is not running; it runs until the last guard drops, so
/// no thread of this library runs once no realm uses wasm (a plugin's library
/// may be unloaded then).
pub fn ticker() -> TickerGuard {
    let shared = shared();
    let mut ticker = shared.ticker.lock().unwrap_or_else(PoisonError::into_inner);
    ticker.users += 1;
    if ticker.thread.is_none() {
        ticker.start(shared.engine.clone());
    }
    TickerGuard(())
}

#[derive(Default)]
struct Ticker {
    users: usize,
    thread: Option<JoinHandle<()>>,
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl Ticker {
    fn start(&mut self, engine: wasmtime::Engine) {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        self.stop = stop.clone();
        let every = Duration::from_nanos(1_000_000_000 / TICKS_PER_SECOND);
        let spawned = std::thread::Builder::new().name("worklet-wasm-epoch".into()).spawn(move || {
            let (flag, wake) = &*stop;
            let mut stopped = flag.lock().unwrap_or_else(PoisonError::into_inner);
            while !*stopped {
                stopped = wake.wait_timeout(stopped, every).unwrap_or_else(PoisonError::into_inner).0;
                engine.increment_epoch();
            }
        });
        // Without the thread, deadlines never pass: wasm then runs unguarded, as
        // JavaScript would without Boa's limits. Spawning fails only when the
        // process is out of threads, when nothing else would work either.
        self.thread = spawned.ok();
    }

    fn stop(&mut self) -> Option<JoinHandle<()>> {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        self.thread.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];

    #[test]
    fn the_same_bytes_compile_once() {
        let first = compile(&EMPTY).expect("an empty module");
        let second = compile(&EMPTY).expect("again");
        assert_eq!(first.key, second.key);
        assert!(Arc::ptr_eq(&first.bytes, &second.bytes), "the second came from the cache");
        assert!(validate(&EMPTY));
        assert!(!validate(b"\0asm\x02\0\0\0"));
    }

    #[test]
    fn a_compile_error_says_what_is_wrong() {
        let error = compile(b"\0asm\x01\0\0\0\x01\x05").unwrap_err();
        assert!(!error.is_empty());
        assert!(compile(b"not wasm").is_err());
    }

    #[test]
    fn the_ticker_runs_while_a_guard_lives() {
        let guard = ticker();
        let engine = engine();
        let mut store = wasmtime::Store::new(engine, ());
        store.set_epoch_deadline(1);
        std::thread::sleep(Duration::from_millis(50));
        // A deadline one tick away has passed: entering wasm now traps at once.
        let module = wasmtime::Module::new(engine, wat_loop()).unwrap();
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
        let error = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(error.downcast_ref::<wasmtime::Trap>(), Some(&wasmtime::Trap::Interrupt));
        drop(guard);
    }

    /// `(module (func (export "spin") (loop br 0)))`.
    fn wat_loop() -> Vec<u8> {
        vec![
            0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 115, 112, 105, 110, 0, 0, 10, 9, 1,
            7, 0, 3, 64, 12, 0, 11, 11,
        ]
    }
}
