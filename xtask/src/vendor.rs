//! The vendored Boa (`plugin/vendor/boa_engine`) and its patch series
//! (`plugin/vendor/patches`): `cargo xtask boa-patches` writes the series from the
//! git history, and the test run checks that the vendored tree is exactly the
//! published crate with the series applied, then runs Boa's own unit tests.
//! See `plugin/vendor/README.md`.

use std::path::Path;
use std::process::Command;

use crate::test::{Result, run_command};

/// The vendored crate, relative to the workspace root.
pub(crate) const VENDORED: &str = "plugin/vendor/boa_engine";
/// The patch series, relative to the workspace root.
const PATCHES: &str = "plugin/vendor/patches";
/// The commit that added the published crate unchanged: the series is every
/// commit after it that touches the vendored tree.
const PRISTINE_COMMIT_SUBJECT: &str = "Vendor boa_engine 0.22.0 exactly as published on crates.io";
/// `find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` of the
/// published `boa_engine-0.22.0` crate as cargo unpacks it (without `.cargo-ok`).
const PRISTINE_TREE_SHA256: &str = "5cf90f30b82e341fc276ded6163b3dee950f306d3e234dd69200da914585a464";

/// The features the plugin builds Boa with (the workspace's `boa_engine`
/// dependency), so that Boa's tests reuse the plugin's build of its dependencies.
const FEATURES: &str = "annex-b,float16,intl_bundled,temporal,xsum";

/// Writes `plugin/vendor/patches/NNNN-*.patch`, one per commit after the pristine
/// one that touches the vendored tree, with paths relative to the crate.
pub(crate) fn write_series(root: &Path) -> Result<()> {
    let base = pristine_commit(root)?;
    let folder = root.join(PATCHES);
    if folder.exists() {
        std::fs::remove_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    run_command(
        Command::new("git")
            .current_dir(root)
            .args(["format-patch", "--quiet", "--no-stat", "--zero-commit", "--no-signature"])
            .arg(format!("--relative={VENDORED}"))
            .arg("-o")
            .arg(&folder)
            .arg(format!("{base}..HEAD"))
            .args(["--", VENDORED]),
    )?;
    let count = std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
    println!("{count} patches in {PATCHES}");
    Ok(())
}

/// Checks that reverting the series from the vendored tree gives the published
/// crate byte for byte.
pub(crate) fn verify_series(root: &Path) -> Result<()> {
    // Outside the repository: inside one, `git apply` takes paths from its top.
    let scratch = std::env::temp_dir().join(format!("worklet-boa-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let tree = scratch.join("boa_engine");
    run_command(Command::new("cp").arg("-a").arg(root.join(VENDORED)).arg(&tree))?;
    let mut patches: Vec<_> = std::fs::read_dir(root.join(PATCHES))
        .map_err(|e| format!("{PATCHES}: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "patch"))
        .collect();
    patches.sort();
    for patch in patches.iter().rev() {
        run_command(Command::new("git").current_dir(&tree).args(["apply", "-R", "-p1"]).arg(patch))
            .map_err(|e| format!("{} does not revert from {VENDORED}: {e}", patch.display()))?;
    }
    let output = Command::new("bash")
        .current_dir(&tree)
        .args(["-c", "find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum"])
        .output()
        .map_err(|e| format!("cannot hash {}: {e}", tree.display()))?;
    let hash = String::from_utf8_lossy(&output.stdout);
    let hash = hash.split_whitespace().next().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    if hash != PRISTINE_TREE_SHA256 {
        return Err(format!(
            "{VENDORED} is not boa_engine 0.22.0 plus {PATCHES}: reverting the {} patches gives tree hash {hash}, \
             not {PRISTINE_TREE_SHA256}; commit each change to the vendored tree on its own and run \
             `cargo xtask boa-patches`",
            patches.len()
        ));
    }
    println!("{VENDORED} is boa_engine 0.22.0 plus the {} patches of {PATCHES}", patches.len());
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

fn pristine_commit(root: &Path) -> Result<String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["log", "--format=%H", "--fixed-strings", "--grep", PRISTINE_COMMIT_SUBJECT, "--", VENDORED])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .last()
        .map(str::to_owned)
        .ok_or_else(|| format!("no commit named \"{PRISTINE_COMMIT_SUBJECT}\" in the history"))
}
