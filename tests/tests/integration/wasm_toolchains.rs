//! Toolchain output that runs unchanged: an Emscripten `-sSINGLE_FILE` build
//! with synchronous compilation (`tests/data/emscripten`), the way web-audio
//! projects ship AudioWorklet DSP, renders what the JavaScript biquad renders.

use worklet_tests::{assert_close, cli, processor, repo, scratch};

fn render(module: &str, out: &std::path::Path) -> Vec<f32> {
    let (status, _, stderr) = cli(&[
        "render",
        module,
        "--input-signal",
        "noise",
        "--frames",
        "9600",
        "--param",
        "frequency=800",
        "--param",
        "frequency=3000@4800",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let mut reader = hound::WavReader::open(out).unwrap();
    reader.samples::<f32>().map(Result::unwrap).collect()
}

#[test]
fn an_emscripten_single_file_build_runs_unchanged() {
    let dir = scratch("wasm-emscripten");
    let emscripten = repo().join("tests/data/emscripten/processor.js");
    let wasm = render(emscripten.to_str().unwrap(), &dir.join("emscripten.wav"));
    let javascript = render(&processor("biquad.js"), &dir.join("javascript.wav"));
    assert_eq!(wasm.len(), 2 * 9600);
    assert!(wasm.iter().any(|x| x.abs() > 0.05), "the filter passes the noise");
    // libm's cos and sin instead of Math's: equal to rounding.
    assert_close(&wasm, &javascript, 1e-6);
}
