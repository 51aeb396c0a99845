//! The hostile-script corpus in the built `Worklet.clap`, hosted by clack-host:
//! every case, including those that crash, exhaust or hang the engine (memory
//! bombs, recursion through native code, catastrophic regexes), is loaded into one
//! active instance, as a user pasting it into the editor would, and played for a
//! while. The plugin runs its engine in processes of its own, so the host's
//! process (this test) must survive them all; its `process` calls must keep
//! coming back, only finite samples may come out, and afterwards the instance
//! must still play a good script correctly. Needs the bundle, like `clap_host`.

use std::time::{Duration, Instant};

use clack_extensions::render::RenderMode;
use clack_host::prelude::*;

use super::clap_host::{entry, instance, load_processor};
use super::clap_live::activate;
use super::hostile::{corpus, expected};

/// Blocks played per case (about 0.3 s of audio at 48 kHz).
const BLOCKS: usize = 120;
/// A `process` call that takes this long has blocked the host (hang detection;
/// a healthy call takes microseconds).
const BLOCKED: Duration = Duration::from_secs(1);

#[test]
fn the_plugin_survives_every_hostile_script_and_plays_on() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let mut active = activate(&mut plugin, 128, RenderMode::Realtime);
    let events = EventBuffer::new();
    let mut hosted = 0;
    let mut fatal = 0;
    let mut slowest = Duration::ZERO;
    for script in corpus() {
        // Cases the isolated CLI ends with another status kill or hang an engine.
        let exit = expected(&script.with_extension("expect")).exit;
        fatal += usize::from(!matches!(exit, Some(0 | 2)));
        hosted += 1;
        let source = std::fs::read_to_string(&script).expect("the case");
        load_processor(&mut plugin, &source);
        for block in 0..BLOCKS {
            let started = Instant::now();
            let output = active.block(128, 0.25, &events);
            slowest = slowest.max(started.elapsed());
            assert!(started.elapsed() < BLOCKED, "{}: block {block} took {:?}", script.display(), started.elapsed());
            assert!(
                output.iter().flatten().all(|s| s.is_finite()),
                "{}: a non-finite sample reached the host",
                script.display()
            );
            std::thread::sleep(Duration::from_micros(2_700));
        }
    }
    assert!(hosted >= 36 && fatal >= 10, "{hosted} cases hosted, {fatal} of them fatal to an engine");
    eprintln!("{hosted} hostile scripts hosted ({fatal} fatal to an engine); slowest process call {slowest:?}");
    // A good script after all of them: unity gain passes the input through.
    load_processor(&mut plugin, &worklet_tests::processors_dir_source("gain.js"));
    let mut last = Vec::new();
    for _ in 0..400 {
        last = active.block(128, 0.25, &events);
        std::thread::sleep(Duration::from_micros(2_700));
    }
    assert!(
        last.iter().flatten().all(|&s| (s - 0.25).abs() < 1e-6),
        "the gain plays after the corpus: {:?}",
        &last[0][..4]
    );
    active.stop(&mut plugin);
}
