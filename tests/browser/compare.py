"""Renders every processor in headless Chromium (OfflineAudioContext + AudioWorklet)
and with `worklet render` on the same input, options and parameters, and checks
that the outputs agree within 1e-5 (1e-6 for the processors whose DSP is
WebAssembly, and for the synth played from the same MIDI: a Standard MIDI File
in Worklet, processors/lib/host-events-main.js in Chromium).

It also lists the names of Chromium's AudioWorkletGlobalScope (globals-probe.js)
and checks them against tests/data/chromium-globals.json, from which the
compatibility-table test builds README's table; `--update-globals` rewrites the
file after a Chromium upgrade.

Usage: python3 tests/browser/compare.py [--worklet PATH] [--chromium PATH] [--update-globals]
"""
import argparse
import http.server
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RATE = 48000
FRAMES = 24000
TOLERANCE = 1e-5
# WebAssembly computes the same in every engine: its processors must agree closer.
WASM_TOLERANCE = 1e-6

STEREO = {"inputs": 2}
SOURCE = {"inputs": 0, "options": {"numberOfInputs": 0, "outputChannelCount": [2]}}
# name: (file in processors/ or a path from the repository, input channels and
# options, parameterData, processorOptions)
CASES = {
    "gain": ("gain.js", STEREO, {"gain": 0.5}, None),
    "panner": ("panner.js", {"inputs": 1, "options": {"outputChannelCount": [2]}}, {"pan": 0.3}, None),
    "biquad": ("biquad.js", STEREO, {"frequency": 2000, "Q": 2}, {"type": "lowpass"}),
    "biquad-peaking": ("biquad.js", STEREO, {"frequency": 500, "gain": 6}, {"type": "peaking"}),
    "biquad-wasm": ("biquad-wasm.js", STEREO, {"frequency": 2000, "Q": 2}, {"type": "lowpass"}),
    "biquad-wasm-highshelf": ("biquad-wasm.js", STEREO, {"frequency": 3000, "gain": -9}, {"type": "highshelf"}),
    "svf": ("svf.js", STEREO, {"cutoff": 800, "resonance": 1.5}, {"mode": "bandpass"}),
    "delay": ("delay.js", STEREO, {"delayTime": 0.0123, "feedback": 0.6, "mix": 0.5}, None),
    "chorus": ("chorus.js", STEREO, {"rate": 1.3, "depth": 4, "mix": 0.5}, None),
    "tremolo": ("tremolo.js", STEREO, {"rate": 6, "depth": 0.7}, None),
    "bitcrusher": ("bitcrusher.js", STEREO, {"bits": 6, "downsample": 3}, None),
    "saturator": ("saturator.js", STEREO, {"drive": 12, "output": 0.8}, {"shape": "soft"}),
    "compressor": ("compressor.js", STEREO, {"threshold": -20, "ratio": 4}, None),
    "noise-gate": ("noise-gate.js", STEREO, {"threshold": -20}, None),
    "oscillator": ("oscillator.js", SOURCE, {"frequency": 330}, {"type": "sawtooth"}),
    "oscillator-wasm": ("oscillator-wasm.js", SOURCE, {"frequency": 330}, {"type": "sawtooth"}),
    "oscillator-wasm-sine": ("oscillator-wasm.js", SOURCE, {"frequency": 1234.5, "detune": 35}, {"type": "sine"}),
    "reverb-wasm": ("reverb-wasm.js", STEREO, {"mix": 0.5, "low": 2.5, "predelay": 15}, None),
    "noise": ("noise.js", SOURCE, {"gain": 0.5}, {"color": "pink", "seed": 42}),
    "level-meter": ("level-meter.js", STEREO, {}, None),
    "scope": ("scope.js", STEREO, {}, None),
    "ping-pong": ("ping-pong.js", STEREO, {}, None),
    "global-volume": ("global-volume.js", STEREO, {}, None),
    "synth": ("synth.js", SOURCE, {"release": 0.05}, None),
    # Input 1 is the key: in Worklet the sidechain (--sidechain), in Chromium a
    # second source connected to the node's second input.
    "ducker": ("ducker.js", {"inputs": 2, "sidechain": 1, "options": {"numberOfInputs": 2, "outputChannelCount": [2]}},
               {"threshold": -24, "ratio": 6, "release": 0.05}, None),
    # Annex B string functions and an async factory (tests/browser/processors/).
    "legacy-async": ("tests/browser/processors/legacy-async.js", STEREO, {},
                     {"query": "gain%3D0.5%26harmonics%3D5%26step%3D3%26label%3Dmy%20table"}),
}


# Processors played by MIDI: name: (ticks at 480 per quarter note, 120 BPM, so a
# tick is 1/960 s, 50 frames; the bytes). Worklet reads them from a Standard MIDI
# File (`--midi`), Chromium gets them through processors/lib/host-events-main.js.
MIDI = {
    "synth": [(0, [0x90, 60, 100]), (0, [0x90, 64, 90]), (120, [0xE0, 0x00, 0x50]), (200, [0x80, 60, 0]),
              (240, [0x91, 67, 127]), (250, [0xE1, 0x10, 0x30]), (260, [0xD1, 90]), (270, [0xB1, 74, 100]),
              (320, [0x80, 64, 0]), (380, [0x81, 67, 0])],
}


def write_midi(path, events):
    """A format 0 Standard MIDI File of (tick, bytes) at 480 ticks per quarter note."""
    def vlq(n):
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.insert(0, (n & 0x7F) | 0x80)
            n >>= 7
        return bytes(out)
    track, last = b"", 0
    for tick, data in events:
        track += vlq(tick - last) + bytes(data)
        last = tick
    track += b"\x00\xff\x2f\x00"
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(track)) + track)


def source(file):
    """The repository path of a case's module."""
    return REPO / file if "/" in file else REPO / "processors" / file


def test_input(channels):
    """A sine sweep plus a burst, deterministic and the same for both renderers."""
    data = []
    for ch in range(channels):
        for n in range(FRAMES):
            t = n / RATE
            sweep = 0.4 * math.sin(2 * math.pi * (100 + 2000 * t) * t + ch)
            burst = 0.5 if 6000 <= n < 6400 else 0.0
            data.append(struct.unpack("f", struct.pack("f", sweep + burst))[0])
    return data


def key_input():
    """A key for a sidechain: bursts of a 60 Hz tone, 50 ms on, 50 ms off."""
    return [0.6 * math.sin(2 * math.pi * 60 * n / RATE) if (n // 2400) % 2 == 0 else 0.0 for n in range(FRAMES)]


def write_wav(path, channels, planar):
    frames = len(planar) // channels
    interleaved = [planar[ch * frames + n] for n in range(frames) for ch in range(channels)]
    body = struct.pack(f"<{len(interleaved)}f", *interleaved)
    fmt = struct.pack("<HHIIHH", 3, channels, RATE, RATE * channels * 4, channels * 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(body)) + body)


def read_wav(path):
    raw = Path(path).read_bytes()
    channels = struct.unpack("<H", raw[22:24])[0]
    pos = 12
    while raw[pos:pos + 4] != b"data":
        pos += 8 + struct.unpack("<I", raw[pos + 4:pos + 8])[0]
    size = struct.unpack("<I", raw[pos + 4:pos + 8])[0]
    samples = struct.unpack(f"<{size // 4}f", raw[pos + 8:pos + 8 + size])
    return [list(samples[ch::channels]) for ch in range(channels)]


GLOBALS = REPO / "tests" / "data" / "chromium-globals.json"


class Results:
    def __init__(self):
        self.outputs, self.errors, self.done, self.globals = {}, {}, threading.Event(), None


def serve(root, results):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/result/"):
                results.outputs[self.path[8:]] = list(struct.unpack(f"<{len(body) // 4}f", body))
            elif self.path.startswith("/error/"):
                results.errors[self.path[7:]] = body.decode(errors="replace")
            elif self.path == "/globals":
                results.globals = json.loads(body)
            elif self.path == "/done":
                results.done.set()
            self.send_response(204)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worklet", default=str(REPO / "target/release/worklet"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--update-globals", action="store_true", help=f"rewrite {GLOBALS.relative_to(REPO)}")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="worklet-browser-"))
    (work / "input").mkdir()
    shutil.copytree(REPO / "processors", work / "processors")
    shutil.copytree(HERE / "processors", work / "tests" / "browser" / "processors")
    shutil.copy(HERE / "page.html", work / "index.html")
    shutil.copy(HERE / "globals-probe.js", work / "globals-probe.js")
    cases, expected = [], {}
    for name, (file, io, params, processor_options) in CASES.items():
        check = json.loads(subprocess.run([args.worklet, "check", str(source(file))], check=True, capture_output=True, text=True).stdout)
        options = dict(io.get("options", {}))
        if params:
            options["parameterData"] = params
        if processor_options:
            options["processorOptions"] = processor_options
        command = [args.worklet, "render", str(source(file)), "--options", json.dumps(options), "--out", str(work / f"{name}.wav")]
        if name in MIDI:
            write_midi(work / f"{name}.mid", MIDI[name])
            command += ["--midi", str(work / f"{name}.mid")]
        channels = io["inputs"]
        if channels:
            planar = test_input(channels)
            (work / "input" / f"{name}.f32").write_bytes(struct.pack(f"<{len(planar)}f", *planar))
            write_wav(work / f"{name}-in.wav", channels, planar)
            command += ["--input", str(work / f"{name}-in.wav")]
        else:
            command += ["--input-signal", "none", "--frames", str(FRAMES), "--sample-rate", str(RATE)]
        sidechain = io.get("sidechain", 0)
        if sidechain:
            key = key_input() * sidechain
            (work / "input" / f"{name}-key.f32").write_bytes(struct.pack(f"<{len(key)}f", *key))
            write_wav(work / f"{name}-key.wav", sidechain, key)
            command += ["--sidechain", str(work / f"{name}-key.wav")]
        subprocess.run(command, check=True)
        out = read_wav(work / f"{name}.wav")
        expected[name] = out * 2 if len(out) == 1 else out
        midi = [{"time": tick / 960, "bytes": data} for tick, data in MIDI.get(name, [])]
        cases.append({"name": name, "file": str(source(file).relative_to(REPO)), "processor": check["processors"][0]["name"], "options": options,
                      "inputChannels": channels, "sidechainChannels": sidechain, "frames": FRAMES, "sampleRate": RATE,
                      "midi": midi})
    (work / "cases.json").write_text(json.dumps(cases))

    results = Results()
    server = serve(work, results)
    profile = tempfile.mkdtemp(prefix="worklet-chromium-")
    browser = subprocess.Popen(
        [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}",
         f"http://127.0.0.1:{server.server_address[1]}/index.html"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        finished = results.done.wait(timeout=300)
    finally:
        browser.kill()
        server.shutdown()
    if not finished:
        print("Chromium did not finish the renders in time", file=sys.stderr)
        return 1

    passed = failed = 0
    for name in CASES:
        if name in results.errors:
            print(f"FAIL {name}: browser error: {results.errors[name]}")
            failed += 1
            continue
        browser_out = results.outputs.get(name)
        if browser_out is None:
            print(f"FAIL {name}: no result from the browser")
            failed += 1
            continue
        worst = 0.0
        for ch in range(2):
            mine = expected[name][ch]
            theirs = browser_out[ch * FRAMES:(ch + 1) * FRAMES]
            worst = max(worst, max(abs(a - b) for a, b in zip(mine, theirs)))
        energy = max(abs(s) for s in expected[name][0])
        tolerance = WASM_TOLERANCE if "-wasm" in CASES[name][0] or name in MIDI else TOLERANCE
        status = "ok" if worst <= tolerance else "FAIL"
        print(f"{status} {name}: max difference {worst:.2e} (peak {energy:.3f}, tolerance {tolerance:.0e})")
        passed += worst <= tolerance
        failed += worst > tolerance
    print(f"{passed} passed, {failed} failed")
    failed += check_globals(results, args.update_globals)
    return 0 if failed == 0 else 1


def check_globals(results, update):
    """Compares Chromium's global names with the stored list (or rewrites it)."""
    if results.globals is None:
        print(f"FAIL globals: {results.errors.get('globals', 'no result from the browser')}")
        return 1
    text = json.dumps(results.globals, indent=1, sort_keys=True) + "\n"
    if update:
        GLOBALS.write_text(text)
        print(f"wrote {GLOBALS.relative_to(REPO)} ({results.globals['browser']}, {len(results.globals['names'])} names)")
        return 0
    stored = json.loads(GLOBALS.read_text()) if GLOBALS.exists() else {"names": {}, "features": {}}
    if stored.get("names") == results.globals["names"] and stored.get("features") == results.globals["features"]:
        print(f"ok globals: {results.globals['browser']} has the {len(stored['names'])} names of {GLOBALS.name}")
        return 0
    added = sorted(set(results.globals["names"]) - set(stored.get("names", {})))
    removed = sorted(set(stored.get("names", {})) - set(results.globals["names"]))
    print(f"FAIL globals: {results.globals['browser']} differs from {GLOBALS.name} (new: {added}, gone: {removed});"
          " run with --update-globals, then `WORKLET_UPDATE_README=1 cargo test --release -p worklet-tests --test integration compat_table::`")
    return 1


if __name__ == "__main__":
    sys.exit(main())
