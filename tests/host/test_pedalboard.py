"""Worklet.vst3 in a real VST3 host (pedalboard): load, parameters, audio.

Needs `cargo xtask bundle worklet --release` first (.ci/run does it).
"""
from pathlib import Path

import numpy as np
import pedalboard
import pytest

BUNDLE = Path(__file__).resolve().parents[2] / "target" / "bundled" / "Worklet.vst3"
RATE = 48000


@pytest.fixture()
def plugin():
    assert BUNDLE.exists(), f"{BUNDLE} is missing: run `cargo xtask bundle worklet --release`"
    return pedalboard.load_plugin(str(BUNDLE))


def noise(seconds=1.0, channels=2, seed=7):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, (channels, int(RATE * seconds))).astype(np.float32)


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
