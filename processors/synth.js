// Eight-voice polyphonic synth played by MIDI, and by MPE controllers.
// Each voice is a sine (plus its second and third harmonics as the timbre rises)
// under a linear ADSR envelope; a note starts at the exact frame of its note-on.
//
// MIDI: note on/off (velocity sets the level), sustain pedal (CC 64), all notes
// off (CC 123) and all sound off (CC 120); pitch bend on channel 1 bends every
// voice by ±2 semitones.
// MPE (lower zone): each note on its own channel 2–16 takes that channel's pitch
// bend (±48 semitones), channel pressure (louder, up to 1.5×) and CC 74 (timbre).
// A DAW's per-note expressions (CLAP): tuning (semitones), brightness (the
// timbre), volume, and poly pressure, each for the one note it names.
// Voices are stolen oldest first, releasing voices before held ones. When a
// voice falls silent (or is stolen) the host is told (`endVoice`).
import { HostEvents } from './lib/host-events.js';

const VOICES = 8;
const MASTER_BEND_RANGE = 2;
const MEMBER_BEND_RANGE = 48;

class Voice {
  constructor() {
    this.active = false;
    this.releasing = false;
    this.held = false;      // released while the sustain pedal is down
    this.note = 0;
    this.channel = 0;
    this.noteId = -1;
    this.level = 0;
    this.env = 0;
    this.stage = 0;         // 0 attack, 1 decay/sustain, 2 release
    this.step = 0;          // release step per frame
    this.phase = 0;
    this.started = 0;
    this.tuning = 0;        // per-note expressions
    this.brightness = 0;
    this.volume = 1;
    this.pressure = 0;
  }

  // Whether an event for `noteId` (or `channel` and `key`, -1: any) is for this voice.
  is(noteId, channel, key) {
    if (!this.active) return false;
    if (noteId >= 0 && this.noteId >= 0) return this.noteId === noteId;
    return (channel < 0 || channel === this.channel) && (key < 0 || key === this.note);
  }
}

class SynthProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'gain', defaultValue: 0.25, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
      { name: 'attack', defaultValue: 0.005, minValue: 0.0005, maxValue: 5, automationRate: 'k-rate' },
      { name: 'decay', defaultValue: 0.1, minValue: 0.001, maxValue: 5, automationRate: 'k-rate' },
      { name: 'sustain', defaultValue: 0.8, minValue: 0, maxValue: 1, automationRate: 'k-rate' },
      { name: 'release', defaultValue: 0.2, minValue: 0.001, maxValue: 10, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.events = new HostEvents(this.port);
    this.voices = Array.from({ length: VOICES }, () => new Voice());
    this.bend = new Float64Array(16);      // per channel, -1..1
    this.pressure = new Float64Array(16);  // per channel, 0..1
    this.timbre = new Float64Array(16);    // per channel, 0..1
    this.sustain = false;
    this.notes = 0;
    this.frame = 0;         // the frame of the event being handled
  }

  process(inputs, outputs, parameters) {
    const out = outputs[0];
    if (!out || out.length === 0) return true;
    this.gain = parameters.gain[0];
    this.attackStep = 1 / (parameters.attack[0] * sampleRate);
    this.sustainLevel = parameters.sustain[0];
    this.decayStep = (1 - this.sustainLevel) / (parameters.decay[0] * sampleRate);
    this.releaseTime = parameters.release[0] * sampleRate;
    const events = this.events;
    let frame = 0;
    events.begin();
    while (events.next()) {
      this.render(out, frame, events.frame);
      frame = events.frame;
      this.frame = frame;
      if (events.type === 'wam-midi') this.midi(events.status, events.data1, events.data2, events.noteId);
      else if (events.type === 'note-expression') this.express(events);
    }
    this.render(out, frame, out[0].length);
    for (let c = 1, channels = out.length; c < channels; c++) out[c].set(out[0]);
    return true;
  }

  midi(status, data1, data2, noteId) {
    const channel = status & 0x0f;
    switch (status & 0xf0) {
      case 0x90:
        if (data2 > 0) this.noteOn(channel, data1, data2, noteId);
        else this.noteOff(channel, data1, noteId);
        break;
      case 0x80: this.noteOff(channel, data1, noteId); break;
      case 0xe0: this.bend[channel] = ((data2 << 7 | data1) - 8192) / 8192; break;
      case 0xd0: this.pressure[channel] = data1 / 127; break;
      case 0xa0:
        for (const v of this.voices) if (v.is(noteId, channel, data1)) v.pressure = data2 / 127;
        break;
      case 0xb0: this.control(channel, data1, data2); break;
      default: break;
    }
  }

  express(e) {
    for (const v of this.voices) {
      if (!v.is(e.noteId, e.channel, e.key)) continue;
      if (e.expression === 'tuning') v.tuning = e.value;
      else if (e.expression === 'brightness') v.brightness = e.value;
      else if (e.expression === 'volume') v.volume = e.value;
    }
  }

  control(channel, number, value) {
    if (number === 74) this.timbre[channel] = value / 127;
    else if (number === 64) {
      this.sustain = value >= 64;
      if (!this.sustain) for (const v of this.voices) if (v.held) this.release(v);
    } else if (number === 123) {
      for (const v of this.voices) if (v.active && !v.releasing) this.release(v);
    } else if (number === 120) {
      for (const v of this.voices) v.active = false;
    }
  }

  noteOn(channel, note, velocity, noteId) {
    let voice = this.voices.find((v) => !v.active);
    if (!voice) {
      // Steal the oldest releasing voice, else the oldest.
      const byAge = (a, b) => (a.started <= b.started ? a : b);
      const releasing = this.voices.filter((v) => v.releasing);
      voice = (releasing.length ? releasing : this.voices).reduce(byAge);
      this.events.endVoice(this.frame, voice.channel, voice.note, voice.noteId);
    }
    voice.active = true;
    voice.releasing = false;
    voice.held = false;
    voice.note = note;
    voice.channel = channel;
    voice.noteId = noteId;
    voice.level = velocity / 127;
    voice.env = 0;
    voice.stage = 0;
    voice.phase = 0;
    voice.started = this.notes++;
    voice.tuning = 0;
    voice.brightness = 0;
    voice.volume = 1;
    voice.pressure = 0;
    // A new note on a member channel starts from that channel's neutral state.
    if (channel !== 0) {
      this.bend[channel] = 0;
      this.pressure[channel] = 0;
    }
  }

  noteOff(channel, note, noteId) {
    for (const v of this.voices) {
      const same = noteId >= 0 && v.noteId >= 0 ? v.noteId === noteId : v.note === note && v.channel === channel;
      if (v.active && !v.releasing && same) {
        if (this.sustain) v.held = true;
        else this.release(v);
      }
    }
  }

  release(v) {
    v.held = false;
    v.releasing = true;
    v.stage = 2;
    v.step = v.env / Math.max(1, this.releaseTime);
  }

  render(out, from, to) {
    if (to <= from) return;
    const left = out[0];
    for (let i = from; i < to; i++) left[i] = 0;
    const gain = this.gain;
    const voices = this.voices;
    for (let k = 0, count = voices.length; k < count; k++) {
      const v = voices[k];
      if (!v.active) continue;
      const c = v.channel;
      const semitones = v.note - 69 + v.tuning + this.bend[0] * MASTER_BEND_RANGE
        + (c !== 0 ? this.bend[c] * MEMBER_BEND_RANGE : 0);
      const increment = 2 * Math.PI * 440 * Math.pow(2, semitones / 12) / sampleRate;
      const loudness = gain * v.level * v.volume * (1 + 0.5 * Math.min(1, this.pressure[c] + v.pressure));
      const timbre = Math.min(1, this.timbre[c] + v.brightness);
      const h2 = 0.5 * timbre;
      const h3 = 0.25 * timbre;
      for (let i = from; i < to; i++) {
        if (v.stage === 0) {
          v.env += this.attackStep;
          if (v.env >= 1) { v.env = 1; v.stage = 1; }
        } else if (v.stage === 1) {
          if (v.env > this.sustainLevel) v.env = Math.max(this.sustainLevel, v.env - this.decayStep);
        } else {
          v.env -= v.step;
          if (v.env <= 0) {
            v.env = 0;
            v.active = false;
            this.events.endVoice(i, v.channel, v.note, v.noteId);
            break;
          }
        }
        v.phase += increment;
        if (v.phase > 2 * Math.PI) v.phase -= 2 * Math.PI;
        const p = v.phase;
        left[i] += loudness * v.env * (Math.sin(p) + h2 * Math.sin(2 * p) + h3 * Math.sin(3 * p));
      }
    }
  }
}

registerProcessor('synth', SynthProcessor);
