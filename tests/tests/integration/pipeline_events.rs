//! MIDI and the transport through the real-time pipeline, in render threads and
//! in engine processes: a note at frame F of a host block of any size starts at
//! output frame F + latency exactly, the MIDI a processor sends comes out at its
//! frame plus the latency, SysEx crosses both ways byte for byte, the processor
//! sees the host's transport, and a flood is dropped and counted.

use serde_json::json;
use worklet::engine::Transport;
use worklet::engine::event_mailbox::SYSEX_CAPACITY;
use worklet::port::{NODE_PORT, Received};
use worklet::render::{BlockEvent, EngineProcess, EventsIn, PipelineConfig};
use worklet_tests::live::{Live, config, factory_recipe, recipe};
use worklet_tests::sysex;

fn isolated(max_block: usize) -> PipelineConfig {
    PipelineConfig { isolation: Some(EngineProcess::new(worklet_tests::worklet_binary())), ..config(max_block) }
}

fn echo() -> String {
    std::fs::read_to_string(worklet_tests::repo().join("tests/data/midi/echo.js")).unwrap()
}

/// Plays `notes` (absolute frame, bytes) through `live` in blocks of `sizes`
/// (cycled) for `frames` frames; returns the left output and the MIDI that came
/// out, at absolute frames.
fn play(
    live: &mut Live,
    frames: usize,
    sizes: &[usize],
    notes: &[(usize, [u8; 3])],
) -> (Vec<f32>, Vec<(usize, [u8; 3])>) {
    let silence = vec![0.0f32; 8192];
    let (mut left, mut sent) = (Vec::with_capacity(frames), Vec::new());
    let mut done = 0;
    for &size in sizes.iter().cycle() {
        if done >= frames {
            break;
        }
        let n = size.min(frames - done);
        let events: Vec<BlockEvent> = notes
            .iter()
            .filter(|(frame, _)| (done..done + n).contains(frame))
            .map(|&(frame, bytes)| BlockEvent::midi((frame - done) as u32, bytes, -1))
            .collect();
        let input = [&silence[..n], &silence[..n]];
        let (output, out) = live.block_with_events(&input, n, &events, None);
        left.extend_from_slice(&output[0]);
        sent.extend(out.iter().map(|e| (done + e.offset as usize, e.bytes)));
        done += n;
    }
    (left, sent)
}

fn random_sizes() -> Vec<usize> {
    let mut state = 777u32;
    (0..400)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            1 + (state >> 16) as usize % 600
        })
        .collect()
}

#[test]
fn a_note_starts_latency_frames_after_its_frame_for_any_block_size() {
    // The synth's release is 200 ms (9600 frames): the first note is silent again
    // at 12600, before the second one starts at 13001.
    let notes = [(1_000, [0x90, 69, 100]), (3_000, [0x80, 69, 0]), (13_001, [0x90, 72, 100])];
    let cases: Vec<(&str, Vec<usize>)> = vec![
        ("1", vec![1]),
        ("7", vec![7]),
        ("128", vec![128]),
        ("500", vec![500]),
        ("4096", vec![4096]),
        ("random", random_sizes()),
    ];
    for (name, sizes) in cases {
        let max = *sizes.iter().max().unwrap();
        for (mode, config) in [("thread", config(max)), ("process", isolated(max))] {
            let mut live = Live::new(config, factory_recipe("synth.js"));
            let latency = live.pipeline.telemetry().latency_frames() as usize;
            let (left, _) = play(&mut live, 14_000 + latency, &sizes, &notes);
            let first = left.iter().position(|&s| s != 0.0);
            assert_eq!(first, Some(1_000 + latency), "blocks of {name}, {mode}");
            // The second note: silence after the first one's release, then its exact onset.
            let second = 13_001 + latency;
            assert!(left[second - 100..second].iter().all(|&s| s == 0.0), "blocks of {name}, {mode}");
            assert!(left[second] != 0.0, "blocks of {name}, {mode}");
            assert_eq!(live.pipeline.telemetry().dropped_events(), 0);
        }
    }
}

#[test]
fn midi_a_processor_sends_comes_out_at_its_frame_plus_the_latency() {
    let notes = [(5, [0x90, 60, 100]), (130, [0x80, 60, 0]), (2_000, [0x9f, 100, 1])];
    for sizes in [vec![64], vec![1], random_sizes()] {
        for config in [config(600), isolated(600)] {
            let mut live = Live::new(config, recipe(&echo()));
            let latency = live.pipeline.telemetry().latency_frames() as usize;
            let (_, sent) = play(&mut live, 4_000, &sizes, &notes);
            let want: Vec<(usize, [u8; 3])> =
                vec![(5 + latency, [0x90, 72, 100]), (130 + latency, [0x80, 72, 0]), (2_000 + latency, [0x9f, 112, 1])];
            assert_eq!(sent, want, "blocks of {sizes:?}");
        }
    }
}

#[test]
fn sysex_crosses_both_ways_byte_for_byte_at_its_frame() {
    // Lengths that fill whole records, leave a partial one, and nearly fill a quantum.
    let messages = [(5, sysex(6, 1)), (700, sysex(301, 2)), (2_000, sysex(8, 3)), (2_001, sysex(12_000, 4))];
    let too_long = (3_000, sysex(SYSEX_CAPACITY + 1, 5));
    for sizes in [vec![128], vec![7], random_sizes()] {
        for config in [config(600), isolated(600)] {
            let mut live = Live::new(config, recipe(&echo()));
            let latency = live.pipeline.telemetry().latency_frames() as usize;
            let silence = vec![0.0f32; 8192];
            let (mut sent, mut done) = (Vec::new(), 0);
            for &size in sizes.iter().cycle() {
                if done >= 5_000 {
                    break;
                }
                let n = size.min(5_000 - done);
                let (mut events, mut bytes) = (Vec::new(), Vec::new());
                for (frame, message) in messages.iter().chain([&too_long]) {
                    if (done..done + n).contains(frame) {
                        events.push(BlockEvent::sysex((frame - done) as u32, bytes.len()..bytes.len() + message.len()));
                        bytes.extend_from_slice(message);
                    }
                }
                let input = [&silence[..n], &silence[..n]];
                let (_, out) = live.block_with(&input, n, EventsIn { events: &events, sysex: &bytes }, None);
                for event in out.events() {
                    sent.push((done + event.offset as usize, out.sysex_bytes(event).expect("SysEx").to_vec()));
                }
                done += n;
            }
            let want: Vec<(usize, Vec<u8>)> = messages.iter().map(|(f, m)| (f + latency, m.clone())).collect();
            assert_eq!(sent.len(), want.len(), "blocks of {sizes:?}");
            assert!(sent == want, "blocks of {sizes:?}: SysEx came back changed or misplaced");
            assert_eq!(live.pipeline.telemetry().dropped_events(), 1, "the message over the limit is counted");
        }
    }
}

#[test]
fn the_processor_sees_the_hosts_transport_at_each_quantum() {
    for config in [config(256), isolated(256)] {
        let mut live = Live::new(config, recipe(&echo()));
        live.pipeline.ports().unwrap().post(NODE_PORT, json!("transport"), &[]).unwrap();
        live.settle();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let silence = vec![0.0f32; 256];
        let rate = live.pipeline.telemetry().sample_rate();
        // 150 BPM in 3/4, a host block of 256 frames; the tempo changes to 100 BPM
        // at frame 25600 (a host block start).
        let mut at = Transport { playing: true, tempo: 150.0, numerator: 3, denominator: 4, ..Transport::default() };
        for block in 0..200usize {
            let frame = block * 256;
            if frame == 25_600 {
                at.tempo = 100.0;
            }
            let transport = at;
            live.block_with_events(&[&silence, &silence], 256, &[], Some(&transport));
            at = transport.advanced(256, rate);
        }
        let reports: Vec<serde_json::Value> = live
            .received()
            .into_iter()
            .filter_map(|r| match r {
                Received::Message { data, .. } => Some(data),
                _ => None,
            })
            .filter(|m| m["known"] == json!(true))
            .collect();
        assert!(reports.len() > 300, "{}", reports.len());
        for report in &reports {
            let frame = report["frame"].as_f64().unwrap();
            let (tempo, beat) = if frame < 25_600.0 {
                (150.0, frame / rate * 2.5)
            } else {
                (100.0, 25_600.0 / rate * 2.5 + (frame - 25_600.0) / rate * 100.0 / 60.0)
            };
            assert!((report["tempo"].as_f64().unwrap() - tempo).abs() < 1e-9, "{report}");
            assert!((report["beat"].as_f64().unwrap() - beat).abs() < 1e-6, "{report}: {beat}");
            let bar = (beat / 3.0 + 1e-9).floor();
            assert_eq!(report["bar"].as_f64().unwrap(), bar, "{report}");
            assert_eq!(report["numerator"], json!(3));
        }
    }
}

#[test]
fn a_flood_of_a_hundred_thousand_events_is_dropped_and_counted() {
    let mut live = Live::new(config(512), recipe(&echo()));
    let flood: Vec<BlockEvent> = (0..100_000).map(|i| BlockEvent::midi((i % 512) as u32, [0x90, 60, 1], -1)).collect();
    let mut sorted = flood;
    sorted.sort_by_key(|e| e.offset);
    let silence = vec![0.25f32; 512];
    let (output, _) = live.block_with_events(&[&silence, &silence], 512, &sorted, None);
    assert_eq!(output.len(), 2);
    for _ in 0..20 {
        live.block_with_events(&[&silence, &silence], 512, &[], None);
    }
    let dropped = live.pipeline.telemetry().dropped_events();
    assert!(dropped >= 100_000 - 4_096, "{dropped} counted");
    assert_eq!(live.pipeline.telemetry().underruns(), 0);
    // Afterwards notes pass again.
    let note = [BlockEvent::midi(3, [0x90, 50, 99], 7)];
    let latency = live.pipeline.telemetry().latency_frames() as usize;
    let mut seen = Vec::new();
    for block in 0..4 {
        let events: &[BlockEvent] = if block == 0 { &note } else { &[] };
        let (_, out) = live.block_with_events(&[&silence, &silence], 512, events, None);
        seen.extend(out.iter().map(|e| (block * 512 + e.offset as usize, e.bytes, e.note_id)));
    }
    assert!(seen.contains(&(3 + latency, [0x90, 62, 99], 7)), "{seen:?}");
}
