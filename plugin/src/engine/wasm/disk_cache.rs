//! Compiled WebAssembly on disk (the realm's thread, while a generation is built):
//! `<user cache>/wasm/<SHA-256 of the module>-<traps>.cwasm`.
//!
//! Every generation of a plugin instance renders in a new engine process, so the
//! code compiled for one is written here and loaded by the next instead of being
//! compiled again. A file is the artifact followed by its own SHA-256: one that is
//! torn, truncated or damaged fails the check, is removed and compiled again; one
//! that another wasmtime wrote is refused by wasmtime itself. Files appear whole
//! (written aside, then renamed). The folder holds at most [`KEPT_FILES`]; the
//! oldest go first.
//!
//! `WORKLET_WASM_CACHE=off` turns the cache off (each process compiles).

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::engine::Key;

/// Compiled modules kept on disk.
const KEPT_FILES: usize = 128;
/// Turns the disk cache off when set to `off`.
pub const CACHE_ENV: &str = "WORKLET_WASM_CACHE";

fn folder() -> Option<PathBuf> {
    if std::env::var_os(CACHE_ENV).is_some_and(|v| v == "off") {
        return None;
    }
    Some(crate::user_cache::folder()?.join("wasm"))
}

fn file_name(key: &Key, signal_traps: bool) -> String {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{}.cwasm", if signal_traps { "signals" } else { "checks" })
}

/// The module compiled earlier for `key`, if the cache holds an intact one.
pub(crate) fn load(engine: &wasmtime::Engine, key: &Key, signal_traps: bool) -> Option<wasmtime::Module> {
    let path = folder()?.join(file_name(key, signal_traps));
    let file = std::fs::read(&path).ok()?;
    let intact = file.len() > 32 && {
        let (artifact, sum) = file.split_at(file.len() - 32);
        Sha256::digest(artifact).as_slice() == sum
    };
    let module = intact.then(|| crate::sys::compiled_code::load(engine, &file[..file.len() - 32]).ok()).flatten();
    if module.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    module
}

/// Writes `module`'s code for `key`; a cache that cannot be written is skipped.
pub(crate) fn store(module: &wasmtime::Module, key: &Key, signal_traps: bool) {
    let Some(dir) = folder() else { return };
    let Ok(mut artifact) = module.serialize() else { return };
    let sum = Sha256::digest(&artifact);
    artifact.extend_from_slice(&sum);
    let path = dir.join(file_name(key, signal_traps));
    let temporary = dir.join(format!(".{}.{}.part", std::process::id(), file_name(key, signal_traps)));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&temporary, &artifact))
        .and_then(|()| std::fs::rename(&temporary, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
        return;
    }
    trim(&dir);
}

/// Removes the oldest files beyond [`KEPT_FILES`].
fn trim(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= KEPT_FILES {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - KEPT_FILES] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_the_trap_mode_apart() {
        let key = [0xab; 32];
        assert!(file_name(&key, true).ends_with("-signals.cwasm"));
        assert!(file_name(&key, false).starts_with("abab"));
        assert_ne!(file_name(&key, true), file_name(&key, false));
    }
}
