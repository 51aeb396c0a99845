// Host events for AudioWorkletProcessors: MIDI in and out, and the host's
// transport, read at their exact frame inside process() without allocating per
// event. The same file runs in Worklet and in a browser.
//
//   import { HostEvents } from './lib/host-events.js';
//
//   class Synth extends AudioWorkletProcessor {
//     constructor() { super(); this.events = new HostEvents(this.port); }
//     process(inputs, outputs) {
//       const events = this.events;
//       let frame = 0;
//       events.begin();
//       while (events.next()) {
//         this.render(outputs[0], frame, events.frame);   // audio up to the event
//         frame = events.frame;
//         if ((events.status & 0xf0) === 0x90) this.noteOn(events.data1, events.data2);
//       }
//       this.render(outputs[0], frame, 128);
//       return true;
//     }
//   }
//
// In Worklet the host (a DAW's MIDI, `worklet render --midi`) fills the scope's
// `hostEvents` arrays before every process(). In a browser the events come from
// the main thread through `node.port`, in the shapes of WebAudioModules 2.0:
//   { type: 'wam-midi',      time, data: { bytes: [status, data1, data2] } }
//   { type: 'wam-sysex',     time, data: { bytes: Uint8Array | number[] } }
//   { type: 'wam-transport', time, data: { tempo, timeSigNumerator,
//       timeSigDenominator, playing, currentBar, currentBarStarted } }
// (one event, or an array of them, per message), where `time` is in the
// context's seconds: `host-events-main.js` sends them from Web MIDI or a
// sequence. Worklet accepts the same messages too.
//
// A DAW's per-note expressions (CLAP note expressions: MPE without MIDI
// channels) arrive as events of type 'note-expression', with `expression`
// ('tuning' in semitones; 'brightness', 'vibrato', 'expression' from 0 to 1;
// 'volume' as a gain; 'pan' from 0 to 1), `value`, and the note they shape:
// `noteId`, or `channel` and `key` (-1: any). Pressure comes as MIDI poly
// pressure (0xA0) with the note's id. In a browser they arrive as
//   { type: 'note-expression', time, data: { noteId, channel, key, expression, value } }
// A synth tells the host when a voice has ended (its release is over) with
// `endVoice(frame, channel, key, noteId)`; a DAW then stops modulating it.

const QUANTUM = 128;
const KIND_MIDI = 1;
const KIND_SYSEX = 2;
const KIND_EXPRESSION = 3;
const KIND_VOICE_END = 4;
const EXPRESSIONS = Object.freeze(['volume', 'pan', 'tuning', 'vibrato', 'expression', 'brightness', 'pressure']);
// Layout version 1 of Worklet's `hostEvents` (see the engine's event_mailbox.rs).
const H_COUNT = 0, H_OUT_COUNT = 4, H_OUT_SYSEX = 5, H_OUT_DROPPED = 6, H_VERSION = 7;

function channelDataBytes(status) {
  switch (status & 0xf0) {
    case 0xc0: case 0xd0: return 1;
    case 0x80: case 0x90: case 0xa0: case 0xb0: case 0xe0: return 2;
    default: return -1;
  }
}

export class HostEvents {
  // `port`: the processor's `this.port` (events from the main thread arrive there).
  constructor(port) {
    const host = globalThis.hostEvents;
    this.host = host && host.header && host.header[H_VERSION] === 1 ? host : null;
    this.port = port || null;
    // The event the cursor is on.
    this.frame = 0;
    this.type = '';
    this.status = 0;
    this.data1 = 0;
    this.data2 = 0;
    this.noteId = -1;
    this.channel = 0;
    this.key = 0;
    this.expression = '';
    this.value = 0;
    this.bytes = new Uint8Array(3);
    this.sysex = null;
    // The transport at the quantum's first frame (WebAudioModules' names, plus
    // the song position). `known` is false when the host reports none.
    this.transport = {
      known: false, playing: false, recording: false, looping: false,
      tempo: 0, timeSigNumerator: 4, timeSigDenominator: 4,
      currentBar: 0, currentBarStarted: 0, beat: 0, seconds: 0, barStartBeat: 0,
      loopStart: 0, loopEnd: 0,
    };
    this.dropped = 0;
    this._hostIndex = 0;
    this._hostCount = 0;
    this._start = 0;
    this._pending = [];   // port events not yet due, sorted by frame
    this._due = [];       // port events of this quantum
    this._dueIndex = 0;
    this._portTransport = null;
    if (this.port) {
      this.port.addEventListener('message', (event) => this._receive(event.data));
      this.port.start();
    }
  }

  // Starts a quantum: call it at the top of process(). Returns how many events
  // the quantum holds.
  begin() {
    const start = currentFrame;
    this._start = start;
    const host = this.host;
    if (host) {
      this._hostCount = host.header[H_COUNT];
    }
    this._hostIndex = 0;
    this._due.length = 0;
    this._dueIndex = 0;
    const pending = this._pending;
    let taken = 0;
    while (taken < pending.length && pending[taken].frame < start + QUANTUM) {
      const event = pending[taken++];
      if (event.type === 'wam-transport') this._portTransport = event;
      else this._due.push(event);
    }
    if (taken > 0) pending.splice(0, taken);
    this._readTransport(start);
    return this._hostCount + this._due.length;
  }

  // Moves to the quantum's next event, in frame order; false when there is none.
  next() {
    const host = this.host;
    const fromHost = this._hostIndex < this._hostCount ? host.events[this._hostIndex * 4] : QUANTUM;
    const due = this._dueIndex < this._due.length ? this._due[this._dueIndex] : null;
    const fromPort = due ? Math.max(0, due.frame - this._start) : QUANTUM;
    if (fromHost >= QUANTUM && !due) return false;
    if (fromHost <= fromPort && this._hostIndex < this._hostCount) {
      const at = this._hostIndex++ * 4;
      const words = host.events;
      this.frame = words[at];
      const kind = words[at + 1] & 0xff;
      if (kind === KIND_SYSEX) {
        this._sysex(host.sysex.subarray(words[at + 2], words[at + 2] + words[at + 3]));
      } else if (kind === KIND_EXPRESSION) {
        const w = words[at + 1];
        this._expression(EXPRESSIONS[(w >> 8) & 0xf], host.values[at + 2], ((w >> 12) & 31) - 1,
          ((w >> 17) & 255) - 1, words[at + 3]);
      } else {
        const packed = words[at + 2];
        this._midi(packed & 0xff, (packed >> 8) & 0xff, (packed >> 16) & 0xff, words[at + 3]);
      }
      return true;
    }
    this._dueIndex++;
    this.frame = Math.min(fromPort, QUANTUM - 1);
    const bytes = due.bytes;
    if (due.type === 'wam-sysex') this._sysex(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
    else if (due.type === 'note-expression') {
      const d = due.data;
      this._expression(d.expression, +d.value || 0, d.channel ?? -1, d.key ?? -1, d.noteId ?? -1);
    } else this._midi(bytes[0] | 0, bytes[1] | 0, bytes[2] | 0, -1);
    return true;
  }

  // Tells the host that the voice started for a note has ended, at `frame` of
  // this quantum (CLAP's note end; in a browser, a 'voice-end' port message).
  endVoice(frame, channel, key, noteId = -1) {
    if (frame < 0 || frame >= QUANTUM || channel < 0 || channel > 15 || key < 0 || key > 127) {
      this.dropped++;
      return false;
    }
    if (this.host) return this._out(frame, KIND_VOICE_END, channel | key << 8, noteId);
    if (!this.port) return false;
    this.port.postMessage({ type: 'voice-end', time: (this._start + frame) / sampleRate, data: { channel, key, noteId } });
    return true;
  }

  // Sends a MIDI channel message at `frame` of this quantum (to the host's MIDI
  // out in Worklet; in a browser, as a `wam-midi` message on the port).
  send(frame, status, data1 = 0, data2 = 0, noteId = -1) {
    const length = channelDataBytes(status);
    if (length < 0 || frame < 0 || frame >= QUANTUM) { this.dropped++; return false; }
    if (this.host) {
      return this._out(frame, KIND_MIDI, (status & 0xff) | (data1 & 0x7f) << 8 | (data2 & 0x7f) << 16, noteId);
    }
    if (!this.port) return false;
    const bytes = length === 1 ? [status, data1 & 0x7f] : [status, data1 & 0x7f, data2 & 0x7f];
    this.port.postMessage({ type: 'wam-midi', time: (this._start + frame) / sampleRate, data: { bytes } });
    return true;
  }

  // Sends a SysEx message (`F0 ... F7`) at `frame` of this quantum.
  sendSysex(frame, bytes) {
    const host = this.host;
    if (frame < 0 || frame >= QUANTUM || bytes.length < 2 || bytes[0] !== 0xf0) { this.dropped++; return false; }
    if (host) {
      const used = host.header[H_OUT_SYSEX];
      if (used + bytes.length > host.outSysex.length) {
        host.header[H_OUT_DROPPED]++;
        this.dropped++;
        return false;
      }
      if (!this._out(frame, KIND_SYSEX, used, bytes.length)) return false;
      host.outSysex.set(bytes, used);
      host.header[H_OUT_SYSEX] = used + bytes.length;
      return true;
    }
    if (!this.port) return false;
    this.port.postMessage({ type: 'wam-sysex', time: (this._start + frame) / sampleRate, data: { bytes: Array.from(bytes) } });
    return true;
  }

  // Appends an event to Worklet's `out` arrays (false, and counted, when full).
  _out(frame, kind, a, b) {
    const host = this.host;
    const count = host.header[H_OUT_COUNT];
    if (count * 4 >= host.out.length) { host.header[H_OUT_DROPPED]++; this.dropped++; return false; }
    const at = count * 4;
    host.out[at] = frame;
    host.out[at + 1] = kind;
    host.out[at + 2] = a;
    host.out[at + 3] = b;
    host.header[H_OUT_COUNT] = count + 1;
    return true;
  }

  _midi(status, data1, data2, noteId) {
    this.type = 'wam-midi';
    this.status = status;
    this.data1 = data1;
    this.data2 = data2;
    this.noteId = noteId;
    this.channel = status & 0x0f;
    this.key = data1;
    this.expression = '';
    this.value = 0;
    this.bytes[0] = status;
    this.bytes[1] = data1;
    this.bytes[2] = data2;
    this.sysex = null;
  }

  _expression(expression, value, channel, key, noteId) {
    this.type = 'note-expression';
    this.status = 0;
    this.data1 = 0;
    this.data2 = 0;
    this.noteId = noteId;
    this.channel = channel;
    this.key = key;
    this.expression = expression;
    this.value = value;
    this.sysex = null;
  }

  _sysex(bytes) {
    this.type = 'wam-sysex';
    this.status = 0xf0;
    this.data1 = 0;
    this.data2 = 0;
    this.noteId = -1;
    this.sysex = bytes;
  }

  _receive(message) {
    if (Array.isArray(message)) {
      for (const item of message) this._receive(item);
      return;
    }
    if (!message || typeof message.type !== 'string') return;
    const data = message.data || {};
    const time = typeof message.time === 'number' ? message.time : 0;
    const frame = Math.max(0, Math.round(time * sampleRate));
    let event;
    if (message.type === 'wam-midi' || message.type === 'wam-mpe') {
      const bytes = data.bytes;
      if (!bytes || bytes.length < 1 || channelDataBytes(bytes[0]) < 0) return;
      event = { type: 'wam-midi', frame, bytes };
    } else if (message.type === 'wam-sysex') {
      if (!data.bytes || data.bytes[0] !== 0xf0) return;
      event = { type: 'wam-sysex', frame, bytes: data.bytes };
    } else if (message.type === 'wam-transport') {
      event = { type: 'wam-transport', frame, data };
    } else if (message.type === 'note-expression') {
      if (!EXPRESSIONS.includes(data.expression)) return;
      event = { type: 'note-expression', frame, data };
    } else {
      return;
    }
    // Insert after the events of the same frame (a sequence keeps its order).
    const pending = this._pending;
    let at = pending.length;
    while (at > 0 && pending[at - 1].frame > frame) at--;
    pending.splice(at, 0, event);
  }

  _readTransport(start) {
    const t = this.transport;
    const host = this.host;
    if (host && host.transport[0] === 1) {
      const w = host.transport;
      t.known = true;
      t.playing = w[1] === 1;
      t.recording = w[2] === 1;
      t.looping = w[3] === 1;
      t.tempo = w[4];
      t.timeSigNumerator = w[5];
      t.timeSigDenominator = w[6];
      t.beat = w[7];
      t.seconds = w[8];
      t.barStartBeat = w[9];
      t.currentBar = w[10];
      t.loopStart = w[11];
      t.loopEnd = w[12];
      t.currentBarStarted = start / sampleRate - (t.beat - t.barStartBeat) * 60 / t.tempo;
      return;
    }
    const given = this._portTransport;
    if (!given) { t.known = false; return; }
    // A browser's host sends where the bar started; the position follows from it.
    const d = given.data;
    t.known = true;
    t.playing = !!d.playing;
    t.recording = false;
    t.looping = false;
    t.tempo = +d.tempo || 120;
    t.timeSigNumerator = +d.timeSigNumerator || 4;
    t.timeSigDenominator = +d.timeSigDenominator || 4;
    const perBar = t.timeSigNumerator * 4 / t.timeSigDenominator;
    const barStarted = +d.currentBarStarted || 0;
    const intoBar = t.playing ? Math.max(0, start / sampleRate - barStarted) * t.tempo / 60 : 0;
    const bars = Math.floor(intoBar / perBar + 1e-9);
    t.currentBar = (+d.currentBar || 0) + bars;
    t.barStartBeat = t.currentBar * perBar;
    t.beat = t.barStartBeat + intoBar - bars * perBar;
    t.currentBarStarted = barStarted + bars * perBar * 60 / t.tempo;
    t.seconds = t.beat * 60 / t.tempo;
  }
}
