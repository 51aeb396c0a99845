//! The per-user cache folder for Worklet (any thread): the engine launcher and
//! compiled WebAssembly modules live there. Everything in it can be deleted at any
//! time; it is written again when needed.

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/worklet` or `~/.cache/worklet` on Linux,
/// `~/Library/Caches/worklet` on macOS, `%LOCALAPPDATA%\worklet` on Windows; `None`
/// when the environment names no home.
pub fn folder() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library/Caches"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))
    };
    Some(base?.join("worklet"))
}
