"""Worklet's saved state as pedalboard (JUCE's VST3 host) hands it over in `raw_state`.

JUCE wraps the plugin's IComponent state as `VC2!` + a 4-byte little-endian size + XML:
`<VST3PluginState><IComponent>SIZE.CHARS</IComponent>...`, where CHARS are the bytes
six bits at a time, least significant bit first, in JUCE's own alphabet. Inside is
nice-plug's state JSON, whose `fields["worklet-state"]` holds Worklet's state
(modules, processor, slots) as JSON text, itself stored as a JSON string.
"""
import json
import re

JUCE_ALPHABET = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
COMPONENT = re.compile(r"<IComponent>([^<]*)</IComponent>")


def juce_decode(text):
    size, _, chars = text.partition(".")
    value = 0
    for i, char in enumerate(chars):
        value |= JUCE_ALPHABET.index(char) << (6 * i)
    return value.to_bytes(int(size) + 8, "little")[: int(size)]


def juce_encode(data):
    value = int.from_bytes(data, "little")
    chars = (len(data) * 8 + 5) // 6
    return f"{len(data)}." + "".join(JUCE_ALPHABET[(value >> (6 * i)) & 63] for i in range(chars))


def _split(raw):
    assert raw[:4] == b"VC2!", f"not a JUCE VST3 state: {raw[:16]!r}"
    xml = raw[8:].decode()
    found = COMPONENT.search(xml)
    assert found, "the state has no IComponent"
    return xml, found.group(1)


def worklet_state(raw):
    """Worklet's own state (a dict) from a `raw_state`."""
    _, component = _split(raw)
    saved = json.loads(juce_decode(component))
    return json.loads(json.loads(saved["fields"]["worklet-state"]))


def with_worklet_state(raw, state):
    """`raw` with Worklet's state replaced by `state`."""
    xml, component = _split(raw)
    saved = json.loads(juce_decode(component))
    saved["fields"]["worklet-state"] = json.dumps(json.dumps(state))
    body = xml.replace(component, juce_encode(json.dumps(saved).encode())).encode()
    return raw[:4] + len(body).to_bytes(4, "little") + body


def with_script(raw, name, text):
    """`raw` with one module, `text` named `name`, and its first processor."""
    state = worklet_state(raw)
    state.update(modules=[{"name": name, "text": text}], processor=None, slots=[], touched=[])
    return with_worklet_state(raw, state)
