// A MIDI effect for the host-event tests (loaded from memory, where
// `./lib/host-events.js` is the factory's): every note comes back out an octave
// up at its own frame, SysEx comes back as it came, and on request
// (port.postMessage('transport')) the transport of each quantum is posted.
import { HostEvents } from './lib/host-events.js';

class Echo extends AudioWorkletProcessor {
  constructor() {
    super();
    this.events = new HostEvents(this.port);
    this.report = false;
    this.port.onmessage = (event) => { if (event.data === 'transport') this.report = true; };
  }

  process() {
    const events = this.events;
    const count = events.begin();
    while (events.next()) {
      if (events.type === 'wam-sysex') {
        events.sendSysex(events.frame, events.sysex);
      } else if ((events.status & 0xe0) === 0x80) {
        events.send(events.frame, events.status, Math.min(127, events.data1 + 12), events.data2, events.noteId);
      }
    }
    if (this.report) {
      const t = events.transport;
      this.port.postMessage({
        frame: currentFrame, count, known: t.known, playing: t.playing, tempo: t.tempo,
        beat: t.beat, bar: t.currentBar, barStartBeat: t.barStartBeat, barStarted: t.currentBarStarted,
        numerator: t.timeSigNumerator, denominator: t.timeSigDenominator,
      });
    }
    return true;
  }
}

registerProcessor('echo', Echo);
