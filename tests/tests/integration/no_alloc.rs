//! The host side never allocates: every `HostSide::process` call, across block
//! sizes, parameter changes, underruns and a hot swap, runs under an allocator
//! that counts allocations on the calling thread.

use std::time::Duration;

use worklet::render::{ParamChange, PipelineEvent};
use worklet::sys::alloc_guard::{no_alloc, violations_here};
use worklet_tests::live::{Live, config, factory_recipe, recipe};

#[test]
fn the_detector_sees_an_allocation() {
    let before = violations_here();
    let v = no_alloc(|| Vec::<u8>::with_capacity(64));
    assert_eq!(violations_here(), before + 1, "an allocation inside no_alloc is counted");
    drop(v);
    assert_eq!(violations_here(), before + 1, "a free outside is not");
}

#[test]
fn host_process_never_allocates() {
    let mut live = Live::new(config(512), factory_recipe("gain.js"));
    let input = vec![vec![0.25f32; 512]; 2];
    let mut output = vec![vec![0.0f32; 512]; 2];
    // `pace`: wait for the render thread after each call (or, if false, only a
    // little wall-clock time, as a real host would).
    let mut run = |live: &mut Live, sizes: &[usize], changes: &[ParamChange], pace: Option<bool>| {
        for &size in sizes {
            let inputs: Vec<&[f32]> = input.iter().map(|c| &c[..size]).collect();
            let mut outputs: Vec<&mut [f32]> = output.iter_mut().map(|c| &mut c[..size]).collect();
            let changes: Vec<ParamChange> = changes.iter().filter(|c| (c.offset as usize) < size).copied().collect();
            let before = violations_here();
            no_alloc(|| live.host.process(&inputs, &mut outputs, &changes));
            assert_eq!(violations_here(), before, "HostSide::process allocated (block of {size})");
            match pace {
                Some(true) => live.settle(),
                Some(false) => std::thread::sleep(Duration::from_millis(3)),
                None => {}
            }
        }
    };
    run(
        &mut live,
        &[1, 7, 127, 128, 129, 500, 512],
        &[ParamChange { offset: 3, slot: 0, normalized: 0.5 }],
        Some(true),
    );
    // Unpaced: the render thread falls behind, input waits as debt, underruns are counted.
    run(&mut live, &[512; 64], &[], None);
    assert!(live.pipeline.telemetry().underruns() > 0);
    // Real-time pacing lets it recover.
    run(&mut live, &[128; 100], &[], Some(false));
    // A hot swap: the link arrives, is attached, crossfaded and retired on this thread.
    let event = live.load(recipe(&worklet_tests::processors_dir_source("gain.js").replace("GainProcessor", "Edited")));
    assert!(matches!(event, PipelineEvent::Ready { .. }));
    run(&mut live, &[128; 64], &[ParamChange { offset: 0, slot: 0, normalized: 1.0 }], Some(false));
    assert_eq!(live.pipeline.telemetry().active_generation(), 2, "the swap happened inside the checked calls");
}

#[test]
fn host_process_never_allocates_offline_while_it_waits_for_the_render_thread() {
    let offline = worklet::render::PipelineConfig { offline: true, ..config(512) };
    let mut live = Live::new(offline, factory_recipe("biquad.js"));
    let input = vec![vec![0.25f32; 512]; 2];
    let mut output = vec![vec![0.0f32; 512]; 2];
    for &size in [1, 7, 127, 128, 129, 500, 512].iter().cycle().take(200) {
        let inputs: Vec<&[f32]> = input.iter().map(|c| &c[..size]).collect();
        let mut outputs: Vec<&mut [f32]> = output.iter_mut().map(|c| &mut c[..size]).collect();
        let before = violations_here();
        no_alloc(|| live.host.process(&inputs, &mut outputs, &[]));
        assert_eq!(violations_here(), before, "HostSide::process allocated offline (block of {size})");
    }
    assert_eq!(live.pipeline.telemetry().underruns(), 0, "offline, it waited for every frame it played");
}

#[test]
fn host_process_never_allocates_around_wasm_processors() {
    let mut live = Live::new(config(512), factory_recipe("biquad-wasm.js"));
    let input: Vec<Vec<f32>> =
        (0..2).map(|c| (0..512).map(|i| ((i * (c + 3)) as f32 * 0.01).sin() * 0.5).collect()).collect();
    let run = |live: &mut Live, sizes: &[usize], changes: &[ParamChange]| {
        let mut heard = 0.0f32;
        for &size in sizes {
            let inputs: Vec<&[f32]> = input.iter().map(|c| &c[..size]).collect();
            let mut output = vec![vec![0.0f32; size]; 2];
            let mut outputs: Vec<&mut [f32]> = output.iter_mut().map(Vec::as_mut_slice).collect();
            let changes: Vec<ParamChange> = changes.iter().filter(|c| (c.offset as usize) < size).copied().collect();
            let before = violations_here();
            no_alloc(|| live.host.process(&inputs, &mut outputs, &changes));
            assert_eq!(violations_here(), before, "HostSide::process allocated (block of {size})");
            live.settle();
            heard = output.iter().flatten().fold(heard, |peak, x| peak.max(x.abs()));
            assert!(output.iter().flatten().all(|x| x.is_finite()));
        }
        heard
    };
    let sizes = [1, 7, 127, 128, 129, 500, 512, 512, 512];
    assert!(
        run(&mut live, &sizes, &[ParamChange { offset: 3, slot: 0, normalized: 0.3 }]) > 0.01,
        "the wasm biquad plays"
    );

    // Hot swaps: to the Faust reverb (another module), then an edit of its
    // JavaScript alone, whose unchanged wasm comes from the compile cache.
    let reverb = worklet_tests::processors_dir_source("reverb-wasm.js");
    let first = live.load(recipe(&reverb));
    assert!(run(&mut live, &[128; 40], &[]) > 0.01, "the reverb plays");
    let edited = live.load(recipe(&reverb.replace("class ", "/* edited */ class ")));
    assert!(run(&mut live, &[128; 40], &[]) > 0.01, "the edited reverb plays");
    let build = |event: &PipelineEvent| match event {
        PipelineEvent::Ready { build_time, .. } => *build_time,
        other => panic!("not ready: {other:?}"),
    };
    eprintln!(
        "hot swap to the wasm reverb: ready after {:?}; after an edit of its JavaScript (cached compile): {:?}",
        build(&first),
        build(&edited)
    );
    assert_eq!(live.pipeline.telemetry().active_generation(), 3, "both swaps happened inside the checked calls");
}

#[test]
fn host_process_never_allocates_with_midi_sysex_expressions_the_transport_and_every_bus_flowing() {
    use worklet::engine::Transport;
    use worklet::engine::host_events::NoteExpression;
    use worklet::render::{BlockEvent, EventsIn, EventsOut, PipelineConfig};
    let echo = std::fs::read_to_string(worklet_tests::repo().join("tests/data/midi/echo.js")).unwrap();
    // Stereo in and out, a stereo sidechain and a stereo auxiliary output.
    let config = PipelineConfig { sidechain_channels: 2, aux_output_channels: vec![2], ..config(512) };
    let mut live = Live::new(config, recipe(&echo));
    let input = vec![vec![0.0f32; 512]; 4];
    let mut output = vec![vec![0.0f32; 512]; 4];
    let mut out = EventsOut::default();
    // Allocated before the checked calls, as a plugin holds them.
    let events: Vec<BlockEvent> = (0..6_000u32)
        .map(|i| match i % 3 {
            2 => BlockEvent::expression(i % 512, 0, (i % 128) as u8, i as i32 - 1, NoteExpression::Tuning, 0.5),
            _ => BlockEvent::midi(i % 512, [0x90 | (i % 16) as u8, (i % 128) as u8, 64], i as i32),
        })
        .collect();
    let mut sorted = events;
    sorted.sort_by_key(|e| e.offset);
    let mut transport = Transport { playing: true, tempo: 128.0, numerator: 4, denominator: 4, ..Transport::default() };
    const GM_ON: [u8; 6] = [0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7];
    let (mut sent, mut sysex_sent) = (0, 0);
    let mut run = |live: &mut Live, blocks: usize, flood: bool| {
        for block in 0..blocks {
            let size = [1usize, 7, 128, 500, 512][block % 5];
            let inputs: Vec<&[f32]> = input.iter().map(|c| &c[..size]).collect();
            let mut outputs: Vec<&mut [f32]> = output.iter_mut().map(|c| &mut c[..size]).collect();
            let notes: Vec<BlockEvent> = if flood && block == 3 {
                sorted[..sorted.partition_point(|e| (e.offset as usize) < size)].to_vec()
            } else {
                // A SysEx message first, then a few notes.
                let end = sorted.partition_point(|e| (e.offset as usize) < size.min(2));
                std::iter::once(BlockEvent::sysex(0, 0..GM_ON.len()))
                    .chain(sorted[..end.min(8)].iter().copied())
                    .collect()
            };
            let events = EventsIn { events: &notes, sysex: &GM_ON };
            let before = violations_here();
            no_alloc(|| {
                live.host.process_with_events(&inputs, &mut outputs, &[], events, Some(&transport), Some(&mut out));
            });
            assert_eq!(violations_here(), before, "process_with_events allocated (block of {size})");
            sent += out.events().len();
            sysex_sent += out.events().iter().filter(|e| out.sysex_bytes(e) == Some(&GM_ON[..])).count();
            out.clear();
            transport = transport.advanced(size as u64, 48_000.0);
            live.settle();
        }
    };
    run(&mut live, 60, true);
    // A hot swap: notes the old generation left on are ended on this thread.
    let event = live.load(recipe(&echo.replace("class Echo", "class Edited").replace("Echo)", "Edited)")));
    assert!(matches!(event, PipelineEvent::Ready { .. }), "{event:?}");
    run(&mut live, 120, false);
    assert_eq!(live.pipeline.telemetry().active_generation(), 2, "the swap happened inside the checked calls");
    assert!(sent > 100, "MIDI came back: {sent}");
    assert!(sysex_sent > 100, "SysEx came back: {sysex_sent}");
    assert!(live.pipeline.telemetry().dropped_events() > 0, "the flood was dropped and counted");
}
