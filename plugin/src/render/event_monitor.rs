//! A lossy, wait-free window onto the events the host side passes each way, for
//! the editor's console: the host's audio thread records (only while the editor
//! asks for it), the GUI thread reads. A reader that falls more than
//! [`MONITOR_SLOTS`] events behind misses the oldest and is told how many.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

use super::block_event::BlockEvent;

/// Events the window holds.
pub const MONITOR_SLOTS: usize = 256;

/// One recorded event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// Sent by the processor (out to the host) rather than to it.
    pub out: bool,
    /// The event (its offset is not kept).
    pub event: BlockEvent,
}

/// The window (see the module docs).
#[derive(Debug)]
pub struct EventMonitor {
    enabled: AtomicBool,
    /// Events recorded so far; slot `n % MONITOR_SLOTS` holds event `n`.
    written: AtomicU64,
    slots: [[AtomicU64; 2]; MONITOR_SLOTS],
}

impl Default for EventMonitor {
    fn default() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            written: AtomicU64::new(0),
            slots: std::array::from_fn(|_| [AtomicU64::new(0), AtomicU64::new(0)]),
        }
    }
}

impl EventMonitor {
    /// Starts or stops recording (GUI thread).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Whether events are being recorded.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Records `events` (audio thread: atomics only, and nothing when disabled).
    pub(crate) fn record(&self, out: bool, events: &[BlockEvent]) {
        if events.is_empty() || !self.enabled() {
            return;
        }
        let mut written = self.written.load(Ordering::Relaxed);
        for event in events {
            let [status, data1, data2] = event.bytes;
            let first = u64::from(status)
                | u64::from(data1) << 8
                | u64::from(data2) << 16
                | u64::from(out) << 24
                | u64::from(event.value.to_bits()) << 32;
            let slot = &self.slots[written as usize % MONITOR_SLOTS];
            slot[0].store(first, Ordering::Relaxed);
            slot[1].store(u64::from(event.note_id as u32), Ordering::Relaxed);
            written += 1;
            self.written.store(written, Ordering::Release);
        }
    }

    /// Appends the events recorded since `*seen` to `into` and moves `*seen` on;
    /// returns how many were missed (overwritten before they were read).
    pub fn read_since(&self, seen: &mut u64, into: &mut Vec<Seen>) -> u64 {
        let end = self.written.load(Ordering::Acquire);
        let start = (*seen).max(end.saturating_sub(MONITOR_SLOTS as u64)).min(end);
        let mut read = Vec::with_capacity((end - start) as usize);
        for index in start..end {
            let slot = &self.slots[index as usize % MONITOR_SLOTS];
            read.push((index, slot[0].load(Ordering::Relaxed), slot[1].load(Ordering::Relaxed)));
        }
        // Whatever the writer overwrote while this read is lost: it is counted.
        fence(Ordering::Acquire);
        let now = self.written.load(Ordering::Relaxed);
        let valid_from = now.saturating_sub(MONITOR_SLOTS as u64);
        let mut missed = start - (*seen).min(start);
        for (index, first, second) in read {
            if index < valid_from {
                missed += 1;
                continue;
            }
            let bytes = [first as u8, (first >> 8) as u8, (first >> 16) as u8];
            let event = BlockEvent {
                offset: 0,
                bytes,
                note_id: second as u32 as i32,
                value: f32::from_bits((first >> 32) as u32),
            };
            into.push(Seen { out: first >> 24 & 1 == 1, event });
        }
        *seen = end;
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::host_events::NoteExpression;

    #[test]
    fn events_are_recorded_only_when_enabled_and_read_once() {
        let monitor = EventMonitor::default();
        let note = BlockEvent::midi(5, [0x90, 60, 100], 7);
        monitor.record(false, &[note]);
        let (mut seen, mut into) = (0, Vec::new());
        assert_eq!(monitor.read_since(&mut seen, &mut into), 0);
        assert!(into.is_empty(), "disabled: nothing recorded");
        monitor.set_enabled(true);
        let tuning = BlockEvent::expression(0, 0, 60, 7, NoteExpression::Tuning, -1.5);
        monitor.record(false, &[note, tuning]);
        monitor.record(true, &[BlockEvent::voice_end(3, 0, 60, 7)]);
        assert_eq!(monitor.read_since(&mut seen, &mut into), 0);
        assert_eq!(into.len(), 3);
        assert_eq!(into[0], Seen { out: false, event: BlockEvent { offset: 0, ..note } });
        assert_eq!(into[1].event.value, -1.5);
        assert_eq!(into[1].event.data(), tuning.data());
        assert!(into[2].out);
        assert_eq!(into[2].event.data(), BlockEvent::voice_end(0, 0, 60, 7).data());
        into.clear();
        assert_eq!(monitor.read_since(&mut seen, &mut into), 0);
        assert!(into.is_empty(), "each event is read once");
    }

    #[test]
    fn a_reader_that_falls_behind_is_told_what_it_missed() {
        let monitor = EventMonitor::default();
        monitor.set_enabled(true);
        let events: Vec<BlockEvent> = (0..300).map(|i| BlockEvent::midi(0, [0xb0, 1, (i % 128) as u8], -1)).collect();
        monitor.record(false, &events);
        let (mut seen, mut into) = (0, Vec::new());
        assert_eq!(monitor.read_since(&mut seen, &mut into), 300 - MONITOR_SLOTS as u64);
        assert_eq!(into.len(), MONITOR_SLOTS);
        assert_eq!(into[0].event.bytes[2], (300 - MONITOR_SLOTS) as u8 % 128);
        assert_eq!(seen, 300);
    }
}
