//! A generation rendered by an engine process of its own (control thread, plus
//! three relay threads per engine process that never touch the audio path).
//!
//! The plugin creates the generation's shared memory, starts the engine process
//! ([`super::engine_child`]) with the setup on its stdin, and keeps the host's
//! ends of the rings: audio and parameter events cross as they do in process.
//! The relay threads carry the rest: port messages both ways through bounded
//! queues (full: dropped and counted), GUI parameter requests, and the render
//! thread's telemetry. The control thread watches the process: a death (crash,
//! memory cap) or a build or quantum that runs past the deadline becomes one
//! message naming what happened. Past the deadline, the script is first
//! interrupted where it runs (its error names the line); a quantum is then
//! killed with its process, a build fails with that error. Native code that
//! cannot be interrupted is killed after [`INTERRUPT_GRACE`].

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use super::config::{EngineProcess, PARAM_SLOTS};
use super::engine_wire::{FromEngine, Line, Setup, ToEngine, read_line, write_line};
use super::generation_memory::{Control, GenerationMemory};
use super::link::GenerationLink;
use super::worker::{Ready, Recipe, Shared, layout};
use crate::engine::ScriptError;
use crate::engine::error::{WATCHDOG_STOPPED, watchdog_stop_in_console};
use crate::port::{DropCounters, ToMain, ToRealm};

/// Set in an engine process's environment; [`GENERATION`] runs one generation.
pub const ENGINE_ENV: &str = "WORKLET_ENGINE_CHILD";
/// The value of [`ENGINE_ENV`] for a generation's engine process.
pub const GENERATION: &str = "generation";
/// How often the relay to the engine process looks for messages and requests.
const RELAY_EVERY: Duration = Duration::from_millis(2);
/// Lines of the engine process's stderr kept to tell why it died.
const KEPT_LINES: usize = 32;
/// How long an interrupted script has to report where it was before its
/// process is killed without that (it is stuck in native code).
pub const INTERRUPT_GRACE: Duration = Duration::from_millis(500);
/// Where a script was that did not answer the interrupt (the watchdog's wording,
/// shared with `worklet render --isolated`).
pub const NOT_INTERRUPTIBLE: &str = "in native code, which cannot be interrupted";

/// What the relays learned about the engine process.
#[derive(Default)]
struct Progress {
    built: AtomicBool,
    /// How long its quantum in progress had been running at the last report (ns).
    running_ns: AtomicU64,
    /// Set by the control thread: the relay tells the engine process to interrupt.
    interrupt: AtomicBool,
    /// Where the interrupt stopped the script (`file:line:col`), once it said so.
    stopped_at: Mutex<Option<String>>,
}

/// A deadline that passed: what ran too long, and since when it is interrupted.
struct Overdue {
    what: String,
    since: Instant,
    building: bool,
}

/// One generation's engine process, seen from the control thread.
pub(crate) struct EngineChild {
    child: Child,
    control: Control,
    progress: Arc<Progress>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Tells the relay to the engine process to finish (it then closes stdin).
    quit: Arc<AtomicBool>,
    relays: Vec<JoinHandle<()>>,
    memory_file: PathBuf,
    started: Instant,
    engine: EngineProcess,
    /// Its build or quantum ran past the deadline and was interrupted.
    overdue: Option<Overdue>,
    /// Why it ended, once it did.
    ended: Option<Ended>,
}

/// How an engine process ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ended {
    /// It finished when told to.
    Finished,
    /// It died or was killed; what happened, for the user.
    Died(String),
}

/// Attempts at starting an engine process whose executable is busy (see
/// [`start_process`]), and the pause between them.
const BUSY_ATTEMPTS: u32 = 50;
const BUSY_PAUSE: Duration = Duration::from_millis(5);

/// Starts the engine executable with piped standard streams. Right after the
/// launcher was written to the cache, starting it can fail with "text file
/// busy": a process forked by another thread of the host at that moment briefly
/// holds the file open for writing, until it executes its own program. That
/// passes within milliseconds, so it is retried.
fn start_process(engine: &EngineProcess) -> std::io::Result<Child> {
    let mut attempt = 0;
    loop {
        let started = Command::new(&engine.program)
            .args(&engine.args)
            .env(ENGINE_ENV, GENERATION)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match started {
            #[cfg(unix)]
            Err(error) if error.raw_os_error() == Some(libc::ETXTBSY) && attempt < BUSY_ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(BUSY_PAUSE);
            }
            started => return started,
        }
    }
}

/// Starts generation `id` in an engine process; returns it, its host link and its
/// control words. The build's outcome arrives on `ready` as for a render thread.
pub(crate) fn spawn(
    id: u64,
    recipe: Recipe,
    (to_main, from_main, counters): (Producer<ToMain>, Consumer<ToRealm>, Arc<DropCounters>),
    shared: &Shared,
    ready: Sender<(u64, Result<Ready, ScriptError>)>,
    engine: &EngineProcess,
) -> std::io::Result<(EngineChild, Box<GenerationLink>, Control)> {
    let config = &shared.config;
    let layout = layout(config);
    let (memory, memory_file) = GenerationMemory::create(layout)?;
    let setup = Setup {
        generation: id,
        recipe,
        sample_rate: config.sample_rate,
        max_block: config.max_block,
        input_channels: config.input_channels,
        output_channels: config.output_channels,
        sidechain_channels: config.sidechain_channels,
        aux_output_channels: config.aux_output_channels.clone(),
        realtime_priority: config.realtime_priority,
        idle_gc: config.idle_gc,
        memory: memory_file.clone(),
        layout,
        memory_cap: engine.memory_cap,
        current: (0..PARAM_SLOTS).map(|s| shared.params.current(s).to_bits()).collect(),
        requested: (0..PARAM_SLOTS).map(|s| shared.params.requested(s).to_bits()).collect(),
    };
    let mut child = start_process(engine).inspect_err(|_| {
        let _ = std::fs::remove_file(&memory_file);
    })?;
    let (stdin, stdout, stderr_pipe) =
        (child.stdin.take().expect("piped"), child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let progress = Arc::new(Progress::default());
    let stderr = Arc::new(Mutex::new(VecDeque::new()));
    let quit = Arc::new(AtomicBool::new(false));
    let relays = vec![
        relay_to_engine(id, stdin, setup, from_main, shared.clone(), quit.clone(), progress.clone())?,
        relay_from_engine(id, stdout, to_main, counters, shared.clone(), ready, progress.clone())?,
        keep_stderr(id, stderr_pipe, stderr.clone())?,
    ];
    let link = GenerationLink::new(id, memory.host_ends(), memory.control(), config.latency_frames());
    let control = memory.control();
    let engine = engine.clone();
    let child = EngineChild {
        child,
        control: control.clone(),
        progress,
        stderr,
        quit,
        relays,
        memory_file,
        started: Instant::now(),
        engine,
        overdue: None,
        ended: None,
    };
    Ok((child, Box::new(link), control))
}

impl EngineChild {
    /// Looks at the process: whether it ended, and kills it when its build or a
    /// quantum ran past the deadline. Returns how it ended, once.
    pub(crate) fn poll(&mut self) -> Option<Ended> {
        if self.ended.is_some() {
            return None;
        }
        let ended = match self.child.try_wait() {
            Ok(Some(status)) => {
                // Its last words (a stack overflow, a failed allocation) may
                // still be in the pipe: read stderr to its end first.
                self.finish_relays();
                Some(self.judge(status))
            }
            Ok(None) => self.watchdog(),
            Err(error) => Some(Ended::Died(format!("crashed: cannot watch the engine process ({error})"))),
        };
        if ended.is_some() {
            self.finish_relays();
        }
        self.ended.clone_from(&ended);
        ended
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has ended (as far as [`EngineChild::poll`] saw).
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// Kills the process (it was told to stop and did not).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.finish_relays();
        self.ended.get_or_insert(Ended::Finished);
    }

    /// Interrupts a build or quantum that ran past the deadline; kills the
    /// process once the script said where it was stopped, or after
    /// [`INTERRUPT_GRACE`] without that. A build that the interrupt stopped fails
    /// with its located error and its process ends by itself.
    fn watchdog(&mut self) -> Option<Ended> {
        let built = self.progress.built.load(Ordering::Acquire);
        if let Some(overdue) = &self.overdue {
            if overdue.building && built {
                self.overdue = None;
                return None;
            }
            let at = self.progress.stopped_at.lock().unwrap_or_else(PoisonError::into_inner).take();
            if at.is_none() && overdue.since.elapsed() < INTERRUPT_GRACE {
                return None;
            }
            let at = at.map_or_else(|| NOT_INTERRUPTIBLE.to_owned(), |at| format!("at {at}"));
            let what = format!("{} {at}; the engine process was killed", overdue.what);
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Some(Ended::Died(what));
        }
        let deadline = self.engine.deadline;
        let seconds = deadline.as_secs_f64();
        let what = if !built {
            (self.started.elapsed() > deadline).then(|| format!("stopped: the build ran for more than {seconds} s"))
        } else {
            let running = Duration::from_nanos(self.progress.running_ns.load(Ordering::Relaxed));
            (running > deadline).then(|| format!("stopped: process() ran for more than {seconds} s"))
        }?;
        self.progress.interrupt.store(true, Ordering::Release);
        self.overdue = Some(Overdue { what, since: Instant::now(), building: !built });
        None
    }

    fn judge(&self, status: ExitStatus) -> Ended {
        // Status 0 is an orderly end: told to stop, or a build that failed and
        // said why on stdout (the relays just delivered it), even when the exit
        // is seen before that report.
        if status.success() && (self.control.stopped() || !self.progress.built.load(Ordering::Acquire)) {
            return Ended::Finished;
        }
        let tail: Vec<String> = self.stderr.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect();
        let during = if self.progress.built.load(Ordering::Acquire) { "while rendering" } else { "while building" };
        Ended::Died(describe_death(status, &tail, self.engine.memory_cap >> 20, during))
    }

    fn finish_relays(&mut self) {
        self.quit.store(true, Ordering::Release);
        let _ = std::fs::remove_file(&self.memory_file);
        // The pipes are closed now that the process ended, so the relays end too.
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
    }
}

impl Drop for EngineChild {
    fn drop(&mut self) {
        if self.ended.is_none() {
            self.kill();
        }
    }
}

/// One line telling what ended an engine process, from its status and the last
/// lines of its stderr (what Rust's runtime prints on a failed allocation or a
/// stack overflow).
pub(crate) fn describe_death(status: ExitStatus, stderr: &[String], cap_mib: u64, during: &str) -> String {
    let said = |needle: &str| stderr.iter().any(|line| line.contains(needle));
    if said("memory allocation of") {
        format!("out of memory (cap {cap_mib} MiB) {during}; the engine process was stopped")
    } else if said("has overflowed its stack") {
        format!("crashed: stack overflow {during} (recursion through native code, which no script limit counts)")
    } else if let Some(code) = status.code() {
        let said = stderr.iter().rev().find(|line| !line.trim().is_empty()).map(|line| line.trim());
        format!(
            "crashed: the engine process exited with status {code} {during}{}",
            said.map_or(String::new(), |l| format!(": {l}"))
        )
    } else {
        format!("crashed: {} {during}", describe_signal(status))
    }
}

/// `killed by SIGSEGV (11)` and the like.
pub(crate) fn describe_signal(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGABRT => "SIGABRT",
                libc::SIGBUS => "SIGBUS",
                libc::SIGILL => "SIGILL",
                libc::SIGFPE => "SIGFPE",
                libc::SIGKILL => "SIGKILL",
                libc::SIGTERM => "SIGTERM",
                _ => "a signal",
            };
            return format!("killed by {name} ({signal})");
        }
    }
    format!("ended without an exit status ({status})")
}

/// Writes the setup, then port messages and changed parameter requests, until told to quit.
fn relay_to_engine(
    id: u64,
    stdin: ChildStdin,
    setup: Setup,
    mut from_main: Consumer<ToRealm>,
    shared: Shared,
    quit: Arc<AtomicBool>,
    progress: Arc<Progress>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("worklet-engine-{id}-in")).spawn(move || {
        let mut out = BufWriter::with_capacity(1 << 16, stdin);
        let mut sent: [u32; PARAM_SLOTS] = std::array::from_fn(|s| setup.requested[s]);
        if write_line(&mut out, &setup).is_err() {
            return;
        }
        drop(setup);
        while !quit.load(Ordering::Acquire) {
            if progress.interrupt.swap(false, Ordering::AcqRel) && write_line(&mut out, &ToEngine::Interrupt).is_err() {
                return;
            }
            while let Ok(message) = from_main.pop() {
                if write_line(&mut out, &ToEngine::Port(message)).is_err() {
                    return;
                }
            }
            for (slot, sent) in sent.iter_mut().enumerate() {
                let value = shared.params.requested(slot);
                if value.to_bits() != *sent {
                    *sent = value.to_bits();
                    if write_line(&mut out, &ToEngine::Request { slot, value: *sent }).is_err() {
                        return;
                    }
                }
            }
            std::thread::sleep(RELAY_EVERY);
        }
    })
}

/// Reads the build's outcome, port messages and reports until the process ends.
fn relay_from_engine(
    id: u64,
    stdout: std::process::ChildStdout,
    mut to_main: Producer<ToMain>,
    counters: Arc<DropCounters>,
    shared: Shared,
    ready: Sender<(u64, Result<Ready, ScriptError>)>,
    progress: Arc<Progress>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("worklet-engine-{id}-out")).spawn(move || {
        let mut input = BufReader::with_capacity(1 << 16, stdout);
        let mut buffer = Vec::new();
        loop {
            match read_line::<FromEngine>(&mut input, &mut buffer) {
                Line::Value(FromEngine::Built(built)) => {
                    progress.built.store(true, Ordering::Release);
                    let _ = ready.send((id, built));
                }
                Line::Value(FromEngine::Port(message)) => {
                    let stopped_at = match &message {
                        ToMain::ProcessorError(error) if error.message == WATCHDOG_STOPPED => Some(error.location()),
                        ToMain::Console { text, .. } => watchdog_stop_in_console(text).map(str::to_owned),
                        _ => None,
                    };
                    if stopped_at.is_some() {
                        *progress.stopped_at.lock().unwrap_or_else(PoisonError::into_inner) = stopped_at;
                    }
                    if to_main.push(message).is_err() {
                        counters.count_to_main(1);
                    }
                }
                Line::Value(FromEngine::Report(report)) => {
                    progress.running_ns.store(report.running_ns, Ordering::Relaxed);
                    if shared.telemetry.is_active(id) {
                        shared.telemetry.apply(&report);
                    }
                    for &(slot, value) in &report.current {
                        shared.params.set_current(slot, f32::from_bits(value));
                    }
                    shared.stats.add(&report.stats, report.max_ns);
                }
                Line::Bad => {}
                Line::End => break,
            }
        }
    })
}

/// Keeps the last lines of the engine process's stderr.
fn keep_stderr(
    id: u64,
    stderr: std::process::ChildStderr,
    kept: Arc<Mutex<VecDeque<String>>>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("worklet-engine-{id}-err")).spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            line.truncate(4096);
            let text = String::from_utf8_lossy(&line).into_owned();
            let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(text);
            line.clear();
        }
    })
}
