//! Builds `worklet-engine` (`launcher/main.rs`), the small executable the plugin
//! embeds and starts for its engine processes (see `render::engine_launcher`).
//! It is compiled with the same `rustc` and for the same target as the plugin.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=launcher/main.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(rustc);
    command
        .args(["--edition", "2024", "--crate-type", "bin", "--crate-name", "worklet_engine"])
        .args(["-C", "opt-level=2", "-C", "strip=symbols", "-C", "panic=abort"])
        .args(["--target", &target])
        .arg("-o")
        .arg(out.join("worklet-engine"))
        .arg("launcher/main.rs");
    // A linker configured for the target (cross builds) is the one to use.
    if let Some(linker) = env::var_os("RUSTC_LINKER") {
        command.arg("-C").arg({
            let mut arg = std::ffi::OsString::from("linker=");
            arg.push(linker);
            arg
        });
    }
    let status = command.status().expect("cannot run rustc for the engine launcher");
    assert!(status.success(), "building the engine launcher (plugin/launcher/main.rs) failed: {status}");
}
