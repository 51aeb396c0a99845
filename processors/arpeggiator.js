// Arpeggiator: plays the held notes one after another as MIDI out, on the host's
// beat grid. `division` is steps per quarter note (4: sixteenths), `gate` the part
// of a step a note sounds, `mode` 0 up, 1 down, 2 up and down, `octaves` how many
// octaves the pattern spans. With the host's transport playing, steps fall on its
// grid (a step at every multiple of 1/division beats of the song position); with
// no transport, or stopped, the arpeggio runs from the first held note at `tempo`.
// Audio passes through unchanged, so it can sit in an effect slot.
import { HostEvents } from './lib/host-events.js';

class ArpeggiatorProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [
      { name: 'division', defaultValue: 4, minValue: 1, maxValue: 8, automationRate: 'k-rate' },
      { name: 'gate', defaultValue: 0.5, minValue: 0.05, maxValue: 1, automationRate: 'k-rate' },
      { name: 'mode', defaultValue: 0, minValue: 0, maxValue: 2, automationRate: 'k-rate' },
      { name: 'octaves', defaultValue: 1, minValue: 1, maxValue: 4, automationRate: 'k-rate' },
      { name: 'tempo', defaultValue: 120, minValue: 20, maxValue: 300, automationRate: 'k-rate' },
    ];
  }

  constructor() {
    super();
    this.events = new HostEvents(this.port);
    this.held = [];          // held notes, sorted: [note, velocity] pairs flattened
    this.step = 0;           // steps played since the pattern (re)started
    this.sounding = -1;      // the note out now, or -1
    this.offAt = Infinity;   // its note-off, in frames of this quantum's timeline
    this.freeBeat = 0;       // the beat of the free-running clock
    this.wasPlaying = false;
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    for (let c = 0, channels = output.length; c < channels; c++) {
      if (input && input[c]) output[c].set(input[c]);
    }
    const events = this.events;
    events.begin();
    const transport = events.transport;
    const synced = transport.known && transport.playing;
    const division = Math.round(parameters.division[0]);
    this.gate = parameters.gate[0];
    this.mode = Math.round(parameters.mode[0]);
    this.octaves = Math.round(parameters.octaves[0]);
    const tempo = synced ? transport.tempo : parameters.tempo[0];
    const beatsPerFrame = tempo / 60 / sampleRate;
    if (this.wasPlaying && !synced) this.stopNote(0);
    this.wasPlaying = synced;
    // Beat at frame 0 of this quantum, on the host's grid or the free clock.
    this.synced = synced;
    this.beat0 = synced ? transport.beat : this.freeBeat;
    this.beatsPerFrame = beatsPerFrame;
    this.division = division;
    this.offAt -= 128;
    let from = 0;
    while (from < 128) {
      const eventFrame = events.next() ? events.frame : 128;
      this.steps(from, eventFrame);
      if (eventFrame >= 128) break;
      this.midi(events.status, events.data1, events.data2, eventFrame);
      from = eventFrame;
    }
    this.freeBeat = this.beat0 + 128 * beatsPerFrame;
    return true;
  }

  // Plays the note-offs and steps that fall in frames [from, to), in order.
  steps(from, to) {
    const { beat0, beatsPerFrame, division } = this;
    const stepFrames = 1 / (beatsPerFrame * division);
    for (;;) {
      let stepFrame = Infinity;
      if (this.held.length > 0) {
        const index = Math.ceil((beat0 + from * beatsPerFrame) * division - 1e-9);
        stepFrame = Math.max(from, Math.ceil((index / division - beat0) / beatsPerFrame - 1e-9));
      }
      const offFrame = this.sounding >= 0 ? Math.max(from, this.offAt) : Infinity;
      if (Math.min(stepFrame, offFrame) >= to) return;
      if (offFrame <= stepFrame) this.stopNote(offFrame);
      if (stepFrame < to && stepFrame <= offFrame) {
        this.playStep(stepFrame, stepFrames);
        from = stepFrame + 1;
      } else {
        from = offFrame;
      }
    }
  }

  playStep(frame, stepFrames) {
    this.stopNote(frame);
    const pattern = this.pattern();
    const note = pattern[this.step % pattern.length];
    this.step++;
    this.events.send(frame, 0x90, note.note, note.velocity);
    this.sounding = note.note;
    this.offAt = frame + Math.max(1, Math.round(this.gate * stepFrames));
  }

  stopNote(frame) {
    if (this.sounding >= 0) this.events.send(Math.min(frame, 127), 0x80, this.sounding, 0);
    this.sounding = -1;
    this.offAt = Infinity;
  }

  pattern() {
    const up = [];
    for (let octave = 0; octave < this.octaves; octave++) {
      for (const held of this.held) {
        if (held.note + 12 * octave <= 127) up.push({ note: held.note + 12 * octave, velocity: held.velocity });
      }
    }
    if (this.mode === 1) return up.reverse();
    if (this.mode === 2 && up.length > 2) return up.concat(up.slice(1, -1).reverse());
    return up;
  }

  midi(status, note, velocity, frame) {
    const command = status & 0xf0;
    if (command === 0x90 && velocity > 0) {
      if (this.held.length === 0) {
        this.step = 0;
        // Free-running, the clock starts with the first held note.
        if (!this.synced) this.beat0 = -frame * this.beatsPerFrame;
      }
      this.held = this.held.filter((h) => h.note !== note);
      this.held.push({ note, velocity });
      this.held.sort((a, b) => a.note - b.note);
    } else if (command === 0x80 || command === 0x90) {
      this.held = this.held.filter((h) => h.note !== note);
      if (this.held.length === 0) this.stopNote(frame);
    } else if (command === 0xb0 && (note === 123 || note === 120)) {
      this.held = [];
      this.stopNote(frame);
    } else {
      // Everything else passes through.
      this.events.send(frame, status, note, velocity);
    }
  }
}

registerProcessor('arpeggiator', ArpeggiatorProcessor);
