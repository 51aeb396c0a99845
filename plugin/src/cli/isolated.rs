//! `worklet render --isolated`: the render in an engine process of its own, with a
//! memory cap and a watchdog (the caller's thread supervises; two threads relay
//! what the engine process writes).
//!
//! The supervisor runs the same executable with the same arguments and
//! [`CHILD_ENV`] set. That engine process caps its own memory (see
//! [`crate::sys::limits`]) before it reads a module, renders as usual, and writes
//! heartbeat lines to its stderr while it loads and renders. The supervisor
//! relays its stdout and stderr (without the heartbeats). When no heartbeat has
//! come for `--deadline` seconds, it asks the engine process (a line on its
//! stdin) to interrupt the script where it runs: the script throws there, located,
//! the render goes on in silence as after any processor error, and the engine
//! process ends with [`EXIT_ENGINE_DIED`] and the place. A script stuck in
//! native code cannot be interrupted: after [`INTERRUPT_GRACE`] without a
//! heartbeat, the supervisor kills it. Either way the outcome is one line:
//!
//! ```text
//! fib.js: stopped: no render quantum finished for 5 s at fib.js:1:54 (frame 12928); the script was interrupted
//! regex.js: stopped: no render quantum finished for 5 s (at frame 0) in native code, which cannot be interrupted; the engine process was killed
//! bomb.js: out of memory (cap 1024 MiB) at frame 128; the engine process was stopped
//! deep.js: crashed: stack overflow while loading the modules
//! ```
//!
//! A script can then crash, exhaust or hang only its engine process: the command
//! (and, through it, any tool that drives it) always gets an answer in bounded time.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use boa_engine::context::InterruptHandle;

use super::Failure;
use super::args::RenderArgs;
use crate::engine::error::{WATCHDOG_STOPPED, watchdog_stop_in_console};
use crate::engine::{MainEvent, TimedEvent};
pub(crate) use crate::render::engine_process::{INTERRUPT_GRACE, NOT_INTERRUPTIBLE};

/// Set in the engine process's environment: run the render here, capped.
pub const CHILD_ENV: &str = "WORKLET_ENGINE_CHILD";
/// The executable to run as the engine process (default: this one).
pub const EXE_ENV: &str = "WORKLET_ENGINE_EXE";
/// Exit status when the engine process died (crash, memory cap, watchdog), or
/// when the watchdog stopped the script of a render in this process.
pub const EXIT_ENGINE_DIED: i32 = 3;

/// Prefix of a heartbeat line on the engine process's stderr.
const HEARTBEAT: &str = "\u{1e}worklet-heartbeat ";
/// The engine process beats at most this often.
const BEAT_EVERY: Duration = Duration::from_millis(100);
/// How often the supervisor looks at the engine process.
const POLL: Duration = Duration::from_millis(20);
/// Lines of the engine process's stderr kept to tell why it died.
const KEPT_LINES: usize = 32;
/// The line on the engine process's stdin that interrupts its script.
const INTERRUPT: &str = "interrupt";

/// Whether this process is an engine process started by [`run`].
pub(crate) fn in_engine_process() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The engine-process side: heartbeats on stderr, at most every [`BEAT_EVERY`],
/// and the supervisor's interrupt, read from stdin by a thread of its own.
pub(crate) struct Heartbeat {
    last: Option<Instant>,
    interrupt: InterruptHandle,
}

impl Heartbeat {
    /// In an engine process, caps its memory, starts listening for the
    /// supervisor's interrupt and returns the heartbeat; `None` when this is not
    /// an engine process.
    pub(crate) fn start(args: &RenderArgs) -> Result<Option<Self>, Failure> {
        if !in_engine_process() {
            return Ok(None);
        }
        crate::sys::limits::cap_memory(args.memory_cap << 20)
            .map_err(|e| Failure::io(format!("--memory-cap: cannot cap the engine process: {e}")))?;
        let interrupt = InterruptHandle::new();
        let listener = interrupt.clone();
        std::thread::Builder::new()
            .name("worklet-interrupt".into())
            .spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    match line {
                        Ok(line) if line == INTERRUPT => listener.interrupt(),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            })
            .map_err(|e| Failure::io(format!("--isolated: cannot listen to the supervisor: {e}")))?;
        Ok(Some(Self { last: None, interrupt }))
    }

    /// The handle the supervisor's interrupt trips (for the realm).
    pub(crate) fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// Says that the modules are loading.
    pub(crate) fn loading(&mut self, stderr: &mut dyn Write) {
        self.beat(Progress { rendering: false, frame: 0 }, stderr);
    }

    /// Says that the modules are loaded and the node is being created.
    pub(crate) fn loaded(&mut self, stderr: &mut dyn Write) {
        self.beat(Progress { rendering: true, frame: 0 }, stderr);
    }

    /// Says that `frame` frames are rendered (throttled).
    pub(crate) fn rendered(&mut self, frame: u64, stderr: &mut dyn Write) {
        if self.last.is_none_or(|last| last.elapsed() >= BEAT_EVERY) {
            self.beat(Progress { rendering: true, frame }, stderr);
        }
    }

    fn beat(&mut self, progress: Progress, stderr: &mut dyn Write) {
        let phase = if progress.rendering { "render" } else { "load" };
        let _ = writeln!(stderr, "{HEARTBEAT}{phase} {}", progress.frame);
        let _ = stderr.flush();
        self.last = Some(Instant::now());
    }
}

/// The render's outcome once its outputs are written: the death line of an
/// engine process (or an in-process render) whose watchdog interrupted the
/// script.
pub(crate) fn judge(args: &RenderArgs, events: &[TimedEvent]) -> Result<(), Failure> {
    let stopped = events.iter().find_map(|timed| match &timed.event {
        MainEvent::Processorerror { message, filename, lineno, colno } if message.ends_with(WATCHDOG_STOPPED) => {
            Some((timed.frame, format!("{filename}:{lineno}:{colno}")))
        }
        MainEvent::Console { text, .. } => watchdog_stop_in_console(text).map(|at| (timed.frame, at.to_owned())),
        _ => None,
    });
    let Some((frame, at)) = stopped else { return Ok(()) };
    let module = args.modules.first().map(|m| m.display().to_string()).unwrap_or_default();
    Err(Failure {
        status: EXIT_ENGINE_DIED,
        message: format!(
            "{module}: stopped: no render quantum finished for {} s at {at} (frame {frame}); the script was interrupted",
            args.deadline
        ),
    })
}

/// `--deadline` as a duration.
pub(crate) fn deadline(args: &RenderArgs) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(args.deadline)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Failure::usage(format!("--deadline {} is not a positive number of seconds", args.deadline)))
}

/// What the relay threads pass to the supervisor.
enum Relay {
    Stdout(Vec<u8>),
    Stderr(String),
    Beat(Progress),
}

/// Where the engine process was when it last beat.
#[derive(Clone, Copy)]
struct Progress {
    rendering: bool,
    frame: u64,
}

impl Progress {
    fn describe(self) -> String {
        if self.rendering { format!("at frame {}", self.frame) } else { "while loading the modules".to_owned() }
    }
}

/// The executable engine processes run: [`EXE_ENV`], else this one.
pub(crate) fn engine_exe() -> Result<PathBuf, Failure> {
    match std::env::var_os(EXE_ENV) {
        Some(exe) => Ok(exe.into()),
        None => std::env::current_exe().map_err(|e| Failure::io(format!("the engine executable: {e}"))),
    }
}

/// Supervises an engine process that runs `argv` (this command's own arguments).
pub(crate) fn run(
    argv: &[OsString],
    args: &RenderArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), Failure> {
    let exe = engine_exe()?;
    let deadline = deadline(args)?;
    let mut child = Command::new(&exe)
        .args(argv.iter().skip(1))
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::io(format!("--isolated: cannot start the engine process {}: {e}", exe.display())))?;
    let (sender, receiver) = mpsc::channel();
    let relays = [
        relay_stdout(child.stdout.take().expect("piped"), sender.clone()),
        relay_stderr(child.stderr.take().expect("piped"), sender),
    ];
    let mut supervisor = Supervisor {
        progress: Progress { rendering: false, frame: 0 },
        last_beat: Instant::now(),
        kept: VecDeque::new(),
        stdin: child.stdin.take(),
        interrupted: None,
    };
    let outcome = supervisor.watch(&mut child, &receiver, deadline, stdout, stderr);
    for relay in relays {
        let _ = relay.join();
    }
    supervisor.drain(&receiver, stdout, stderr);
    let module = args.modules.first().map(|m| m.display().to_string()).unwrap_or_default();
    match outcome {
        Outcome::Exited(status) => supervisor.judge(status, &module, args.memory_cap),
        Outcome::Killed => {
            let what = if supervisor.progress.rendering {
                format!("no render quantum finished for {} s (at frame {})", args.deadline, supervisor.progress.frame)
            } else {
                format!("loading the modules took longer than {} s", args.deadline)
            };
            Err(Failure {
                status: EXIT_ENGINE_DIED,
                message: format!("{module}: stopped: {what} {NOT_INTERRUPTIBLE}; the engine process was killed"),
            })
        }
    }
}

enum Outcome {
    Exited(ExitStatus),
    Killed,
}

struct Supervisor {
    progress: Progress,
    last_beat: Instant,
    kept: VecDeque<String>,
    /// The engine process's stdin, for the interrupt.
    stdin: Option<ChildStdin>,
    /// When the script was interrupted, until a heartbeat comes again.
    interrupted: Option<Instant>,
}

impl Supervisor {
    fn watch(
        &mut self,
        child: &mut Child,
        receiver: &Receiver<Relay>,
        deadline: Duration,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Outcome {
        loop {
            match receiver.recv_timeout(POLL) {
                Ok(relay) => self.take(relay, stdout, stderr),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Outcome::Exited(status);
            }
            if self.last_beat.elapsed() <= deadline {
                continue;
            }
            match self.interrupted {
                None => {
                    // Whether it is heard or not, the grace below bounds the wait.
                    let _ =
                        self.stdin.as_mut().map(|stdin| writeln!(stdin, "{INTERRUPT}").and_then(|()| stdin.flush()));
                    self.interrupted = Some(Instant::now());
                }
                Some(since) if since.elapsed() > INTERRUPT_GRACE => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Outcome::Killed;
                }
                Some(_) => {}
            }
        }
    }

    fn drain(&mut self, receiver: &Receiver<Relay>, stdout: &mut dyn Write, stderr: &mut dyn Write) {
        while let Ok(relay) = receiver.try_recv() {
            self.take(relay, stdout, stderr);
        }
    }

    fn take(&mut self, relay: Relay, stdout: &mut dyn Write, stderr: &mut dyn Write) {
        match relay {
            Relay::Stdout(bytes) => {
                let _ = stdout.write_all(&bytes);
            }
            Relay::Stderr(line) => {
                let _ = stderr.write_all(line.as_bytes());
                if self.kept.len() == KEPT_LINES {
                    self.kept.pop_front();
                }
                self.kept.push_back(line);
            }
            Relay::Beat(progress) => {
                self.progress = progress;
                self.last_beat = Instant::now();
                self.interrupted = None;
            }
        }
    }

    /// The command's result from the engine process's exit status.
    fn judge(&self, status: ExitStatus, module: &str, cap_mib: u64) -> Result<(), Failure> {
        if let Some(code) = status.code() {
            // The engine process reported its own outcome (and any error) already.
            return if code == 0 { Ok(()) } else { Err(Failure { status: code, message: String::new() }) };
        }
        let kept: Vec<String> = self.kept.iter().cloned().collect();
        let death = crate::render::engine_process::describe_death(status, &kept, cap_mib, &self.progress.describe());
        let message = format!("{module}: {death}");
        Err(Failure { status: EXIT_ENGINE_DIED, message })
    }
}

fn relay_stdout(mut pipe: impl Read + Send + 'static, sender: Sender<Relay>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 || sender.send(Relay::Stdout(buffer[..n].to_vec())).is_err() {
                break;
            }
        }
    })
}

fn relay_stderr(pipe: impl Read + Send + 'static, sender: Sender<Relay>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line).into_owned();
            let relay = match text.strip_prefix(HEARTBEAT).and_then(|beat| beat.trim_end().split_once(' ')) {
                Some((phase, frame)) => {
                    Relay::Beat(Progress { rendering: phase == "render", frame: frame.parse().unwrap_or(0) })
                }
                None => Relay::Stderr(text),
            };
            if sender.send(relay).is_err() {
                break;
            }
            line.clear();
        }
    })
}
