//! `cargo xtask test`: installs what the tests need on this machine, then runs
//! every test. It is README's test command and all that `.ci/run` runs.
//!
//! Setup: the Debian packages the tests use (Chromium, the ALSA/JACK headers for
//! the standalone build, Xvfb, xdotool, ImageMagick, Mesa's software GL), installed
//! with `apt-get` (through `sudo` when not root) only when missing; the Python
//! packages of `tests/host/requirements.txt` in a virtual environment under
//! `target/test-venv`, re-created when the requirements change.
//!
//! Tests, in order: formatting, the vendored crates (Boa, nice-plug) against their
//! patch series, the
//! plugin bundles, the workspace's Rust tests (release profile, so they reuse the
//! bundle build), Boa's own unit tests, the standalone
//! build, the VST3 host and editor tests (pytest), the browser comparison
//! (headless Chromium), and clap-validator when it is installed (`WORKLET_CLAP_VALIDATOR`, or
//! `../shared/tools/clap-validator` beside the checkout).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Debian packages the tests need.
const PACKAGES: &[&str] = &[
    "chromium",
    "libasound2-dev",
    "libjack-jackd2-dev",
    "xvfb",
    "xauth",
    "xdotool",
    "imagemagick",
    "libgl1-mesa-dri",
    "libglx-mesa0",
    "libxkbcommon-x11-0",
    "libx11-xcb1",
    "libxcursor1",
    "libxrandr2",
    "libxi6",
    "fonts-dejavu-core",
];

pub(crate) type Result<T> = std::result::Result<T, String>;

/// Runs setup and every test step; stops at the first failure.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let root = crate::workspace_root();
    std::env::set_current_dir(&root).map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
    let skip_setup = args.iter().any(|a| a == "--no-setup");
    let mut timings = Vec::new();
    let mut step = |name: &str, action: &mut dyn FnMut() -> Result<()>| -> Result<()> {
        println!("== {name}");
        let started = Instant::now();
        let result = action();
        let seconds = started.elapsed().as_secs_f64();
        println!("== {name}: {} in {seconds:.0} s", if result.is_ok() { "done" } else { "FAILED" });
        timings.push((name.to_owned(), seconds));
        result
    };
    let python = root.join("target/test-venv/bin/python3");
    if !skip_setup {
        step("Debian packages", &mut || debian_packages())?;
        step("Python packages (target/test-venv)", &mut || python_packages(&root))?;
    }
    step("formatting", &mut || {
        // The workspace's own crates; the vendored crates keep upstream's formatting.
        let packages = ["worklet", "worklet-tests", "xtask"].iter().flat_map(|p| ["-p", p]);
        run_command(Command::new("cargo").arg("fmt").args(packages).arg("--check"))
    })?;
    step("vendored crates' patch series", &mut || {
        crate::vendor::ALL.iter().try_for_each(|crate_| crate::vendor::verify_series(&root, crate_))
    })?;
    step("plugin bundles", &mut || {
        let args = ["bundle", "worklet", "--release"].map(String::from);
        nice_plug_xtask::main_with_args("cargo xtask", args).map_err(|e| format!("{e:?}"))
    })?;
    step("Rust tests", &mut || {
        // The plugin's crates alone build their dependencies with exactly the
        // bundle's features (xtask's would change serde_json's, and so rebuild
        // Boa and the plugin); xtask's tests build with xtask's own.
        run_command(Command::new("cargo").args(["test", "--release", "-p", "worklet", "-p", "worklet-tests"]))?;
        run_command(Command::new("cargo").args(["test", "--release", "-p", "xtask"]))
    })?;
    step("Boa's own tests", &mut || crate::vendor::run_tests())?;
    step("standalone build", &mut || {
        run_command(Command::new("cargo").args(["build", "--release", "-p", "worklet", "--features", "standalone"]))
    })?;
    step("VST3 host and editor tests", &mut || {
        run_command(Command::new(&python).args(["-m", "pytest", "-q", "tests/host", "tests/gui"]))
    })?;
    step("browser comparison", &mut || run_command(Command::new(&python).arg("tests/browser/compare.py")))?;
    if let Some(validator) = clap_validator(&root) {
        step("clap-validator", &mut || validate(&validator))?;
    }
    println!("== all tests passed");
    for (name, seconds) in &timings {
        println!("   {seconds:>6.0} s  {name}");
    }
    Ok(())
}

pub(crate) fn run_command(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}

/// Installs the missing Debian packages (apt-get, through sudo unless root).
fn debian_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        println!("all {} packages are installed", PACKAGES.len());
        return Ok(());
    }
    println!("installing {}", missing.join(" "));
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!("apt-get is not available; install these packages by hand: {}", missing.join(" ")));
    }
    apt_get(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(&missing);
    apt_get(&install)
}

/// `apt-get ARGS`, through sudo unless this is root.
fn apt_get(args: &[&str]) -> Result<()> {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut command = Command::new(if root { "apt-get" } else { "sudo" });
    if !root {
        command.arg("apt-get");
    }
    command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    run_command(&mut command)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// The virtual environment with the pinned test packages, made when missing or
/// when `tests/host/requirements.txt` changed since it was made.
fn python_packages(root: &Path) -> Result<()> {
    let venv = root.join("target/test-venv");
    let requirements = root.join("tests/host/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join("requirements.installed");
    if std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted) && venv.join("bin/python3").exists() {
        println!("{} is up to date", venv.display());
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    if made.is_err() {
        // Debian's own python3 ships venv's pip bootstrap separately.
        let _ = std::fs::remove_dir_all(&venv);
        println!("python3 cannot make a virtual environment; installing python3-venv");
        apt_get(&["install", "-y", "-qq", "python3-venv"])?;
        run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let pip = venv.join("bin/pip");
    run_command(
        Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements),
    )?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn clap_validator(root: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("WORKLET_CLAP_VALIDATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/tools/clap-validator"));
    path.is_file().then_some(path)
}

/// Runs clap-validator on the bundle and requires that no test fails.
fn validate(validator: &Path) -> Result<()> {
    let output = Command::new(validator)
        .args(["validate", "target/bundled/Worklet.clap"])
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", validator.display()))?;
    let text = strip_ansi(&String::from_utf8_lossy(&output.stdout));
    let summary = text.lines().rev().find(|l| l.contains(" passed") && l.contains(" failed"));
    let failed = summary.and_then(|line| count_before(line, "failed"));
    if let Some(line) = summary {
        println!("{}", line.trim());
    }
    if failed != Some(0) || !output.status.success() {
        print!("{text}");
        return Err(format!(
            "clap-validator reported failures ({}): {}",
            output.status,
            summary.unwrap_or("no summary line").trim()
        ));
    }
    Ok(())
}

/// The text without terminal colour sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The number written just before `word` in a summary line ("34 passed, 0 failed").
fn count_before(line: &str, word: &str) -> Option<u32> {
    let words: Vec<&str> = line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let at = words.iter().position(|w| *w == word)?;
    words.get(at.checked_sub(1)?)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_failure_count_through_colour_codes() {
        let line =
            "44 tests run, \u{1b}[1;32m34\u{1b}[0m passed, \u{1b}[1;31m0\u{1b}[0m failed, \u{1b}[1m10\u{1b}[0m skipped";
        let plain = strip_ansi(line);
        assert_eq!(plain, "44 tests run, 34 passed, 0 failed, 10 skipped");
        assert_eq!(count_before(&plain, "failed"), Some(0));
        assert_eq!(count_before(&plain, "passed"), Some(34));
        assert_eq!(count_before("2 failed", "failed"), Some(2));
        assert_eq!(count_before("failed", "failed"), None);
    }
}
