//! The pipeline with each generation in an engine process of its own: the same
//! output sample for sample as render threads, ports, parameters and telemetry
//! across the process boundary, and a death (crash, memory cap, watchdog) that
//! leaves the host alive, says what happened and plays the last good code again.
//!
//! Runs the release `worklet` binary as the engine (built by `cargo xtask bundle
//! worklet --release`).

use std::time::{Duration, Instant};

use serde_json::json;
use worklet::port::{NODE_PORT, Received};
use worklet::render::{EngineProcess, PipelineConfig, PipelineEvent};
use worklet_tests::live::{Live, config, factory_recipe, recipe};

fn engine() -> EngineProcess {
    EngineProcess::new(worklet_tests::worklet_binary())
}

fn isolated(max_block: usize) -> PipelineConfig {
    PipelineConfig { isolation: Some(engine()), ..config(max_block) }
}

fn impulse(frames: usize) -> Vec<Vec<f32>> {
    let mut channel = vec![0.0; frames];
    channel[0] = 1.0;
    channel[frames / 3] = -0.5;
    vec![channel.clone(), channel]
}

/// Whether a process with this id is alive (not a zombie) on this machine.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

#[test]
fn an_engine_process_renders_sample_for_sample_what_a_render_thread_does() {
    let input = impulse(5000);
    for size in [1usize, 100, 128, 500] {
        let mut threaded = Live::new(config(size), factory_recipe("biquad.js"));
        let mut isolated = Live::new(isolated(size), factory_recipe("biquad.js"));
        let pids = isolated.pipeline.engine_processes();
        assert_eq!(pids.len(), 1, "one engine process per generation");
        assert_ne!(pids[0], std::process::id());
        assert!(threaded.pipeline.engine_processes().is_empty());
        let want = threaded.run(&input, &[size]);
        let got = isolated.run(&input, &[size]);
        assert!(want[0].iter().any(|&s| s.abs() > 1e-3), "the filter rings");
        assert_eq!(got, want, "block size {size}: bit for bit");
        assert_eq!(isolated.pipeline.telemetry().underruns(), 0);
        drop(isolated);
        assert!(!alive(pids[0]), "the engine process ends with its pipeline");
    }
}

#[test]
fn an_engine_process_bounces_sample_for_sample_what_a_render_thread_does() {
    // Offline, the engine process may run ahead of what the host plays; the
    // host side waits (on the rendered counter) only for what it plays.
    let input = impulse(5000);
    for size in [1usize, 100, 128, 500] {
        let offline = |config: PipelineConfig| PipelineConfig { offline: true, ..config };
        let mut threaded = Live::new(offline(config(size)), factory_recipe("biquad.js"));
        let mut isolated = Live::new(offline(isolated(size)), factory_recipe("biquad.js"));
        let want = threaded.bounce(&input, &[size]);
        let got = isolated.bounce(&input, &[size]);
        assert!(want[0].iter().any(|&s| s.abs() > 1e-3), "the filter rings");
        assert_eq!(got, want, "block size {size}: bit for bit");
        assert_eq!(threaded.pipeline.telemetry().underruns(), 0, "block size {size}");
        assert_eq!(isolated.pipeline.telemetry().underruns(), 0, "block size {size}");
    }
}

#[test]
fn ports_parameters_and_telemetry_cross_the_process_boundary() {
    let source = "registerProcessor('p', class extends AudioWorkletProcessor {
      static get parameterDescriptors() { return [{ name: 'gain', defaultValue: 1, minValue: 0, maxValue: 2 }]; }
      constructor() {
        super();
        this.port.onmessage = (e) => this.port.postMessage({ echo: e.data, frame: currentFrame });
        console.log('built in', globalThis.sampleRate);
      }
      process(i, [out], { gain }) { for (const c of out) c.fill(0.5 * gain[gain.length - 1]); return true; }
    });";
    let mut live = Live::new(isolated(128), recipe(source));
    let silence = vec![0.0f32; 128];
    for _ in 0..8 {
        live.block(&[&silence, &silence], 128, &[]);
    }
    live.pipeline.ports().unwrap().post(NODE_PORT, json!({ "hello": [1, 2.5] }), &[]).unwrap();
    live.pipeline.params().request(0, 0.25);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut echo, mut console, mut last) = (None, None, Vec::new());
    while (echo.is_none() || console.is_none() || last.first() != Some(&0.125)) && Instant::now() < deadline {
        last = live.block(&[&silence, &silence], 128, &[])[0].clone();
        for received in live.received() {
            match received {
                Received::Message { port: NODE_PORT, data, .. } => echo = Some(data),
                Received::Console { text, .. } => console = Some(text),
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(echo.as_ref().map(|e| &e["echo"]), Some(&json!({ "hello": [1, 2.5] })), "node.port round trip");
    assert_eq!(console.as_deref(), Some("built in 48000"));
    assert!(last.iter().all(|&s| (s - 0.125).abs() < 1e-7), "the GUI's request reached the engine: {:?}", &last[..4]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.pipeline.params().current(0) != 0.25 && Instant::now() < deadline {
        live.block(&[&silence, &silence], 128, &[]);
    }
    assert_eq!(live.pipeline.params().current(0), 0.25, "the current value came back for the next generation");
    let telemetry = live.pipeline.telemetry();
    assert!(telemetry.quanta() > 8, "quanta are reported: {}", telemetry.quanta());
    assert!(telemetry.load() > 0.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.pipeline.stats().count() == 0 && Instant::now() < deadline {
        live.block(&[&silence, &silence], 128, &[]);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(live.pipeline.stats().count() > 0, "render times are reported");
}

/// Renders blocks until `until` says stop or the time is up; returns the blocks' first channel.
fn play(live: &mut Live, seconds: u64, mut until: impl FnMut(&Live, &[f32]) -> bool) -> Vec<f32> {
    let silence = vec![0.0f32; 128];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut played = Vec::new();
    while Instant::now() < deadline {
        let mut output = vec![vec![0.0; 128]; 2];
        let mut slices: Vec<&mut [f32]> = output.iter_mut().map(Vec::as_mut_slice).collect();
        live.host.process(&[&silence, &silence], &mut slices, &[]);
        live.events.extend(live.pipeline.poll());
        played.extend_from_slice(&output[0]);
        if until(live, &output[0]) {
            break;
        }
        std::thread::sleep(Duration::from_micros(2667));
    }
    played
}

fn died(live: &Live) -> Option<(u64, String, Option<u64>)> {
    live.events.iter().find_map(|event| match event {
        PipelineEvent::Died { generation, message, recovery } => Some((*generation, message.clone(), *recovery)),
        _ => None,
    })
}

const GOOD: &str = "registerProcessor('good', class extends AudioWorkletProcessor {
  process(i, [out]) { for (const c of out) c.fill(0.5); return true; }
});";

/// Plays 0.25, then after 0.2 s of playing overflows the native stack (a long Proxy chain).
const CRASHES_LATER: &str = "registerProcessor('later', class extends AudioWorkletProcessor {
  process(i, [out]) {
    for (const c of out) c.fill(0.25);
    if (currentFrame > 9600) { let p = {}; for (let n = 0; n < 1e6; n++) p = new Proxy(p, {}); p.x; }
    return true;
  }
});";

#[test]
fn a_crash_while_playing_is_reported_and_the_last_good_code_plays_again() {
    let mut live = Live::new(isolated(128), recipe(GOOD));
    play(&mut live, 30, |_, out| out[0] == 0.5);
    assert!(matches!(live.load(recipe(CRASHES_LATER)), PipelineEvent::Ready { .. }));
    play(&mut live, 30, |_, out| out[0] == 0.25);
    let crashed_pid = live.pipeline.engine_processes().last().copied().expect("the new generation's process");
    play(&mut live, 60, |live, _| died(live).is_some());
    let (generation, message, recovery) = died(&live).expect("the crash is reported");
    let crashed = Instant::now();
    assert_eq!(generation, 2);
    assert!(message.starts_with("crashed: stack overflow while rendering"), "{message}");
    let recovery = recovery.expect("the last good code is started again");
    play(&mut live, 30, |live, out| live.host.playing() == recovery && out.iter().all(|&s| s == 0.5));
    let recovered = crashed.elapsed();
    eprintln!("from the crash being seen to the last good generation playing again: {recovered:?}");
    assert_eq!(live.host.playing(), recovery);
    assert!(!alive(crashed_pid), "the crashed process is gone");
    assert!(
        live.events.iter().all(|e| !matches!(e, PipelineEvent::Died { generation, .. } if *generation == recovery)),
        "the recovery lives"
    );
}

#[test]
fn a_memory_bomb_hits_the_cap_and_a_build_that_hangs_is_killed_by_the_watchdog() {
    let engine = EngineProcess { memory_cap: 512 << 20, deadline: Duration::from_secs(2), ..engine() };
    let mut live = Live::new(PipelineConfig { isolation: Some(engine), ..config(128) }, recipe(GOOD));
    play(&mut live, 30, |_, out| out[0] == 0.5);
    let bomb = "registerProcessor('bomb', class extends AudioWorkletProcessor {
      process() { 'x'.repeat(2 ** 30); return true; }
    });";
    live.load(recipe(bomb));
    let started = Instant::now();
    let played = play(&mut live, 60, |live, _| died(live).is_some());
    let (generation, message, recovery) = died(&live).expect("the bomb's death is reported");
    eprintln!("memory bomb stopped after {:?}: {message}", started.elapsed());
    assert_eq!(generation, 2);
    assert!(message.starts_with("out of memory (cap 512 MiB) while rendering"), "{message}");
    assert!(played.iter().all(|s| s.is_finite()), "the host only ever played finite samples");
    let recovery = recovery.expect("the good code is started again");
    play(&mut live, 30, |live, out| live.host.playing() == recovery && out[0] == 0.5);
    assert_eq!(live.host.playing(), recovery);

    let recovery_playing = live.host.playing();
    live.events.clear();
    // Backtracks for ages in native code, where no script limit reaches.
    let hangs = "/(a+)+b/.test('a'.repeat(40)); registerProcessor('never', class extends AudioWorkletProcessor {});";
    let id = live.pipeline.load(recipe(hangs)).unwrap();
    let underruns_before = live.pipeline.telemetry().underruns();
    let started = Instant::now();
    let played = play(&mut live, 60, |live, _| died(live).is_some());
    let (generation, message, recovery) = died(&live).expect("the watchdog reports the hang");
    let took = started.elapsed();
    eprintln!("a hanging build was stopped after {took:?}: {message}");
    assert_eq!(generation, id);
    assert!(message.starts_with("stopped: the build ran for more than 2 s"), "{message}");
    assert!(message.contains("in native code, which cannot be interrupted"), "{message}");
    assert_eq!(recovery, None, "a generation that never played is not restarted");
    assert!(took < Duration::from_secs(20), "{took:?}");
    // The playing generation kept playing throughout. The hang spins a core, so
    // on a loaded machine blocks may come late: each is silence, and counted.
    assert_eq!(live.host.playing(), recovery_playing);
    assert!(played.iter().all(|&s| s == 0.5 || s == 0.0), "only the good code or an underrun's silence");
    let late = played.chunks(128).filter(|block| block.iter().any(|&s| s != 0.5)).count() as u64;
    let underruns = live.pipeline.telemetry().underruns() - underruns_before;
    assert!(late <= underruns, "{late} blocks not played, {underruns} underruns counted");
    // Two cores shared with the spinning build and the other tests: 83 of 649
    // blocks came late in one full run; alone, none do.
    assert!(late * 2 <= (played.len() / 128) as u64, "{late} of {} blocks late", played.len() / 128);
}

/// Plays 0.25, then after 0.1 s calls a function that calls itself for ages: no
/// loop, so no loop budget stops it; only the watchdog does.
const RUNS_AWAY_LATER: &str = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
registerProcessor('later', class extends AudioWorkletProcessor {
  process(i, [out]) {
    for (const c of out) c.fill(0.25);
    if (currentFrame > 4800) fib(60);
    return true;
  }
});";

#[test]
fn a_quantum_past_the_deadline_is_stopped_at_its_line_and_the_last_good_code_plays_again() {
    let engine = EngineProcess { deadline: Duration::from_secs(2), ..engine() };
    let mut live = Live::new(PipelineConfig { isolation: Some(engine), ..config(128) }, recipe(GOOD));
    play(&mut live, 30, |_, out| out[0] == 0.5);
    assert!(matches!(live.load(recipe(RUNS_AWAY_LATER)), PipelineEvent::Ready { .. }));
    play(&mut live, 30, |_, out| out[0] == 0.25);
    let started = Instant::now();
    let played = play(&mut live, 60, |live, _| died(live).is_some());
    let took = started.elapsed();
    let (generation, message, recovery) = died(&live).expect("the watchdog reports the runaway");
    eprintln!("a runaway quantum was stopped after {took:?}: {message}");
    assert_eq!(generation, 2);
    // Either call of `fib` on line 1 may be where the interrupt finds it.
    let (stopped, rest) = message.split_once(" at main.js:1:").expect("the interrupt names the line the script was on");
    assert_eq!(stopped, "stopped: process() ran for more than 2 s", "{message}");
    assert!(rest.ends_with("; the engine process was killed"), "{message}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(played.iter().all(|s| s.is_finite()), "the host only ever played finite samples");
    let recovery = recovery.expect("the last good code is started again");
    play(&mut live, 30, |live, out| live.host.playing() == recovery && out[0] == 0.5);
    assert_eq!(live.host.playing(), recovery);
}

#[test]
fn a_build_past_the_deadline_fails_at_its_line_and_the_playing_code_stays() {
    let engine = EngineProcess { deadline: Duration::from_secs(2), ..engine() };
    let mut live = Live::new(PipelineConfig { isolation: Some(engine), ..config(128) }, recipe(GOOD));
    play(&mut live, 30, |_, out| out[0] == 0.5);
    let playing = live.host.playing();
    let slow = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }\nfib(60);
registerProcessor('never', class extends AudioWorkletProcessor {});";
    let started = Instant::now();
    let PipelineEvent::Failed { error, .. } = live.load(recipe(slow)) else {
        panic!("the build fails: {:?}", live.events)
    };
    let took = started.elapsed();
    eprintln!("a runaway build was stopped after {took:?}: {error}");
    assert_eq!((error.filename.as_str(), error.lineno), ("main.js", 1), "{error}");
    assert_eq!(error.name, "RangeError");
    assert_eq!(error.message, "the watchdog stopped the script: it ran past the engine's deadline");
    assert!(took < Duration::from_secs(20), "{took:?}");
    play(&mut live, 2, |_, _| false);
    assert!(died(&live).is_none(), "an interrupted build ends its process in order: {:?}", live.events);
    assert_eq!(live.host.playing(), playing, "the playing code stays");
}

#[test]
fn a_message_handler_past_the_deadline_is_stopped_at_its_line() {
    let engine = EngineProcess { deadline: Duration::from_secs(2), ..engine() };
    let source = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
registerProcessor('p', class extends AudioWorkletProcessor {
  constructor() { super(); this.port.onmessage = () => fib(60); }
  process(i, [out]) { for (const c of out) c.fill(0.5); return true; }
});";
    let mut live = Live::new(PipelineConfig { isolation: Some(engine), ..config(128) }, recipe(source));
    play(&mut live, 30, |_, out| out[0] == 0.5);
    live.pipeline.ports().unwrap().post(NODE_PORT, json!("go"), &[]).unwrap();
    play(&mut live, 60, |live, _| died(live).is_some());
    let (_, message, _) = died(&live).expect("the watchdog reports the runaway handler");
    eprintln!("a runaway message handler: {message}");
    assert!(message.contains(" at main.js:1:"), "the console line of the handler's error names it: {message}");
    assert!(message.ends_with("; the engine process was killed"), "{message}");
}
