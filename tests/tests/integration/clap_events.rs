//! Notes, note expressions, the transport and the sidechain through the built
//! `Worklet.clap`, driven by clack-host as a DAW drives it: the instrument plays
//! notes by CLAP note id with per-note tuning at their exact frames and reports
//! each voice's end; SysEx crosses both ways byte for byte; the processor sees
//! the host's tempo change, between blocks and inside one; the ducker keyed by
//! the sidechain bus reduces the main input. Needs the bundle.

use clack_extensions::render::RenderMode;
use clack_host::events::event_types::{
    MidiSysExEvent, NoteEndEvent, NoteExpressionEvent, NoteExpressionType, NoteOffEvent, NoteOnEvent, TransportEvent,
    TransportFlags,
};
use clack_host::events::{EventFlags, EventHeader, Match};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};

use super::clap_host::{TestHost, entry, instance, instance_of, load_processor, load_processor_with};
use super::clap_session::Session;
use worklet_tests::{processors_dir_source, sysex};

const RATE: f64 = 48_000.0;

/// An instance activated offline for blocks up to `block` frames at [`RATE`].
fn start(plugin: &mut PluginInstance<TestHost>, block: usize) -> Session {
    Session::start(plugin, RATE, block, RenderMode::Offline)
}

/// Frequency from the rising zero crossings of `x[from..to]`.
fn frequency(x: &[f32], from: usize, to: usize) -> f64 {
    let rising: Vec<usize> = (from.max(1)..to).filter(|&n| x[n - 1] < 0.0 && x[n] >= 0.0).collect();
    let (first, last) = (rising[0], rising[rising.len() - 1]);
    RATE * (rising.len() - 1) as f64 / (last - first) as f64
}

fn note(key: u16, id: u32) -> Pckn {
    Pckn::new(0u16, 0u16, key, id)
}

#[test]
fn the_instrument_plays_notes_by_id_with_per_note_tuning_and_reports_their_end() {
    let entry = entry();
    let mut plugin = instance_of(&entry, c"dev.worklet.instrument");
    let block = 480;
    let mut session = start(&mut plugin, block);
    let latency = session.latency;
    // Two A4s on the same key, told apart by their ids: 11 from frame 1000, 12
    // from 30000. Note 11 is tuned up an octave at 15000; at 40000 note 11 is
    // released (only it: 12 plays on), at 50000 note 12. The release is 200 ms.
    let timeline: Vec<(usize, Box<dyn Fn(u32, &mut EventBuffer)>)> = vec![
        (1_000, Box::new(|t, b| b.push(&NoteOnEvent::new(t, note(69, 11), 1.0)))),
        (15_000, Box::new(|t, b| b.push(&NoteExpressionEvent::new(t, note(69, 11), NoteExpressionType::Tuning, 12.0)))),
        (30_000, Box::new(|t, b| b.push(&NoteOnEvent::new(t, note(69, 12), 1.0)))),
        (40_000, Box::new(|t, b| b.push(&NoteOffEvent::new(t, note(69, 11), 0.0)))),
        (50_000, Box::new(|t, b| b.push(&NoteOffEvent::new(t, note(69, 12), 0.0)))),
    ];
    let frames = 50_000 + 9_600 + latency + 4_800;
    let (mut left, mut ends) = (Vec::with_capacity(frames), Vec::new());
    let mut inputs: Vec<Vec<Vec<f32>>> = Vec::new();
    let mut start = 0;
    while start < frames {
        let mut events = EventBuffer::new();
        for (frame, push) in &timeline {
            if (start..start + block).contains(frame) {
                push((frame - start) as u32, &mut events);
            }
        }
        let (output, sent) = session.block(&mut inputs, block, &events, None);
        left.extend_from_slice(&output[0]);
        for event in sent.events.iter() {
            if let Some(end) = event.as_event::<NoteEndEvent>() {
                ends.push((start + end.header().time() as usize, end.pckn().note_id));
            }
        }
        start += block;
    }
    session.stop(&mut plugin);

    assert_eq!(left.iter().position(|&s| s != 0.0), Some(1_000 + latency), "the onset, exactly");
    let at = |frame: usize| frame + latency;
    assert!((frequency(&left, at(3_000), at(15_000)) - 440.0).abs() < 1.0);
    assert!((frequency(&left, at(15_200), at(30_000)) - 880.0).abs() < 2.0, "note 11, tuned");
    assert!((frequency(&left, at(40_000 + 9_700), at(52_000)) - 440.0).abs() < 1.0, "note 12 alone, untuned");
    let silent_from = at(50_000 + 9_600) + 1;
    assert!(left[silent_from..].iter().all(|&s| s == 0.0), "silent after note 12's release");
    // Each voice's end comes out at its last frame, with its note id.
    assert_eq!(ends.len(), 2, "{ends:?}");
    for ((frame, id), (off, expected)) in ends.iter().zip([(40_000, 11u32), (50_000, 12)]) {
        assert_eq!(*id, Match::Specific(expected));
        assert!((at(off + 9_599)..=at(off + 9_601)).contains(frame), "note {expected} ended at {frame}");
    }
}

/// Writes the tempo and the song position in quarter notes the processor saw at
/// each quantum's first frame into its two channels.
const TRANSPORT_PROBE: &str = "
import { HostEvents } from './lib/host-events.js';
class Probe extends AudioWorkletProcessor {
  constructor() { super(); this.events = new HostEvents(this.port); }
  process(inputs, [out]) {
    this.events.begin();
    const t = this.events.transport;
    out[0].fill(t.known && t.playing ? t.tempo : -1);
    out[1].fill(t.known ? t.beat : -1);
    return true;
  }
}
registerProcessor('probe', Probe);
";

fn transport(tempo: f64, beats: f64, seconds: f64) -> TransportEvent {
    let flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE
        | TransportFlags::IS_PLAYING;
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: BeatTime::from_float(beats),
        song_pos_seconds: SecondsTime::from_float(seconds),
        tempo,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_float(0.0),
        loop_end_beats: BeatTime::from_float(0.0),
        loop_start_seconds: SecondsTime::from_float(0.0),
        loop_end_seconds: SecondsTime::from_float(0.0),
        bar_start: BeatTime::from_float((beats / 4.0).floor() * 4.0),
        bar_number: (beats / 4.0).floor() as i32,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

#[test]
fn the_processor_sees_the_hosts_tempo_change_and_position_at_each_quantum() {
    let entry = entry();
    let mut plugin = instance(&entry);
    load_processor(&mut plugin, TRANSPORT_PROBE);
    let block = 512;
    let mut session = start(&mut plugin, block);
    let latency = session.latency;
    // 120 BPM for 20 blocks, then 90 BPM.
    let blocks = 60;
    let (mut beats, mut seconds) = (0.0, 0.0);
    let mut per_block = Vec::new();
    let (mut tempo_out, mut beat_out) = (Vec::new(), Vec::new());
    for index in 0..blocks {
        let tempo = if index < 20 { 120.0 } else { 90.0 };
        per_block.push((tempo, beats));
        let mut inputs = super::clap_host::with_sidechain(vec![vec![0.0; block]; 2], block);
        let (output, _) =
            session.block(&mut inputs, block, &EventBuffer::new(), Some(&transport(tempo, beats, seconds)));
        tempo_out.extend_from_slice(&output[0]);
        beat_out.extend_from_slice(&output[1]);
        beats += block as f64 / RATE * tempo / 60.0;
        seconds += block as f64 / RATE;
    }
    session.stop(&mut plugin);
    let mut checked = 0;
    for quantum_start in (0..blocks * block - latency).step_by(128) {
        let (tempo, block_beats) = per_block[quantum_start / block];
        let beat = block_beats + (quantum_start % block) as f64 / RATE * tempo / 60.0;
        let n = quantum_start + latency;
        assert!((f64::from(tempo_out[n]) - tempo).abs() < 1e-9, "frame {quantum_start}: tempo {}", tempo_out[n]);
        assert!((f64::from(beat_out[n]) - beat).abs() < 1e-4, "frame {quantum_start}: beat {} not {beat}", beat_out[n]);
        checked += 1;
    }
    assert!(checked > 200);
}

#[test]
fn a_tempo_change_inside_a_host_block_reaches_the_next_quantum() {
    let entry = entry();
    let mut plugin = instance(&entry);
    load_processor(&mut plugin, TRANSPORT_PROBE);
    let block = 1_000;
    let mut session = start(&mut plugin, block);
    let latency = session.latency;
    // 120 BPM; inside block 10, at its frame 300 (frame 10300), the host
    // changes to 90 BPM with a transport event, the position continuing.
    let change = 10_300;
    let beat_at_change = change as f64 / RATE * 2.0;
    let blocks = 30;
    let (mut tempo_out, mut beat_out) = (Vec::new(), Vec::new());
    for index in 0..blocks {
        let start = index * block;
        let (tempo, beats) = if start < change {
            (120.0, start as f64 / RATE * 2.0)
        } else {
            (90.0, beat_at_change + (start - change) as f64 / RATE * 1.5)
        };
        let mut events = EventBuffer::new();
        if (start..start + block).contains(&change) {
            let mut event = transport(90.0, beat_at_change, change as f64 / RATE);
            event.header = EventHeader::new_core((change - start) as u32, EventFlags::empty());
            events.push(&event);
        }
        let mut inputs = super::clap_host::with_sidechain(vec![vec![0.0; block]; 2], block);
        let (output, _) =
            session.block(&mut inputs, block, &events, Some(&transport(tempo, beats, start as f64 / RATE)));
        tempo_out.extend_from_slice(&output[0]);
        beat_out.extend_from_slice(&output[1]);
    }
    session.stop(&mut plugin);
    for quantum_start in (0..blocks * block - latency).step_by(128) {
        let n = quantum_start + latency;
        let (tempo, beat) = if quantum_start < change {
            (120.0, quantum_start as f64 / RATE * 2.0)
        } else {
            (90.0, beat_at_change + (quantum_start - change) as f64 / RATE * 1.5)
        };
        assert!((f64::from(tempo_out[n]) - tempo).abs() < 1e-9, "frame {quantum_start}: tempo {}", tempo_out[n]);
        assert!((f64::from(beat_out[n]) - beat).abs() < 1e-4, "frame {quantum_start}: beat {} not {beat}", beat_out[n]);
    }
}

#[test]
fn sysex_from_the_host_comes_back_byte_for_byte_one_latency_later() {
    let entry = entry();
    let mut plugin = instance(&entry);
    let echo = std::fs::read_to_string(worklet_tests::repo().join("tests/data/midi/echo.js")).unwrap();
    load_processor(&mut plugin, &echo);
    let block = 480;
    let mut session = start(&mut plugin, block);
    let latency = session.latency;
    // Two messages in one block, one crossing into the next quantum's worth of
    // records, and one past the 1 KiB a message can carry (not sent back).
    let messages = [(100, sysex(6, 1)), (1_234, sysex(900, 2)), (1_300, sysex(1_024, 3)), (5_000, sysex(2_000, 4))];
    let mut received = Vec::new();
    for index in 0..40 {
        let start = index * block;
        let mut events = EventBuffer::new();
        for (frame, bytes) in &messages {
            if (start..start + block).contains(frame) {
                // SAFETY: `messages` outlives the process call that reads it.
                events.push(&unsafe { MidiSysExEvent::new((frame - start) as u32, 0, bytes) });
            }
        }
        let mut inputs = super::clap_host::with_sidechain(vec![vec![0.0; block]; 2], block);
        let (_, sent) = session.block(&mut inputs, block, &events, None);
        received.extend(sent.sysex.into_iter().map(|(time, bytes)| (start + time as usize, bytes)));
    }
    session.stop(&mut plugin);
    let expected: Vec<(usize, Vec<u8>)> =
        messages[..3].iter().map(|(frame, bytes)| (frame + latency, bytes.clone())).collect();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "SysEx came back changed or misplaced");
}

#[test]
fn the_sidechain_bus_keys_the_ducker() {
    let entry = entry();
    let mut plugin = instance(&entry);
    load_processor_with(
        &mut plugin,
        &processors_dir_source("ducker.js"),
        Some(serde_json::json!({"numberOfInputs": 2})),
    );
    let block = 256;
    let mut session = start(&mut plugin, block);
    let latency = session.latency;
    // Music at 0.5 throughout; the key (0.5, -6.02 dBFS) from frame 12000.
    let key_from = 12_000;
    let frames = 48_000;
    let mut left = Vec::new();
    let mut start = 0;
    while start < frames {
        let key: Vec<f32> = (start..start + block).map(|n| if n >= key_from { 0.5 } else { 0.0 }).collect();
        let mut inputs = vec![vec![vec![0.5; block]; 2], vec![key.clone(), key]];
        let (output, _) = session.block(&mut inputs, block, &EventBuffer::new(), None);
        left.extend_from_slice(&output[0]);
        start += block;
    }
    session.stop(&mut plugin);
    assert!(left[latency..latency + key_from].iter().all(|&s| (s - 0.5).abs() < 1e-6), "no key, no reduction");
    // Defaults: threshold -30 dB, 8:1: a key 23.98 dB over it takes 20.98 dB off.
    let reduction = -20.0 * (f64::from(left[frames - 1]) / 0.5).log10();
    let expected = (20.0 * 0.5f64.log10() + 30.0) * (1.0 - 1.0 / 8.0);
    assert!((reduction - expected).abs() < 0.01, "{reduction} dB of gain reduction, expected {expected}");
    let ducked_at = latency + left[latency..].iter().position(|&s| s < 0.499).unwrap();
    assert_eq!(ducked_at, latency + key_from, "the reduction starts with the key, one latency later");
}
