"""The editor in a real X window (Xvfb), driven with xdotool like a user.

`worklet-standalone --backend dummy` runs the plugin with its editor and no
audio hardware (the dummy backend still calls `process` in real time). The test
types a new processor over the default one, applies it with Ctrl+Enter, then
types a syntax error and applies again. Then it loads the MDN ping-pong from
the library and posts "ping" from the console's input line. Last it turns the
console's MIDI monitor on and plays a note on the on-screen keyboard: the note
goes to the audio thread and comes back into the console as "MIDI in" lines. The plugin's log (NICE_LOG) says which
generation the host is playing; screenshots are checked for the error marks.

Screenshots are kept in target/gui-shots/ for the closing note.
"""

import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "release" / "worklet-standalone"
SHOTS = ROOT / "target" / "gui-shots"
# The editor's error colours (gui/code.rs: ERROR_MARK and ERROR_LINE).
ERROR_MARK = (235, 64, 52)
ERROR_LINE = (110, 28, 28)
# Console lines received on a node-side port (gui/console.rs).
RECEIVED = (156, 220, 254)
# Console lines of MIDI the processor got (gui/console.rs), and a sounding key
# of the on-screen keyboard (gui/keyboard.rs).
MIDI_IN = (197, 134, 192)
KEY_LIT = (106, 190, 85)
# The editor's library list: one row per factory processor, in the order of
# plugin/src/library.rs, from gain.js at y = 61, 23 px apart; the Load button
# comes after the last row.
LIBRARY_TOP, LIBRARY_ROW = 61, 23
# The console's "Show MIDI" box, and the lowest C of the on-screen keyboard (low
# on the key, where no black key covers it), in window coordinates.
MONITOR_BOX = ("530", "533")
KEY_C = ("245", "500")

TYPED = """registerProcessor('typed', class extends AudioWorkletProcessor {
process([input], [output]) {
output.forEach((channel, c) => channel.set(input[c] || channel));
return true;
}
});"""


def wait_for(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def xdotool(*args, check=True):
    return subprocess.run(["xdotool", *args], check=check, capture_output=True, text=True).stdout.strip()


def type_text(text):
    """Types `text` with real key presses; line breaks are Return presses (xdotool
    would type a linefeed keysym, which is not the Enter key)."""
    for index, line in enumerate(text.split("\n")):
        if index:
            xdotool("key", "Return")
        if line:
            xdotool("type", "--delay", "8", line)


def screenshot(display, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True)
    return path


def pixels_of(path, colour, tolerance=6):
    """How many pixels of `path` are within `tolerance` of `colour`."""
    raw = subprocess.run(["convert", str(path), "-depth", "8", "rgb:-"], check=True, capture_output=True).stdout
    r0, g0, b0 = colour
    count = 0
    for i in range(0, len(raw) - 2, 3):
        if abs(raw[i] - r0) <= tolerance and abs(raw[i + 1] - g0) <= tolerance and abs(raw[i + 2] - b0) <= tolerance:
            count += 1
    return count


@pytest.fixture()
def editor():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: cargo build --release -p worklet --features standalone")
    for tool in ("Xvfb", "xdotool", "import", "convert"):
        assert shutil.which(tool), f"{tool} is not installed (.ci/run installs it)"
    work = pathlib.Path(tempfile.mkdtemp(prefix="worklet-gui-"))
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=display, HOME=str(work), NICE_LOG=str(work / "worklet.log"))
    wait_for("Xvfb", lambda: subprocess.run(["xdotool", "getmouselocation"], env=env,
                                            capture_output=True).returncode == 0, timeout=20)
    os.environ["DISPLAY"] = display
    app = subprocess.Popen([str(BINARY), "--backend", "dummy", "--sample-rate", "48000", "--period-size", "256"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log = work / "worklet.log"
    try:
        yield display, app, log
    finally:
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()
        xvfb.terminate()
        xvfb.wait(timeout=10)
        if log.exists():
            SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, SHOTS / "worklet.log")
        shutil.rmtree(work, ignore_errors=True)


def log_text(log):
    return log.read_text(errors="replace") if log.exists() else ""


def test_type_apply_and_break_in_the_editor(editor):
    display, app, log = editor
    wait_for("the default processor to play", lambda: "generation 1 is playing" in log_text(log))
    found = wait_for("the editor window", lambda: xdotool("search", "--onlyvisible", "--name", "Worklet", check=False))
    window = found.splitlines()[0]
    geometry = xdotool("getwindowgeometry", window)
    assert re.search(r"Geometry: (\d+)x(\d+)", geometry), geometry
    time.sleep(1.0)
    opened = screenshot(display, "1-opened.png")
    assert pixels_of(opened, ERROR_MARK) == 0, "no error is shown at first"

    # Click into the code, replace it with a new processor, apply.
    xdotool("windowfocus", "--sync", window)
    xdotool("mousemove", "--window", window, "520", "260", "click", "1")
    xdotool("key", "ctrl+a")
    type_text(TYPED)
    time.sleep(0.3)
    xdotool("key", "ctrl+Return")
    wait_for("the typed processor to build", lambda: "processor 'typed'" in log_text(log))
    wait_for("the host to play it", lambda: "generation 2 is playing" in log_text(log))
    time.sleep(0.5)
    applied = screenshot(display, "2-applied.png")
    assert pixels_of(applied, ERROR_MARK) == 0, "the good edit shows no error"

    # Add a broken line 7 and apply: the error names the line, the old sound stays.
    xdotool("key", "ctrl+End")
    type_text("\nlet broken = (;")
    time.sleep(0.3)
    xdotool("key", "ctrl+Return")
    failed = wait_for("the error", lambda: re.search(r"generation 3 failed: (\S+?):(\d+):(\d+): SyntaxError.*",
                                                     log_text(log)))
    assert failed.group(1) == "gain.js" and failed.group(2) == "7", failed.group(0)
    assert "'typed' keeps playing" in failed.group(0)
    time.sleep(1.5)
    text = log_text(log)
    assert "generation 3 is playing" not in text, "the broken generation never plays"
    assert app.poll() is None, "the standalone is still running"
    broken = screenshot(display, "3-error.png")
    assert pixels_of(broken, ERROR_MARK) > 50, "the error line number and gutter mark are red"
    assert pixels_of(broken, ERROR_LINE) > 500, "the error line and the error bar are marked"

    # The MDN ping-pong, interactively: pick it in the library, load it, post "ping".
    order = re.findall(r'^\s*"([\w-]+\.js)",', (ROOT / "plugin" / "src" / "library.rs").read_text(), re.M)
    row = LIBRARY_TOP + LIBRARY_ROW * order.index("ping-pong.js")
    load = LIBRARY_TOP + LIBRARY_ROW * len(order)
    xdotool("mousemove", "--window", window, "70", str(row), "click", "1")
    time.sleep(0.3)
    xdotool("mousemove", "--window", window, "85", str(load), "click", "1")
    wait_for("ping-pong to play", lambda: "processor 'ping-pong-processor'" in log_text(log))
    time.sleep(0.5)
    assert pixels_of(screenshot(display, "4-ping-pong-loaded.png"), RECEIVED) == 0, "nothing received yet"
    xdotool("mousemove", "--window", window, "550", "555", "click", "1")
    xdotool("type", "--delay", "8", '"ping"')
    xdotool("key", "Return")
    wait_for("the pong in the console",
             lambda: pixels_of(screenshot(display, "5-pong.png"), RECEIVED) > 30, timeout=20)

    # The on-screen keyboard, with the MIDI monitor on: press and hold a key (it
    # lights up), release it; both notes come back through the audio thread.
    xdotool("mousemove", "--window", window, MONITOR_BOX[0], MONITOR_BOX[1], "click", "1")
    time.sleep(0.3)
    before = pixels_of(screenshot(display, "6-monitor-on.png"), KEY_LIT)
    xdotool("mousemove", "--window", window, KEY_C[0], KEY_C[1], "mousedown", "1")
    time.sleep(0.5)
    held = screenshot(display, "7-key-held.png")
    xdotool("mouseup", "1")
    assert pixels_of(held, KEY_LIT) - before > 600, "the held key is lit"
    wait_for("the note on and off in the console",
             lambda: pixels_of(screenshot(display, "8-midi-monitor.png"), MIDI_IN) > 200, timeout=20)
