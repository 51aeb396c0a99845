//! `cargo xtask bundle worklet --release` builds the CLAP and VST3 bundles
//! described in `bundler.toml` into `target/bundled/`;
//! `cargo xtask install` copies them into this user's CLAP and VST3 folders;
//! `cargo xtask test` installs what the tests need and runs them all;
//! `cargo xtask vendor-patches` writes the patch series of the vendored crates
//! (Boa, nice-plug) from git (`--check`: checks each vendored tree against its
//! series).

mod test;
mod vendor;

use std::path::{Path, PathBuf};

fn main() -> nice_plug_xtask::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("install") => install(),
        Some("test") => test::run(&args[1..]).map_err(|message| std::io::Error::other(message).into()),
        Some("vendor-patches") => {
            let root = workspace_root();
            let check = args.iter().any(|a| a == "--check");
            let done = vendor::ALL.iter().try_for_each(|crate_| {
                if check { vendor::verify_series(&root, crate_) } else { vendor::write_series(&root, crate_) }
            });
            done.map_err(|m| std::io::Error::other(m).into())
        }
        _ => nice_plug_xtask::main(),
    }
}

/// The workspace's root folder (this crate's parent).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The user's plugin folders for this platform: (CLAP, VST3).
fn plugin_folders() -> Option<(PathBuf, PathBuf)> {
    if cfg!(target_os = "windows") {
        let common = PathBuf::from(std::env::var_os("COMMONPROGRAMFILES")?);
        Some((common.join("CLAP"), common.join("VST3")))
    } else {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        if cfg!(target_os = "macos") {
            let base = home.join("Library/Audio/Plug-Ins");
            Some((base.join("CLAP"), base.join("VST3")))
        } else {
            Some((home.join(".clap"), home.join(".vst3")))
        }
    }
}

fn install() -> nice_plug_xtask::Result<()> {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bundled");
    let (clap_dir, vst3_dir) = plugin_folders().ok_or_else(|| std::io::Error::other("cannot find the home folder"))?;
    for (name, target) in [("Worklet.clap", &clap_dir), ("Worklet.vst3", &vst3_dir)] {
        let source = bundled.join(name);
        if !source.exists() {
            let message = format!("{} is missing: run `cargo xtask bundle worklet --release` first", source.display());
            return Err(std::io::Error::other(message).into());
        }
        std::fs::create_dir_all(target)?;
        let destination = target.join(name);
        if destination.exists() {
            if destination.is_dir() {
                std::fs::remove_dir_all(&destination)?;
            } else {
                std::fs::remove_file(&destination)?;
            }
        }
        copy(&source, &destination)?;
        println!("installed {}", destination.display());
    }
    Ok(())
}

fn copy(source: &Path, destination: &Path) -> std::io::Result<()> {
    if source.is_dir() {
        std::fs::create_dir_all(destination)?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            copy(&entry.path(), &destination.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(source, destination).map(|_| ())
    }
}
