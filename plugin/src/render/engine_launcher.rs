//! Where the plugin's engine processes come from. Control thread (activation).
//!
//! The plugin is a shared library inside a `.clap` or `.vst3` bundle. Its engine
//! processes run `worklet-engine` (`plugin/launcher/main.rs`), a small executable
//! embedded in the library and written to the user's cache on first use, which
//! loads this same library again and runs its `worklet_engine_main`. So the
//! engine is always the plugin's own code, and copying a bundle is the whole
//! install. A program that links the crate (`worklet`, `worklet-standalone`) and
//! calls [`dispatch`] first is its own engine executable instead.
//!
//! `WORKLET_ENGINE=in-process` in the host's environment runs the engine inside
//! the host's process, as before isolation (for debugging the engine itself).

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::config::EngineProcess;
use super::engine_process::{ENGINE_ENV, GENERATION};

/// The launcher, built for this target by `plugin/build.rs`.
const LAUNCHER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/worklet-engine"));

/// The host environment variable that chooses where the engine runs.
pub const ENGINE_CHOICE_ENV: &str = "WORKLET_ENGINE";

/// Set by [`dispatch`]: this executable runs engine processes itself.
static ENGINE_HOST: AtomicBool = AtomicBool::new(false);

/// First thing in a program's `main`: when the process was started as an engine
/// process, runs it and exits; otherwise notes that this executable can be one.
pub fn dispatch() {
    // A program that calls this is Worklet's own (never a plugin host), so its
    // WebAssembly may use signal-based traps.
    crate::engine::wasm::engine::use_signal_traps();
    if std::env::var_os(ENGINE_ENV).is_some_and(|v| v == GENERATION) {
        std::process::exit(super::engine_child::main());
    }
    ENGINE_HOST.store(true, Ordering::Relaxed);
}

/// How this plugin instance should start its engine processes: `Ok(None)` runs
/// the engine in the host's process (asked for, or the crate is linked into a
/// program that cannot run engine processes, such as a test).
pub fn plugin_engine() -> Result<Option<EngineProcess>, String> {
    if std::env::var_os(ENGINE_CHOICE_ENV).is_some_and(|v| v == "in-process") {
        return Ok(None);
    }
    let library = crate::sys::own_library::path().ok_or("the loader does not say where the plugin is")?;
    let exe = std::env::current_exe().ok();
    if exe.as_deref().is_some_and(|exe| same_file(exe, &library)) {
        return Ok(ENGINE_HOST.load(Ordering::Relaxed).then(|| EngineProcess::new(library)));
    }
    let launcher = installed_launcher()?;
    Ok(Some(EngineProcess { args: vec![OsString::from(&library)], ..EngineProcess::new(launcher) }))
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// The launcher's path in the cache, written (again) there if it is missing or
/// not this build's: checked at each activation, since a cache may be cleared.
fn installed_launcher() -> Result<PathBuf, String> {
    let dir = crate::user_cache::folder().ok_or("no cache folder (HOME is not set)")?;
    install(&dir, LAUNCHER).map_err(|e| format!("cannot write the engine launcher to {}: {e}", dir.display()))
}

/// Writes `bytes` as an executable named after their hash into `dir`, unless a
/// file with exactly those bytes is there already. Safe against other plugin
/// instances (and other processes) installing the same file at the same time: the
/// file appears whole, by rename. Control thread, at activation (never the
/// audio thread: it reads and may write a file).
fn install(dir: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let name = format!("engine-{:016x}{}", fnv1a(bytes), std::env::consts::EXE_SUFFIX);
    let path = dir.join(name);
    // Instances activating at once in one process take turns (the temporary file
    // is named after the process); other processes write files of their own.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _turn = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    if std::fs::read(&path).is_ok_and(|existing| existing == bytes) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".engine-{}.part", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        }
        drop(file);
        std::fs::rename(&temporary, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
        // Another process may have installed it meanwhile (Windows cannot rename
        // over a file that is running).
        if std::fs::read(&path).is_ok_and(|existing| existing == bytes) {
            return Ok(path);
        }
    }
    written.map(|()| path)
}

/// 64-bit FNV-1a: a stable name for the launcher's bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_is_installed_once_and_repaired_when_damaged() {
        let dir = std::env::temp_dir().join(format!("worklet-launcher-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = install(&dir, LAUNCHER).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), LAUNCHER);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(install(&dir, LAUNCHER).unwrap(), path, "same bytes, same name");
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified, "not rewritten");
        std::fs::write(&path, &LAUNCHER[..100]).unwrap();
        install(&dir, LAUNCHER).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), LAUNCHER, "a truncated copy is replaced");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left");
        #[cfg(unix)]
        {
            // It runs, and says how to use it when given nothing to load.
            let out = std::process::Command::new(&path).output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&out.stderr).contains("usage: worklet-engine"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn different_launchers_get_different_names() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn a_test_binary_runs_its_engine_in_process() {
        // The unit-test executable never calls `dispatch`, so it cannot be an
        // engine process; the plugin then keeps the engine in process.
        assert_eq!(plugin_engine(), Ok(None));
    }
}
