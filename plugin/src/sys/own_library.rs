//! The file this code was loaded from: the plugin library inside a `.clap` or
//! `.vst3` bundle, or the executable when the crate is linked into a program.
//! Control thread (each activation) and wherever a stuck thread is given up on.

use std::path::PathBuf;

/// The absolute path of the loaded object that contains this function, if the
/// platform's loader says.
pub fn path() -> Option<PathBuf> {
    let path = loaded_from()?;
    std::path::absolute(&path).ok().or(Some(path))
}

#[cfg(unix)]
fn loaded_from() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let name = loaded_name()?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

/// The name the loader keeps for the object that contains this function, exactly
/// as it keeps it (what `dlopen` with `RTLD_NOLOAD` matches).
#[cfg(unix)]
pub fn loaded_name() -> Option<std::ffi::CString> {
    // SAFETY: `Dl_info` is plain data; zeroed is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let address = loaded_name as *const libc::c_void;
    // SAFETY: `dladdr` fills `info` for an address inside a loaded object (this
    // function's own code); `info` is a live local.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: `dli_fname` is the NUL-terminated path the loader keeps for the
    // object, valid while the object is loaded (this code is running in it); it is
    // copied before returning.
    Some(unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_owned())
}

#[cfg(windows)]
fn loaded_from() -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;

    const FROM_ADDRESS: u32 = 0x4;
    const UNCHANGED_REFCOUNT: u32 = 0x2;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut *mut std::ffi::c_void) -> i32;
        fn GetModuleFileNameW(module: *mut std::ffi::c_void, name: *mut u16, size: u32) -> u32;
    }
    let mut module = std::ptr::null_mut();
    // SAFETY: FROM_ADDRESS looks the module up by an address inside it (this
    // function); UNCHANGED_REFCOUNT takes no reference; `module` is a live local.
    if unsafe { GetModuleHandleExW(FROM_ADDRESS | UNCHANGED_REFCOUNT, loaded_from as *const u16, &mut module) } == 0 {
        return None;
    }
    let mut name = vec![0u16; 32_768];
    // SAFETY: `module` is this module's handle (loaded: this code runs in it);
    // `name` has room for the stated number of UTF-16 units.
    let len = unsafe { GetModuleFileNameW(module, name.as_mut_ptr(), name.len() as u32) } as usize;
    (len > 0 && len < name.len()).then(|| PathBuf::from(std::ffi::OsString::from_wide(&name[..len])))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_test_binary_is_its_own_object() {
        // Unit tests link the crate into the test executable.
        let path = super::path().expect("the loader knows where this code is");
        assert!(path.is_absolute(), "{}", path.display());
        let exe = std::env::current_exe().unwrap();
        assert_eq!(path.canonicalize().unwrap(), exe.canonicalize().unwrap());
    }
}
