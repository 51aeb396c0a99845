"""Worklet.vst3 in a real VST3 host (pedalboard): load, parameters, audio, and
the instrument played by MIDI and SysEx.

Needs `cargo xtask bundle worklet --release` first (.ci/run does it).
"""
from pathlib import Path

import numpy as np
import pedalboard
import pytest

import vst3_state

BUNDLE = Path(__file__).resolve().parents[2] / "target" / "bundled" / "Worklet.vst3"
PROCESSORS = Path(__file__).resolve().parents[2] / "processors"
RATE = 48000


@pytest.fixture()
def plugin():
    assert BUNDLE.exists(), f"{BUNDLE} is missing: run `cargo xtask bundle worklet --release`"
    return pedalboard.load_plugin(str(BUNDLE), plugin_name="Worklet")


@pytest.fixture()
def instrument():
    assert BUNDLE.exists(), f"{BUNDLE} is missing: run `cargo xtask bundle worklet --release`"
    return pedalboard.load_plugin(str(BUNDLE), plugin_name="Worklet Instrument")


def noise(seconds=1.0, channels=2, seed=7):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, (channels, int(RATE * seconds))).astype(np.float32)


def test_the_bundle_holds_the_effect_and_the_instrument(plugin, instrument):
    assert plugin.is_effect and not plugin.is_instrument
    assert instrument.is_instrument


def test_lists_64_slots_with_descriptor_value_text(plugin):
    names = list(plugin.parameters.keys())
    assert names == [f"slot_{n}" for n in range(1, 65)]
    slot = plugin.parameters["slot_1"]
    assert slot.name == "Slot 1"
    assert str(slot.string_value) == "gain: 1.0"  # the default processor is the factory gain
    assert str(plugin.parameters["slot_64"].string_value) == "(unmapped)"


def test_default_processor_passes_audio_through(plugin):
    x = noise()
    y = plugin(x, RATE)
    assert y.shape == x.shape
    # pedalboard compensates the reported latency, so the gain at unity is exact.
    assert np.max(np.abs(y - x)) < 1e-6


def test_slot_moves_the_processor_parameter(plugin):
    x = noise(seed=3)
    plugin.parameters["slot_1"].raw_value = 0.25  # gain 0..4 with its default 1 at the centre: 0.5
    assert str(plugin.parameters["slot_1"].string_value) == "gain: 0.5"
    y = plugin(x, RATE)
    assert np.max(np.abs(y - 0.5 * x)) < 1e-6
    rms_in = float(np.sqrt(np.mean(x**2)))
    rms_out = float(np.sqrt(np.mean(y**2)))
    assert abs(20 * np.log10(rms_out / rms_in) - 20 * np.log10(0.5)) < 0.01


def test_mono_and_other_sample_rates(plugin):
    x = noise(channels=1, seconds=0.5)
    y = plugin(x, 44100)
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) < 1e-6


def test_one_instance_moves_between_mono_and_stereo(plugin):
    # The host re-arranges the buses each time: every layout plays through.
    for channels in (1, 2, 1, 2):
        x = noise(channels=channels, seconds=0.25, seed=channels)
        y = plugin(x, RATE)
        assert y.shape == x.shape
        assert np.max(np.abs(y - x)) < 1e-6, channels


def test_the_factory_ducker_plays_mono_and_stereo_with_its_sidechain_bus(plugin):
    # The VST3 buses: main (mono or stereo), a stereo sidechain and a stereo
    # auxiliary output in every layout. pedalboard feeds only the main bus, so
    # the key is silent: unity gain, each channel its own, in every layout.
    state = vst3_state.worklet_state(plugin.raw_state)
    state.update(modules=[{"name": "ducker.js", "text": (PROCESSORS / "ducker.js").read_text()}],
                 processor=None, slots=[], touched=[],
                 options={"numberOfInputs": 2, "outputChannelCount": [2]})
    plugin.raw_state = vst3_state.with_worklet_state(plugin.raw_state, state)
    for channels in (1, 2, 1, 2):
        x = noise(channels=channels, seconds=0.25, seed=10 + channels)
        y = plugin(x, RATE)
        assert y.shape == x.shape
        assert np.max(np.abs(y - x)) < 1e-6, channels
    # It was the ducker that played: its first parameter is in slot 1.
    assert str(plugin.parameters["slot_1"].string_value) == "threshold: -30.0"


def test_the_instrument_plays_midi_notes_at_their_frames(instrument):
    # (status, data1, data2) at seconds; 0.25 s is frame 12000 at 48 kHz.
    notes = [([0x90, 69, 100], 0.25), ([0x80, 69, 0], 0.5), ([0x90, 81, 127], 1.0), ([0x80, 81, 0], 1.25)]
    y = instrument(notes, duration=2.0, sample_rate=RATE)
    assert y.shape[0] == 2
    left = y[0]
    onsets = []
    silent_since = 0
    for n in range(1, len(left)):
        if left[n] != 0.0 and left[n - 1] == 0.0 and n - silent_since > 2000:
            onsets.append(n)
        if left[n] != 0.0:
            silent_since = n
    # pedalboard does not compensate an instrument's latency: both notes start one
    # and the same latency after their frames, a whole number of quanta (the
    # latency the plugin reports for pedalboard's 8192-frame blocks).
    latency = onsets[0] - 12000
    assert onsets[:2] == [12000 + latency, 48000 + latency], onsets[:5]
    assert latency % 128 == 0 and 0 < latency <= 8192 + 512, latency
    left = left[latency:]

    def frequency(x):
        rising = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
        return RATE * (len(rising) - 1) / (rising[-1] - rising[0])

    assert abs(frequency(left[14000:23000]) - 440.0) < 0.5
    assert abs(frequency(left[50000:59000]) - 880.0) < 0.5
    # Released: 200 ms after each note-off it is silent again.
    assert np.all(left[24000 + 9700:47000] == 0.0)


SYSEX_PROBE = """
import { HostEvents } from './lib/host-events.js';
// Holds, from each SysEx message's frame, its length / 1000 on the left and
// the sum of its bytes / 100000 on the right.
class SysexProbe extends AudioWorkletProcessor {
  constructor() { super(); this.events = new HostEvents(this.port); this.level = [0, 0]; }
  process(inputs, [out]) {
    const events = this.events;
    events.begin();
    let from = 0;
    while (events.next()) {
      if (events.type !== 'wam-sysex') continue;
      for (let n = from; n < events.frame; n++) { out[0][n] = this.level[0]; out[1][n] = this.level[1]; }
      from = events.frame;
      this.level = [events.sysex.length / 1000, events.sysex.reduce((a, b) => a + b, 0) / 100000];
    }
    for (let n = from; n < out[0].length; n++) { out[0][n] = this.level[0]; out[1][n] = this.level[1]; }
    return true;
  }
}
registerProcessor('sysex-probe', SysexProbe);
"""


def test_sysex_reaches_the_instrument_whole_at_its_frame(instrument):
    instrument.raw_state = vst3_state.with_script(instrument.raw_state, "sysex-probe.js", SYSEX_PROBE)
    gm_on = [0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7]
    tuning = [0xF0, 0x7F, 0x7F, 0x08, 0x02, 0x00, 0x01, 0x45, 0x46, 0x00, 0x00, 0xF7]
    long = [0xF0] + [n % 128 for n in range(700)] + [0xF7]
    messages = [(bytes(gm_on), 0.25), (bytes(tuning), 0.5), (bytes(long), 1.0)]
    y = instrument(messages, duration=1.5, sample_rate=RATE)
    left, right = y[0], y[1]
    steps = [n for n in range(1, len(left)) if left[n] != left[n - 1]]
    latency = steps[0] - 12000
    assert steps == [12000 + latency, 24000 + latency, 48000 + latency], steps
    # Each message arrives whole, F0 and F7 included, whatever form the host sent.
    for (message, _), at in zip(messages, steps):
        assert abs(left[at] - len(message) / 1000) < 1e-6
        assert abs(right[at] - sum(message) / 100000) < 1e-6
