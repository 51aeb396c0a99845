//! The `worklet` command line: `render`, `check` and `bench` (the caller's thread).
//!
//! [`run`] takes the arguments and the two output streams and returns the exit
//! status, so tests can run the CLI in-process exactly as the binary does:
//! 0 rendered (processor errors are events, not failures); 2 usage error or a
//! module failed to load (`FILE:LINE:COL: ErrorName: message` on stderr); 1 other
//! failures (I/O); 3 (`render`) the watchdog stopped the script, or (`--isolated`)
//! the engine process died: it crashed or hit its memory cap.

mod args;
mod bench;
mod bench_bare;
mod bench_group;
mod bench_hints;
mod bench_profile;
mod check;
pub mod isolated;
mod json_arg;
mod midi_file;
mod render;
pub mod signal;
mod watchdog;
pub mod wav;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use boa_engine::context::InterruptHandle;
use clap::Parser;

use crate::engine::{Realm, RealmConfig, ScriptError};
pub use args::{Cli, Command};

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: I/O and other failures.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status: usage error, or a module failed to load.
pub const EXIT_USAGE: i32 = 2;

pub use isolated::EXIT_ENGINE_DIED;

/// A failure with its exit status and the line to print on stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: i32,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl std::fmt::Display) -> Self {
        Self { status: EXIT_USAGE, message: message.to_string() }
    }

    pub(crate) fn io(message: impl std::fmt::Display) -> Self {
        Self { status: EXIT_FAILURE, message: message.to_string() }
    }
}

impl From<ScriptError> for Failure {
    fn from(error: ScriptError) -> Self {
        Self::usage(error)
    }
}

/// Runs the CLI with `args` (the first is the program name).
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().ansi().to_string();
            if error.use_stderr() {
                let _ = write!(stderr, "{text}");
                return EXIT_USAGE;
            }
            let _ = write!(stdout, "{text}");
            return EXIT_OK;
        }
    };
    let result = match &cli.command {
        Command::Render(args) if args.isolated && !isolated::in_engine_process() => {
            isolated::run(&argv, args, stdout, stderr)
        }
        Command::Render(args) => render::run(args, stdout, stderr),
        Command::Check(args) => check::run(args, stdout),
        Command::Bench(args) => bench::run(args, stdout),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(failure) => {
            if !failure.message.is_empty() {
                let _ = writeln!(stderr, "{}", failure.message);
            }
            failure.status
        }
    }
}

/// Creates a realm at `sample_rate` and loads `modules` into it, in order.
///
/// Imports may read module files inside `root`, or, without one, inside the
/// deepest folder that holds every module.
///
/// `interrupt` stops the realm's script from another thread (the engine
/// process's watchdog, see [`isolated`]).
pub(crate) fn load_modules(
    modules: &[PathBuf],
    root: Option<&Path>,
    sample_rate: f64,
    interrupt: Option<InterruptHandle>,
) -> Result<Realm, Failure> {
    let module_roots = module_roots(modules, root)?;
    let config = RealmConfig { module_roots, interrupt, ..RealmConfig::new(sample_rate) };
    let mut realm = Realm::new(&config)?;
    for module in modules {
        realm.add_module_file(module)?;
    }
    Ok(realm)
}

/// The folder imports may read: `root` (which must hold every module), or the
/// deepest folder that holds every module.
pub(crate) fn module_roots(modules: &[PathBuf], root: Option<&Path>) -> Result<Vec<PathBuf>, Failure> {
    let mut common: Option<PathBuf> = None;
    let mut folders = Vec::new();
    for module in modules {
        let canonical = module
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: cannot read module: {e}", module.display())))?;
        let folder = canonical.parent().unwrap_or(Path::new("/")).to_path_buf();
        common = Some(match common {
            None => folder.clone(),
            Some(previous) => common_ancestor(&previous, &folder),
        });
        folders.push((module, canonical));
    }
    let Some(common) = common else { return Err(Failure::usage("no module given")) };
    let Some(root) = root else { return Ok(vec![common]) };
    let root = root.canonicalize().map_err(|e| Failure::usage(format!("--root {}: {e}", root.display())))?;
    if !root.is_dir() {
        return Err(Failure::usage(format!("--root {}: not a folder", root.display())));
    }
    if let Some((module, _)) = folders.iter().find(|(_, canonical)| !canonical.starts_with(&root)) {
        return Err(Failure::usage(format!("{}: the module is outside --root {}", module.display(), root.display())));
    }
    Ok(vec![root])
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components().zip(b.components()).take_while(|(x, y)| x == y).map(|(x, _)| x).collect()
}
