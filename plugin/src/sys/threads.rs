//! Render threads that will not finish (a script stuck where no limit reaches).
//!
//! Such a thread cannot be stopped from outside. What can be done: it stops
//! competing with the host's audio thread ([`demote`]: normal scheduling), and
//! the plugin library it is running stays mapped ([`pin_library`]) so that a host
//! unloading the plugin does not pull the code from under it, which would crash
//! the host. Control thread and main thread (`Pipeline`'s poll and drop).

use std::sync::Once;
use std::thread::JoinHandle;

/// Moves the thread to normal (time-sharing) scheduling, if it was real-time.
pub fn demote<T>(thread: &JoinHandle<T>) {
    #[cfg(unix)]
    {
        use std::os::unix::thread::JoinHandleExt;
        let native = thread.as_pthread_t();
        // SAFETY: `sched_param` is plain data; zeroed is a valid value.
        let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
        param.sched_priority = 0;
        // SAFETY: `native` names a thread that has not been joined or detached
        // (its `JoinHandle` is borrowed here), so the pthread_t is valid even if
        // the thread has exited; `param` is a live local.
        let _ = unsafe { libc::pthread_setschedparam(native, libc::SCHED_OTHER, &param) };
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawHandle;
        // SAFETY: the handle is the thread's own, open while the `JoinHandle` lives.
        let _ = unsafe { windows::SetThreadPriority(thread.as_raw_handle(), windows::THREAD_PRIORITY_NORMAL) };
    }
}

/// Keeps the library this code is in loaded until the process ends. Idempotent.
pub fn pin_library() {
    static PINNED: Once = Once::new();
    PINNED.call_once(|| {
        #[cfg(unix)]
        if let Some(name) = super::own_library::loaded_name() {
            // SAFETY: `name` is a NUL-terminated path that outlives the call, the
            // loader's own name for this object, so NOLOAD finds it and only takes
            // another reference; NODELETE makes it permanent. The handle is
            // deliberately never closed.
            let _ = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE) };
        }
        #[cfg(windows)]
        {
            let mut module = std::ptr::null_mut();
            // SAFETY: FROM_ADDRESS looks the module up by an address inside it
            // (this function); PIN keeps it loaded until the process ends;
            // `module` is a live local that receives the handle.
            let _ = unsafe {
                windows::GetModuleHandleExW(
                    windows::GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | windows::GET_MODULE_HANDLE_EX_FLAG_PIN,
                    pin_library as *const u16,
                    &mut module,
                )
            };
        }
    });
}

/// A thread given up on: demoted, the library pinned, the thread detached.
pub fn abandon<T>(thread: JoinHandle<T>) {
    demote(&thread);
    pin_library();
    drop(thread);
}

#[cfg(windows)]
mod windows {
    pub(super) const THREAD_PRIORITY_NORMAL: i32 = 0;
    pub(super) const GET_MODULE_HANDLE_EX_FLAG_PIN: u32 = 0x1;
    pub(super) const GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: u32 = 0x4;

    #[link(name = "kernel32")]
    unsafe extern "system" {
        pub(super) fn SetThreadPriority(thread: *mut std::ffi::c_void, priority: i32) -> i32;
        pub(super) fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut *mut std::ffi::c_void) -> i32;
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The scheduling policy of thread `tid` (field 41 of its `stat`; 0 is normal).
    fn policy(tid: i32) -> u32 {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(38).unwrap().parse().unwrap()
    }

    #[test]
    fn a_demoted_thread_runs_with_normal_scheduling() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let realtime = crate::render::priority::request_realtime(10);
            // SAFETY: gettid has no preconditions.
            tx.send((realtime, unsafe { libc::gettid() })).unwrap();
            let _ = stop_rx.recv();
        });
        let (realtime, tid) = rx.recv().unwrap();
        if realtime {
            assert_eq!(policy(tid), 1, "SCHED_FIFO before");
        }
        demote(&thread);
        assert_eq!(policy(tid), 0, "SCHED_OTHER after");
        pin_library();
        pin_library();
        stop_tx.send(()).unwrap();
        thread.join().unwrap();
    }
}
