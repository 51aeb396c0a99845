//! Host events offline: MIDI and SysEx reach `process()` at their exact frames
//! through `hostEvents` and `processors/lib/host-events.js`, the transport is
//! reported as given (or as unknown), MIDI goes out at its frames, overflow and
//! malformed output are dropped and counted, and the browser path (WebAudioModules
//! messages on `node.port`) lands on the same frames.

use serde_json::{Value, json};
use worklet::engine::host_events::NoteExpression;
use worklet::engine::{EventData, HostEvent, MainEvent, PortName, Post, RenderSpec, Rendered, Timeline};
use worklet_tests::{message_data, processor_errors, processors_dir_source, render_source, repo};

const RATE: f64 = 48_000.0;

fn synth() -> String {
    processors_dir_source("synth.js")
}

fn echo() -> String {
    std::fs::read_to_string(repo().join("tests/data/midi/echo.js")).unwrap()
}

fn note(frame: u64, status: u8, key: u8, velocity: u8) -> HostEvent {
    HostEvent { frame, data: EventData::midi(status, key, velocity) }
}

fn instrument(frames: u64, events: Vec<HostEvent>) -> RenderSpec {
    RenderSpec {
        frames,
        options: json!({"numberOfInputs": 0, "outputChannelCount": [2]}),
        events,
        ..RenderSpec::default()
    }
}

fn rendered_ok(source: &str, spec: &RenderSpec) -> Rendered {
    let rendered = render_source(source, spec);
    assert!(processor_errors(&rendered).is_empty(), "{:?}", processor_errors(&rendered));
    rendered
}

/// Frequency from the rising zero crossings of `x[from..to]`.
fn frequency(x: &[f32], from: usize, to: usize) -> f64 {
    let rising: Vec<usize> = (from.max(1)..to).filter(|&n| x[n - 1] < 0.0 && x[n] >= 0.0).collect();
    let (first, last) = (rising[0], rising[rising.len() - 1]);
    RATE * (rising.len() - 1) as f64 / (last - first) as f64
}

#[test]
fn a_note_starts_at_the_exact_frame_of_its_note_on() {
    for frame in [0u64, 1, 127, 128, 129, 300, 1000, 4095] {
        let rendered = rendered_ok(&synth(), &instrument(frame + 512, vec![note(frame, 0x90, 69, 100)]));
        let left = &rendered.output[0];
        let first = left.iter().position(|&s| s != 0.0);
        assert_eq!(first, Some(frame as usize), "a note on at frame {frame}");
        assert_eq!(rendered.output[1], rendered.output[0], "both channels carry the voice");
    }
}

#[test]
fn the_synth_plays_the_notes_pitch_and_bends_it() {
    let a4 = rendered_ok(&synth(), &instrument(24_000, vec![note(0, 0x90, 69, 127)]));
    assert!((frequency(&a4.output[0], 4_800, 24_000) - 440.0).abs() < 0.2);
    let e5 = rendered_ok(&synth(), &instrument(24_000, vec![note(0, 0x90, 76, 127)]));
    assert!((frequency(&e5.output[0], 4_800, 24_000) - 659.255).abs() < 0.3);

    // Pitch bend on channel 1 moves every voice by up to 2 semitones.
    let bent = rendered_ok(&synth(), &instrument(24_000, vec![note(0, 0x90, 69, 127), note(100, 0xe0, 0x7f, 0x7f)]));
    let expected = 440.0 * 2f64.powf(2.0 * (8191.0 / 8192.0) / 12.0);
    assert!((frequency(&bent.output[0], 4_800, 24_000) - expected).abs() < 0.3);

    // MPE: a member channel's bend moves only its own note, by up to 48 semitones.
    let mpe = rendered_ok(
        &synth(),
        &instrument(
            24_000,
            vec![note(0, 0x91, 57, 127), note(10, 0xe1, 0x00, 0x50)], // +12 semitones on channel 2
        ),
    );
    let semitones = 48.0 * ((0x50 << 7) as f64 - 8192.0) / 8192.0;
    let expected = 220.0 * 2f64.powf(semitones / 12.0);
    assert!((frequency(&mpe.output[0], 4_800, 24_000) - expected).abs() < 0.3, "{expected}");
}

#[test]
fn a_released_note_fades_in_its_release_time_and_goes_silent() {
    // Defaults: 5 ms attack, 100 ms decay to 0.8, 200 ms release.
    let rendered = rendered_ok(&synth(), &instrument(36_000, vec![note(0, 0x90, 60, 127), note(12_000, 0x80, 60, 0)]));
    let left = &rendered.output[0];
    let peak = |from: usize, to: usize| left[from..to].iter().fold(0f32, |m, &s| m.max(s.abs()));
    let sustained = peak(10_000, 12_000);
    assert!((f64::from(sustained) - 0.25 * 0.8).abs() < 0.01, "gain × sustain: {sustained}");
    let halfway = peak(16_600, 17_000);
    assert!((f64::from(halfway) / f64::from(sustained) - 0.5).abs() < 0.05, "half the level 100 ms into the release");
    let end = 12_000 + (0.2 * RATE) as usize;
    assert!(left[end + 1..].iter().all(|&s| s == 0.0), "silent after the release");
    assert!(peak(end - 200, end) > 0.0);
}

#[test]
fn the_sustain_pedal_holds_notes_and_polyphony_steals_the_oldest() {
    let held = rendered_ok(
        &synth(),
        &instrument(
            32_000,
            vec![note(0, 0xb0, 64, 127), note(0, 0x90, 60, 127), note(2_000, 0x80, 60, 0), note(20_000, 0xb0, 64, 0)],
        ),
    );
    let level = |x: &[f32], from: usize| x[from..from + 1_000].iter().fold(0f32, |m, &s| m.max(s.abs()));
    assert!(level(&held.output[0], 15_000) > 0.15, "still sounding while the pedal is down");
    assert!(level(&held.output[0], 29_700) == 0.0, "released with the pedal (200 ms)");
    assert!(level(&held.output[0], 29_000) > 0.0);

    // Nine notes on eight voices: the first is stolen, so its note-off changes nothing.
    let mut events: Vec<HostEvent> = (0..9).map(|i| note(i * 10, 0x90, 40 + 7 * i as u8, 100)).collect();
    events.push(note(5_000, 0x80, 40, 0));
    let nine = rendered_ok(&synth(), &instrument(8_000, events.clone()));
    events.pop();
    let without = rendered_ok(&synth(), &instrument(8_000, events));
    assert_eq!(nine.output, without.output, "the stolen note's off finds no voice");
}

#[test]
fn the_transport_is_unknown_without_a_timeline_and_exact_with_one() {
    let ask = vec![Post { frame: 0, port: PortName::Node, data: json!("transport") }];
    let none = rendered_ok(&echo(), &RenderSpec { frames: 256, posts: ask.clone(), ..RenderSpec::default() });
    assert!(message_data(&none).iter().all(|m| m["known"] == json!(false)));

    let timeline = Timeline::constant(90.0, (3, 4), true);
    let rendered = rendered_ok(
        &echo(),
        &RenderSpec { frames: 48_000 * 3, posts: ask, timeline: Some(timeline), ..RenderSpec::default() },
    );
    let reports = message_data(&rendered);
    assert_eq!(reports.len(), (48_000 * 3usize).div_ceil(128));
    for report in &reports {
        let frame = report["frame"].as_f64().unwrap();
        let beat = frame / RATE * 1.5;
        assert_eq!(report["known"], json!(true));
        assert_eq!(report["playing"], json!(true));
        assert!((report["tempo"].as_f64().unwrap() - 90.0).abs() < 1e-12);
        assert!((report["beat"].as_f64().unwrap() - beat).abs() < 1e-9, "{report}");
        let bar = (beat / 3.0 + 1e-9).floor();
        assert_eq!(report["bar"].as_f64().unwrap(), bar);
        assert!((report["barStartBeat"].as_f64().unwrap() - bar * 3.0).abs() < 1e-9);
        assert!((report["barStarted"].as_f64().unwrap() - bar * 2.0).abs() < 1e-9, "a 3/4 bar at 90 BPM is 2 s");
        assert_eq!((report["numerator"].clone(), report["denominator"].clone()), (json!(3), json!(4)));
    }
}

fn sent(rendered: &Rendered) -> Vec<(u64, Vec<u8>)> {
    let events = rendered.events.iter().filter_map(|e| match &e.event {
        MainEvent::Midi { bytes, .. } => Some((e.frame, bytes.clone())),
        _ => None,
    });
    events.collect()
}

#[test]
fn midi_and_sysex_go_out_at_their_frames() {
    let events = vec![
        note(5, 0x90, 60, 100),
        note(130, 0x80, 60, 0),
        HostEvent { frame: 700, data: EventData::Sysex { bytes: vec![0xf0, 0x7d, 0x01, 0x02, 0xf7] } },
        note(1_000, 0x93, 127, 1),
    ];
    let rendered = rendered_ok(&echo(), &RenderSpec { frames: 2_048, events, ..RenderSpec::default() });
    assert_eq!(
        sent(&rendered),
        vec![
            (5, vec![0x90, 72, 100]),
            (130, vec![0x80, 72, 0]),
            (700, vec![0xf0, 0x7d, 0x01, 0x02, 0xf7]),
            (1_000, vec![0x93, 127, 1]),
        ]
    );
    assert_eq!(rendered.events_dropped, 0);
}

#[test]
fn a_flood_of_events_is_dropped_and_counted_per_quantum() {
    let events: Vec<HostEvent> = (0..3_000).map(|i| note(i % 128, 0x90, (i % 100) as u8, 1)).collect();
    let rendered = rendered_ok(&echo(), &RenderSpec { frames: 256, events, ..RenderSpec::default() });
    assert_eq!(sent(&rendered).len(), 1_024, "one quantum holds 1024 events");
    assert_eq!(rendered.events_dropped, 3_000 - 1_024, "the rest are counted (and the echo fits)");
}

#[test]
fn malformed_midi_written_by_a_script_is_refused_and_counted() {
    let source = r"
        class Raw extends AudioWorkletProcessor {
          process() {
            const h = hostEvents;
            const put = (i, frame, kind, a, b) => { h.out.set([frame, kind, a, b], i * 4); };
            put(0, 3, 1, 0x90 | 60 << 8 | 99 << 16, -1);   // fine
            put(1, 200, 1, 0x90, -1);                       // frame outside the quantum
            put(2, 0, 1, 0x40, -1);                         // no status byte
            put(3, 0, 2, 0, 9999);                          // SysEx outside outSysex
            put(4, 0, 9, 0, 0);                             // unknown kind
            h.header[4] = currentFrame === 0 ? 5 : 0;
            return true;
          }
        }
        registerProcessor('raw', Raw);
    ";
    let rendered = rendered_ok(source, &RenderSpec { frames: 256, ..RenderSpec::default() });
    assert_eq!(sent(&rendered), vec![(3, vec![0x90, 60, 99])]);
    assert_eq!(rendered.events_dropped, 4);
}

#[test]
fn wam_messages_on_the_port_land_on_the_same_frames_as_host_events() {
    // The browser's path: the main thread sends WebAudioModules events with a time.
    let time = |frame: u64| frame as f64 / RATE;
    let posts = vec![
        Post {
            frame: 0,
            port: PortName::Node,
            data: json!([
                {"type": "wam-midi", "time": time(300), "data": {"bytes": [0x90, 69, 100]}},
                {"type": "wam-midi", "time": time(5_000), "data": {"bytes": [0x80, 69, 0]}},
            ]),
        },
        Post {
            frame: 7_000,
            port: PortName::Node,
            data: json!({"type": "wam-midi", "time": time(7_100), "data": {"bytes": [0x90, 72, 90]}}),
        },
    ];
    let by_port = rendered_ok(&synth(), &RenderSpec { posts, ..instrument(12_000, Vec::new()) });
    let by_host = rendered_ok(
        &synth(),
        &instrument(12_000, vec![note(300, 0x90, 69, 100), note(5_000, 0x80, 69, 0), note(7_100, 0x90, 72, 90)]),
    );
    assert_eq!(by_port.output, by_host.output, "the same samples either way");
    assert_eq!(by_port.output[0].iter().position(|&s| s != 0.0), Some(300));
}

#[test]
fn the_wam_transport_sent_by_a_page_gives_the_same_position() {
    let posts = vec![
        Post { frame: 0, port: PortName::Node, data: json!("transport") },
        Post {
            frame: 0,
            port: PortName::Node,
            data: json!({"type": "wam-transport", "time": 0, "data": {
                "tempo": 90, "timeSigNumerator": 3, "timeSigDenominator": 4,
                "playing": true, "currentBar": 0, "currentBarStarted": 0}}),
        },
    ];
    let by_port = rendered_ok(&echo(), &RenderSpec { frames: 48_000 * 3, posts, ..RenderSpec::default() });
    let timeline = Timeline::constant(90.0, (3, 4), true);
    let ask = vec![Post { frame: 0, port: PortName::Node, data: json!("transport") }];
    let by_host = rendered_ok(
        &echo(),
        &RenderSpec { frames: 48_000 * 3, posts: ask, timeline: Some(timeline), ..RenderSpec::default() },
    );
    let strip = |m: &Value| {
        let mut m = m.clone();
        for key in ["beat", "barStarted", "barStartBeat"] {
            m[key] = json!((m[key].as_f64().unwrap() * 1e9).round() / 1e9);
        }
        m
    };
    let port: Vec<Value> = message_data(&by_port).iter().map(strip).collect();
    let host: Vec<Value> = message_data(&by_host).iter().map(strip).collect();
    assert_eq!(port, host);
}

fn expression(frame: u64, note_id: i32, channel: i16, key: i16, which: NoteExpression, value: f32) -> HostEvent {
    HostEvent { frame, data: EventData::Expression { channel, key, note_id, expression: which, value } }
}

fn voice_ends(rendered: &Rendered) -> Vec<(u64, EventData)> {
    rendered
        .events
        .iter()
        .filter_map(|e| match &e.event {
            MainEvent::Event { data } => Some((e.frame, data.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn per_note_expressions_shape_only_their_note_and_ended_voices_are_reported() {
    // Two A4s with note ids 5 and 6; note 5 is tuned up an octave at frame 6000,
    // note 6 is left alone; both are released at 12000 (10 ms release).
    let on = |frame, id| HostEvent { frame, data: EventData::Midi { bytes: [0x90, 69, 127], note_id: id } };
    let off = |frame, id| HostEvent { frame, data: EventData::Midi { bytes: [0x80, 69, 0], note_id: id } };
    let release = worklet::engine::ParamStep { name: "release".into(), value: 0.01, frame: 0 };
    let spec = |events| RenderSpec { automation: vec![release.clone()], ..instrument(14_000, events) };
    let tuned = rendered_ok(
        &synth(),
        &spec(vec![
            on(0, 5),
            expression(6_000, 5, 0, 69, NoteExpression::Tuning, 12.0),
            off(12_000, 5),
            off(12_000, 6),
        ]),
    );
    let solo = |events| rendered_ok(&synth(), &spec(events)).output.remove(0);
    // Alone, note 5 is 440 Hz, then 880 Hz from the expression's frame on.
    let left = &tuned.output[0];
    assert!((frequency(left, 1_000, 6_000) - 440.0).abs() < 1.0);
    assert!((frequency(left, 6_200, 12_000) - 880.0).abs() < 2.0);
    // With note 6 sounding too, the expression for 5 leaves 6 at 440 Hz: the sum
    // is note 6 alone plus note 5 as tuned.
    let both = solo(vec![
        on(0, 5),
        on(0, 6),
        expression(6_000, 5, 0, 69, NoteExpression::Tuning, 12.0),
        off(12_000, 5),
        off(12_000, 6),
    ]);
    let six = solo(vec![on(0, 6), off(12_000, 6)]);
    for n in (0..14_000).step_by(97) {
        assert!((both[n] - (six[n] + left[n])).abs() < 1e-5, "frame {n}");
    }
    // Brightness adds the harmonics; volume scales the note.
    let bright = solo(vec![on(0, 5), expression(0, 5, -1, -1, NoteExpression::Brightness, 1.0)]);
    let plain = solo(vec![on(0, 5)]);
    assert!(bright[..4_000].iter().zip(&plain).any(|(a, b)| (a - b).abs() > 0.05));
    let half = solo(vec![on(0, 5), expression(0, 5, -1, -1, NoteExpression::Volume, 0.5)]);
    for n in (0..4_000).step_by(13) {
        assert!((half[n] - 0.5 * plain[n]).abs() < 1e-6);
    }
    // Each voice's end is reported at its last frame (12000 + 480), with its id.
    let ends = voice_ends(&tuned);
    assert_eq!(ends.len(), 1, "{ends:?}");
    let (frame, data) = &ends[0];
    assert!((12_479..=12_481).contains(frame), "{frame}");
    assert_eq!(*data, EventData::VoiceEnd { channel: 0, key: 69, note_id: 5 });
}

#[test]
fn note_expressions_sent_by_a_page_land_where_the_hosts_do() {
    let time = |frame: u64| frame as f64 / RATE;
    let posts = vec![Post {
        frame: 0,
        port: PortName::Node,
        data: json!([
            {"type": "wam-midi", "time": time(300), "data": {"bytes": [0x90, 69, 100]}},
            {"type": "note-expression", "time": time(2_000),
             "data": {"channel": 0, "key": 69, "expression": "tuning", "value": 7.0}},
            {"type": "note-expression", "time": time(2_500),
             "data": {"key": 69, "expression": "not-an-expression", "value": 7.0}},
        ]),
    }];
    let by_port = rendered_ok(&synth(), &RenderSpec { posts, ..instrument(6_000, Vec::new()) });
    let by_host = rendered_ok(
        &synth(),
        &instrument(6_000, vec![note(300, 0x90, 69, 100), expression(2_000, -1, 0, 69, NoteExpression::Tuning, 7.0)]),
    );
    assert_eq!(by_port.output, by_host.output, "the same samples either way");
    assert!((frequency(&by_host.output[0], 2_100, 6_000) - 440.0 * 2f64.powf(7.0 / 12.0)).abs() < 1.5);
}
