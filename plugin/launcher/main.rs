//! `worklet-engine`: the executable the plugin starts for each engine process.
//!
//! A plugin is a shared library, and a process needs an executable. This one is
//! built beside the plugin (`plugin/build.rs`), embedded in the plugin's binary and
//! written to the user's cache on first use, so copying a `.clap` or `.vst3`
//! bundle is all an install takes. It does one thing: load the plugin library
//! named by its first argument and run the engine it exports
//! (`worklet_engine_main`), so the engine is always the plugin's own code, of the
//! same build. Its exit status is the engine's; loading failures exit with 2 and
//! say why on stderr (the plugin shows that text).
//!
//! It is compiled on its own with `rustc` (no crates), so the foreign functions it
//! needs are declared here.

use std::ffi::OsString;
use std::process::ExitCode;

/// Exit status when the library or its entry point cannot be loaded.
const EXIT_LOAD: u8 = 2;
/// The entry point the plugin library exports.
const ENTRY: &str = "worklet_engine_main";

type EngineMain = unsafe extern "C" fn() -> i32;

fn main() -> ExitCode {
    let Some(library) = std::env::args_os().nth(1) else {
        eprintln!("worklet-engine: usage: worklet-engine <plugin library>");
        return ExitCode::from(EXIT_LOAD);
    };
    match load(&library) {
        // SAFETY: the symbol is the plugin's `worklet_engine_main`, an
        // `extern "C" fn() -> i32` that takes nothing and returns a status; the
        // library stays loaded for the life of this process (never closed).
        Ok(entry) => ExitCode::from(unsafe { entry() }.clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("worklet-engine: cannot load {}: {error}", std::path::Path::new(&library).display());
            ExitCode::from(EXIT_LOAD)
        }
    }
}

#[cfg(unix)]
fn load(library: &OsString) -> Result<EngineMain, String> {
    use std::ffi::{CStr, CString, c_char, c_int, c_void};
    use std::os::unix::ffi::OsStrExt;

    #[cfg_attr(target_os = "linux", link(name = "dl"))]
    unsafe extern "C" {
        fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn dlerror() -> *mut c_char;
    }
    const RTLD_NOW: c_int = 2;

    let error = || {
        // SAFETY: dlerror returns NULL or a NUL-terminated message owned by the
        // loader, valid until the next dl* call on this thread; it is copied at once.
        let message = unsafe { dlerror() };
        if message.is_null() {
            "unknown loader error".to_owned()
        } else {
            // SAFETY: non-null, NUL-terminated (see above).
            unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
        }
    };
    let path = CString::new(library.as_bytes()).map_err(|_| "the path contains a NUL byte".to_owned())?;
    // SAFETY: `path` is a NUL-terminated string that outlives the call. Loading
    // runs the library's initialisers: it is the plugin, built with this launcher.
    let handle = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
    if handle.is_null() {
        return Err(error());
    }
    let name = CString::new(ENTRY).expect("no NUL in the entry's name");
    // SAFETY: `handle` is a live handle from dlopen, `name` is NUL-terminated.
    let symbol = unsafe { dlsym(handle, name.as_ptr()) };
    if symbol.is_null() {
        return Err(error());
    }
    // SAFETY: a function pointer and a data pointer have the same size on every
    // platform that has dlsym, and the symbol is the function of type `EngineMain`.
    Ok(unsafe { std::mem::transmute::<*mut c_void, EngineMain>(symbol) })
}

#[cfg(windows)]
fn load(library: &OsString) -> Result<EngineMain, String> {
    use std::ffi::{c_char, c_void};
    use std::os::windows::ffi::OsStrExt;

    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn LoadLibraryW(name: *const u16) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
        fn GetLastError() -> u32;
    }

    let wide: Vec<u16> = library.encode_wide().chain(std::iter::once(0)).collect();
    // SAFETY: `wide` is a NUL-terminated UTF-16 path that outlives the call.
    let module = unsafe { LoadLibraryW(wide.as_ptr()) };
    if module.is_null() {
        // SAFETY: no preconditions.
        return Err(format!("LoadLibraryW failed (error {})", unsafe { GetLastError() }));
    }
    let name = std::ffi::CString::new(ENTRY).expect("no NUL in the entry's name");
    // SAFETY: `module` is a live module handle, `name` is NUL-terminated.
    let symbol = unsafe { GetProcAddress(module, name.as_ptr()) };
    if symbol.is_null() {
        // SAFETY: no preconditions.
        return Err(format!("no {ENTRY} in the library (error {})", unsafe { GetLastError() }));
    }
    // SAFETY: the symbol is the function of type `EngineMain`; function and data
    // pointers have the same size on Windows.
    Ok(unsafe { std::mem::transmute::<*mut c_void, EngineMain>(symbol) })
}
