//! Golden renders of the factory gain and biquad processors, compared with
//! reference values computed here in Rust (f64), within a tolerance.

use std::f64::consts::PI;

use serde_json::json;
use worklet::engine::{ParamStep, Realm, RealmConfig, RenderSpec, render};
use worklet_tests::{assert_close, processor};

const RATE: f64 = 48_000.0;

fn render_file(file: &str, spec: &RenderSpec) -> Vec<Vec<f32>> {
    let path = std::path::PathBuf::from(processor(file));
    let root = path.parent().unwrap().to_path_buf();
    let mut realm = Realm::new(&RealmConfig { module_roots: vec![root], ..RealmConfig::new(RATE) }).unwrap();
    realm.add_module_file(&path).unwrap();
    let rendered = render(realm, spec, &mut |_| {}).unwrap();
    assert!(worklet_tests::processor_errors(&rendered).is_empty(), "{:?}", rendered.events);
    rendered.output
}

fn sine(freq: f64, frames: usize) -> Vec<f32> {
    (0..frames).map(|n| (2.0 * PI * freq * n as f64 / RATE).sin() as f32).collect()
}

fn noise(frames: usize, mut state: u32) -> Vec<f32> {
    (0..frames)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (f64::from(state) / f64::from(u32::MAX) * 2.0 - 1.0) as f32
        })
        .collect()
}

#[test]
fn gain_scales_by_a_constant_and_by_sample_accurate_steps() {
    let frames = 1000;
    let input = vec![sine(440.0, frames), noise(frames, 7)];
    let automation = vec![
        ParamStep { name: "gain".into(), value: 0.5, frame: 0 },
        ParamStep { name: "gain".into(), value: 2.0, frame: 300 },
        ParamStep { name: "gain".into(), value: 0.25, frame: 301 },
    ];
    let spec = RenderSpec { frames: frames as u64, input: Some(input.clone()), automation, ..RenderSpec::default() };
    let output = render_file("gain.js", &spec);
    assert_eq!(output.len(), 2);
    for (channel, samples) in input.iter().enumerate() {
        let expected: Vec<f32> = samples
            .iter()
            .enumerate()
            .map(|(n, &x)| {
                let gain = match n {
                    0..300 => 0.5,
                    300 => 2.0,
                    _ => 0.25,
                };
                x * gain
            })
            .collect();
        assert_close(&output[channel], &expected, 1e-7);
    }
}

/// The Audio EQ Cookbook lowpass, in f64, as a reference.
fn lowpass_reference(input: &[f32], frequency: f64, q: f64) -> Vec<f32> {
    let w0 = 2.0 * PI * frequency / RATE;
    let alpha = w0.sin() / (2.0 * q);
    let cos = w0.cos();
    let a0 = 1.0 + alpha;
    let b = [(1.0 - cos) / 2.0 / a0, (1.0 - cos) / a0, (1.0 - cos) / 2.0 / a0];
    let a = [-2.0 * cos / a0, (1.0 - alpha) / a0];
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    input
        .iter()
        .map(|&x| {
            let x = f64::from(x);
            let y = b[0] * x + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, x, y1, y);
            y as f32
        })
        .collect()
}

#[test]
fn biquad_lowpass_matches_the_cookbook_reference() {
    let frames = 4800;
    let input = noise(frames, 99);
    let automation = vec![
        ParamStep { name: "frequency".into(), value: 2000.0, frame: 0 },
        ParamStep { name: "Q".into(), value: 2.0, frame: 0 },
    ];
    let spec =
        RenderSpec { frames: frames as u64, input: Some(vec![input.clone()]), automation, ..RenderSpec::default() };
    let output = render_file("biquad.js", &spec);
    assert_close(&output[0], &lowpass_reference(&input, 2000.0, 2.0), 1e-5);
}

#[test]
fn biquad_lowpass_passes_low_and_attenuates_high_frequencies() {
    let frames = 9600;
    let gain_at = |freq: f64| {
        let spec = RenderSpec {
            frames: frames as u64,
            input: Some(vec![sine(freq, frames)]),
            automation: vec![ParamStep { name: "frequency".into(), value: 1000.0, frame: 0 }],
            ..RenderSpec::default()
        };
        let output = render_file("biquad.js", &spec);
        let tail = &output[0][frames / 2..];
        (tail.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt() * 2f64.sqrt()
    };
    assert!((gain_at(100.0) - 1.0).abs() < 0.01, "passband");
    let at_cutoff = 20.0 * gain_at(1000.0).log10();
    assert!((at_cutoff + 3.01).abs() < 0.1, "-3 dB at the cutoff with Q = 1/sqrt(2), got {at_cutoff}");
    let above = 20.0 * gain_at(10_000.0).log10();
    assert!(above < -35.0, "about 12 dB per octave above the cutoff, got {above}");
}

#[test]
fn biquad_rejects_an_unknown_type_in_its_constructor() {
    let path = std::path::PathBuf::from(processor("biquad.js"));
    let mut realm = Realm::new(&RealmConfig {
        module_roots: path.parent().map(Into::into).into_iter().collect(),
        ..RealmConfig::new(RATE)
    })
    .unwrap();
    realm.add_module_file(&path).unwrap();
    let spec =
        RenderSpec { frames: 128, options: json!({"processorOptions": {"type": "wobble"}}), ..RenderSpec::default() };
    let rendered = render(realm, &spec, &mut |_| {}).unwrap();
    let errors = worklet_tests::processor_errors(&rendered);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("unknown filter type 'wobble'"), "{}", errors[0].1);
    assert!(errors[0].2.ends_with("biquad.js"));
}
