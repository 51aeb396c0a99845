//! The vendored crates (`plugin/vendor/boa_engine`, `plugin/vendor/nice-plug`)
//! and their patch series: `cargo xtask vendor-patches` writes each series from
//! the git history, and the test run checks that each vendored tree is exactly
//! the published crate with its series applied, then runs Boa's own unit tests.
//! See `plugin/vendor/README.md`.

use std::path::Path;
use std::process::Command;

use crate::test::{Result, run_command};

/// A crate published on crates.io, vendored with a patch series.
pub(crate) struct Vendored {
    /// The crate and its version, as published.
    pub(crate) name: &'static str,
    /// The vendored crate, relative to the workspace root.
    pub(crate) folder: &'static str,
    /// The patch series, relative to the workspace root.
    pub(crate) patches: &'static str,
    /// The subject of the commit that added the published crate unchanged: the
    /// series is every commit after it that touches the vendored tree.
    pub(crate) pristine_commit_subject: &'static str,
    /// `find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` of the
    /// published crate as cargo unpacks it (without `.cargo-ok`).
    pub(crate) pristine_tree_sha256: &'static str,
}

/// Boa's engine.
pub(crate) const BOA: Vendored = Vendored {
    name: "boa_engine 0.22.0",
    folder: "plugin/vendor/boa_engine",
    patches: "plugin/vendor/patches",
    pristine_commit_subject: "Vendor boa_engine 0.22.0 exactly as published on crates.io",
    pristine_tree_sha256: "5cf90f30b82e341fc276ded6163b3dee950f306d3e234dd69200da914585a464",
};

/// nice-plug, the plugin framework.
pub(crate) const NICE_PLUG: Vendored = Vendored {
    name: "nice-plug 0.4.2",
    folder: "plugin/vendor/nice-plug",
    patches: "plugin/vendor/nice-plug-patches",
    pristine_commit_subject: "Vendor nice-plug 0.4.2 exactly as published on crates.io",
    pristine_tree_sha256: "fa3f741d3e62a659cba2e3fa464719fbb8b2226e65bafa840a72cb115056524a",
};

/// Every vendored crate.
pub(crate) const ALL: [&Vendored; 2] = [&BOA, &NICE_PLUG];

/// The features the plugin builds Boa with (the workspace's `boa_engine`
/// dependency), so that Boa's tests reuse the plugin's build of its dependencies.
const FEATURES: &str = "annex-b,float16,intl_bundled,temporal,xsum";

/// Writes the series (`NNNN-*.patch`), one patch per commit after the pristine
/// one that touches the vendored tree, with paths relative to the crate.
pub(crate) fn write_series(root: &Path, crate_: &Vendored) -> Result<()> {
    let Vendored { folder: vendored, patches, .. } = crate_;
    let base = pristine_commit(root, crate_)?;
    let folder = root.join(patches);
    if folder.exists() {
        std::fs::remove_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    run_command(
        Command::new("git")
            .current_dir(root)
            .args(["format-patch", "--quiet", "--no-stat", "--zero-commit", "--no-signature"])
            .arg(format!("--relative={vendored}"))
            .arg("-o")
            .arg(&folder)
            .arg(format!("{base}..HEAD"))
            .args(["--", vendored]),
    )?;
    let count = std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
    println!("{count} patches in {patches}");
    Ok(())
}

/// Checks that reverting the series from the vendored tree gives the published
/// crate byte for byte.
pub(crate) fn verify_series(root: &Path, crate_: &Vendored) -> Result<()> {
    let Vendored { name, folder: vendored, patches: series, pristine_tree_sha256: pristine, .. } = crate_;
    // Outside the repository: inside one, `git apply` takes paths from its top.
    let scratch = std::env::temp_dir().join(format!("worklet-vendor-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let tree = scratch.join("crate");
    run_command(Command::new("cp").arg("-a").arg(root.join(vendored)).arg(&tree))?;
    let mut patches: Vec<_> = std::fs::read_dir(root.join(series))
        .map_err(|e| format!("{series}: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "patch"))
        .collect();
    patches.sort();
    for patch in patches.iter().rev() {
        run_command(Command::new("git").current_dir(&tree).args(["apply", "-R", "-p1"]).arg(patch))
            .map_err(|e| format!("{} does not revert from {vendored}: {e}", patch.display()))?;
    }
    let output = Command::new("bash")
        .current_dir(&tree)
        .args(["-c", "find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum"])
        .output()
        .map_err(|e| format!("cannot hash {}: {e}", tree.display()))?;
    let hash = String::from_utf8_lossy(&output.stdout);
    let hash = hash.split_whitespace().next().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    if hash != *pristine {
        return Err(format!(
            "{vendored} is not {name} plus {series}: reverting the {} patches gives tree hash {hash}, \
             not {pristine}; commit each change to the vendored tree on its own and run \
             `cargo xtask vendor-patches`",
            patches.len()
        ));
    }
    println!("{vendored} is {name} plus the {} patches of {series}", patches.len());
    Ok(())
}

/// Runs Boa's own unit tests (all of them: they take about a second, and cover
/// every module the patches touch), built with the plugin's features in the
/// release profile.
pub(crate) fn run_tests() -> Result<()> {
    run_command(Command::new("cargo").args([
        "test",
        "--release",
        "-p",
        "boa_engine",
        "--no-default-features",
        "--features",
        FEATURES,
        "--lib",
        "--",
        "--quiet",
    ]))
}

fn pristine_commit(root: &Path, crate_: &Vendored) -> Result<String> {
    let Vendored { folder, pristine_commit_subject: subject, .. } = crate_;
    let output = Command::new("git")
        .current_dir(root)
        .args(["log", "--format=%H", "--fixed-strings", "--grep", subject, "--", folder])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().last().map(str::to_owned).ok_or_else(|| format!("no commit named \"{subject}\" in the history"))
}
