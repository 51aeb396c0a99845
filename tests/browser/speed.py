"""Times processors in headless Chromium and in Worklet in one run: Chromium
renders SECONDS of stereo noise through each in an OfflineAudioContext (the wall
time of startRendering()), and `worklet bench` measures the same processor's
bare real-time factor (one instance, its render loop alone) right after.
Prints real-time factors (audio seconds per wall second) side by side.

Usage: python3 tests/browser/speed.py [--worklet PATH] [--chromium PATH]
                                      [--seconds S] [PROCESSOR.js ...]
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from compare import Results, serve

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RATE = 48000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worklet", default=str(REPO / "target/release/worklet"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("processors", nargs="*", default=["biquad.js", "biquad-wasm.js", "reverb-wasm.js"])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="worklet-speed-"))
    shutil.copytree(REPO / "processors", work / "processors")
    shutil.copy(HERE / "speed.html", work / "index.html")
    frames = int(args.seconds * RATE)
    cases = []
    for file in args.processors:
        path = REPO / "processors" / file
        check = json.loads(subprocess.run([args.worklet, "check", str(path)], check=True, capture_output=True, text=True).stdout)
        cases.append({"name": file, "file": f"processors/{file}", "processor": check["processors"][0]["name"], "frames": frames})
    (work / "cases.json").write_text(json.dumps(cases))

    results = Results()
    server = serve(work, results)
    profile = tempfile.mkdtemp(prefix="worklet-chromium-")
    browser = subprocess.Popen(
        [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", f"http://127.0.0.1:{server.server_address[1]}/index.html"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        finished = results.done.wait(timeout=600)
    finally:
        browser.kill()
        server.shutdown()
    if not finished:
        print("Chromium did not finish the renders in time", file=sys.stderr)
        return 1

    print(f"{'processor':<18} {'Chromium rtf':>13} {'Worklet bare rtf':>17}")
    for case in cases:
        if case["name"] in results.errors or case["name"] not in results.outputs:
            print(f"{case['name']}: browser error: {results.errors.get(case['name'], 'no result')}", file=sys.stderr)
            return 1
        chromium = args.seconds / (results.outputs[case["name"]][0] / 1000)
        bench = subprocess.run([args.worklet, "bench", str(REPO / "processors" / case["name"]), "--seconds", "10", "--json"],
                               check=True, capture_output=True, text=True)
        worklet = json.loads(bench.stdout)["bare_rtf"]
        print(f"{case['name']:<18} {chromium:>13.1f} {worklet:>17.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
