// The main-thread half of host-events.js, for pages: sends MIDI, SysEx and the
// transport to an AudioWorkletNode through `node.port`, in the shapes of
// WebAudioModules 2.0, and hands back the MIDI the processor sends. In Worklet
// the host (the DAW, `worklet render --midi`) does this; in a browser, this file.
//
//   import { sendMidi, sendSequence, sendTransport, connectWebMidi, onMidi } from './lib/host-events-main.js';
//   const node = new AudioWorkletNode(context, 'synth', { numberOfInputs: 0, outputChannelCount: [2] });
//   sendMidi(node, [0x90, 60, 100], context.currentTime + 0.1);     // a note in 100 ms
//   sendSequence(node, [{ time: 0, bytes: [0x90, 64, 90] }, { time: 0.5, bytes: [0x80, 64, 0] }]);
//   sendTransport(node, { tempo: 120, timeSigNumerator: 4, timeSigDenominator: 4, playing: true,
//                         currentBar: 0, currentBarStarted: context.currentTime });
//   await connectWebMidi(node, context);                             // every Web MIDI input, live
//   onMidi(node, (bytes, time) => output.send(bytes));               // MIDI the processor sends
//   sendNoteExpression(node, { noteId: 7, expression: 'tuning', value: 0.5 }, t);  // one note's detune
//   onVoiceEnd(node, ({ channel, key, noteId }, time) => { ... });  // a voice's release is over
//
// `time` is in the context's seconds (`context.currentTime`); an event whose
// time has passed plays at the start of the next quantum.

// Sends one MIDI message (an array or Uint8Array of 1-3 bytes; F0 … F7 is SysEx).
export function sendMidi(node, bytes, time = 0) {
  const data = { bytes: Array.from(bytes) };
  const type = data.bytes[0] === 0xf0 ? 'wam-sysex' : 'wam-midi';
  node.port.postMessage({ type, time, data });
}

// Sends many at once, in one message: [{ time, bytes }, ...] (a sequencer's
// pattern, a MIDI file's notes). Events at the same time keep their order.
export function sendSequence(node, events) {
  node.port.postMessage(events.map(({ time, bytes }) => ({
    type: bytes[0] === 0xf0 ? 'wam-sysex' : 'wam-midi',
    time,
    data: { bytes: Array.from(bytes) },
  })));
}

// Sends the transport: WebAudioModules' WamTransportData (tempo in quarter notes
// per minute, the meter, playing, and the bar that started at currentBarStarted,
// in context seconds). The processor follows it from there until the next one.
export function sendTransport(node, transport, time = 0) {
  node.port.postMessage({ type: 'wam-transport', time, data: { ...transport } });
}

// Forwards every Web MIDI input (or the given ones) to the node, timed by the
// event's timeStamp. Returns the MIDIAccess; needs a page allowed to use MIDI.
export async function connectWebMidi(node, context, inputs = null) {
  const access = await navigator.requestMIDIAccess({ sysex: false });
  const list = inputs ?? Array.from(access.inputs.values());
  for (const input of list) {
    input.addEventListener('midimessage', (event) => {
      // The event's time on the context's clock (performance.now() milliseconds
      // to context seconds).
      const time = context.currentTime + (event.timeStamp - performance.now()) / 1000;
      sendMidi(node, event.data, Math.max(0, time));
    });
  }
  return access;
}

// Calls `listener(bytes, time)` for every MIDI message the processor sends.
export function onMidi(node, listener) {
  node.port.addEventListener('message', (event) => {
    const message = event.data;
    if (message && (message.type === 'wam-midi' || message.type === 'wam-sysex')) {
      listener(Uint8Array.from(message.data.bytes), message.time);
    }
  });
  node.port.start();
}

// Sends a per-note expression (what a DAW's CLAP note expressions carry):
// { noteId, channel, key, expression, value }, the note named by its id (or by
// channel and key, -1: any); `expression` is 'tuning' (semitones), 'brightness',
// 'vibrato', 'expression' (0–1), 'volume' (a gain) or 'pan' (0–1).
export function sendNoteExpression(node, { noteId = -1, channel = -1, key = -1, expression, value }, time = 0) {
  node.port.postMessage({ type: 'note-expression', time, data: { noteId, channel, key, expression, value } });
}

// Calls `listener({ channel, key, noteId }, time)` when the processor reports
// that a voice has ended (`endVoice`).
export function onVoiceEnd(node, listener) {
  node.port.addEventListener('message', (event) => {
    const message = event.data;
    if (message && message.type === 'voice-end') listener(message.data, message.time);
  });
  node.port.start();
}
