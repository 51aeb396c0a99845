"""The hostile-script corpus (tests/data/hostile) in Worklet.vst3 inside pedalboard.

Each case is put into the plugin's saved state, as a host restoring a session would,
and bounced (pedalboard renders offline). Scripts that crash, exhaust or hang the
engine kill only the plugin's engine process: this process (the host) must live on,
the bounce must come back in bounded time with only finite samples, the plugin's log
must say what happened (with the location the CLI gives, for scripts that do not
load), the saved state must still hold the script, the same instance must then play
a good state correctly, and once the plugin is gone no engine process and no busy
thread may be left. Needs `cargo xtask bundle worklet --release` first.
"""
import gc
import os
import re
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pedalboard
import pytest

import vst3_state

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "target" / "bundled" / "Worklet.vst3"
CORPUS = sorted((REPO / "tests" / "data" / "hostile").glob("*.js"))
RATE = 48000
WORKLET = REPO / "target" / "release" / "worklet"
# The engine's watchdog (5 s) and the offline patience for it run side by side; a
# bounce that takes far longer than both is blocked by the script. Scripts whose
# own work is slow (the floods: 10,000 calls per quantum) may take longer on a slow
# machine: those are judged against the same render in `worklet render --isolated`,
# timed in the same run.
BOUNCE_BOUND = 20.0
# What a death is called in the log (see the examples).
DEATHS = ("out of memory (cap 1024 MiB)", "crashed:", "stopped:")


def expectations(case):
    text = case.with_suffix(".expect").read_text()
    exit_status = int(re.search(r"// expect-exit: (\d+)", text).group(1))
    stderr = [line.strip() for line in re.findall(r"// expect-stderr:(.*)", text)]
    return exit_status, [line for line in stderr if line]


def engine_processes():
    """Processes whose parent is this one (the plugin's engine processes)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            children.append(stat.parent.name)
    return children


def deaths(log):
    return [line for line in log.splitlines() if any(death in line for death in DEATHS)]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def resident_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6


def own_work(case):
    """Seconds `worklet render --isolated` takes for the bounce's work (the same
    quarter second of noise, the same watchdog): what the script itself costs."""
    started = time.monotonic()
    subprocess.run([str(WORKLET), "render", str(case), "--isolated", "--seconds", "0.25", "--input-signal", "noise"],
                   cwd=REPO, capture_output=True, timeout=600)
    return time.monotonic() - started


def test_the_corpus_is_whole():
    assert len(CORPUS) >= 36
    fatal = [case for case in CORPUS if expectations(case)[0] == 3]
    assert len(fatal) >= 10, "cases that kill an engine process"


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.stem)
def test_hostile_script_in_a_vst3_host(case, capfd):
    assert BUNDLE.exists(), f"{BUNDLE} is missing: run `cargo xtask bundle worklet --release`"
    exit_status, expected_stderr = expectations(case)
    text = case.read_text()
    resident_before = resident_mb()
    plugin = pedalboard.load_plugin(str(BUNDLE), plugin_name="Worklet")
    factory = plugin.raw_state
    x = np.random.default_rng(5).uniform(-0.5, 0.5, (2, RATE // 4)).astype(np.float32)
    capfd.readouterr()

    plugin.raw_state = vst3_state.with_script(factory, case.name, text)
    started = time.monotonic()
    y = plugin.process(x, RATE, buffer_size=512)
    took = time.monotonic() - started
    if took >= BOUNCE_BOUND:
        own = own_work(case)
        assert took < 1.5 * own + 5.0, f"the bounce was blocked for {took:.1f} s (the script's own work: {own:.1f} s)"
    assert y.shape == x.shape
    assert np.isfinite(y).all(), "a non-finite sample reached the host"
    assert vst3_state.worklet_state(plugin.raw_state)["modules"][0]["text"] == text, "the script was lost"

    # The control thread may see a death a moment after the host stopped waiting.
    log = capfd.readouterr().err
    deadline = time.monotonic() + 3.0
    while exit_status == 3 and not deaths(log) and time.monotonic() < deadline:
        time.sleep(0.05)
        log += capfd.readouterr().err
    died = deaths(log)
    failed = [line for line in log.splitlines() if " failed: " in line]
    if exit_status == 3:
        assert died, f"no death reported in the log:\n{log}"
        for expected in expected_stderr:
            # The CLI names the frame; the plugin names the generation.
            what = expected.partition(": ")[2].split(" at frame")[0].split(" (at frame")[0]
            if what.startswith("stopped:"):
                # The CLI's own watchdog counts quanta; the plugin's names process(),
                # and the same line when the interrupt stopped the script there.
                located = re.search(r" at (\S+:\d+):", what)
                what = "stopped: process() ran for more than 5 s" + (f" at {located.group(1)}:" if located else "")
            assert any(what in line for line in died), f"{what!r} not in the log:\n{log}"
    elif exit_status == 2:
        assert failed, f"no build failure in the log:\n{log}"
        for expected in expected_stderr:
            assert any(expected in line for line in failed), f"{expected!r} not in the log:\n{log}"
    else:
        assert not died, f"a script that loads and plays was reported dead:\n{log}"
        # A constructor that throws (or floods the microtask queue) fails the
        # build in the plugin, where the CLI reports a processorerror: located.
        for line in failed:
            assert re.search(rf"failed: {re.escape(case.name)}:\d+:\d+: ", line), line

    # The same instance plays a good state again: the factory gain at unity.
    plugin.raw_state = factory
    y = plugin.process(x, RATE, buffer_size=512)
    assert np.max(np.abs(y - x)) < 1e-6, "the factory state does not play after the case"

    del plugin
    gc.collect()
    deadline = time.monotonic() + 3.0
    while engine_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not engine_processes(), "an engine process outlived the plugin"
    before = cpu_seconds()
    time.sleep(0.3)
    assert cpu_seconds() - before < 0.1, "a thread is still busy after the plugin is gone"
    assert resident_mb() - resident_before < 256, "the host's memory grew"
