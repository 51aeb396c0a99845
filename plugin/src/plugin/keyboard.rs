//! Notes from the editor's on-screen keyboard to the audio thread: the GUI
//! thread sends them into a wait-free ring, and the plugin's `process` takes
//! them at the start of its next block, ahead of the host's events of that
//! block, so they reach the processor as if the host had sent them. A full ring
//! drops the note and counts it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Notes the ring holds between two host blocks.
pub const KEYBOARD_CAPACITY: usize = 256;

/// The sending end, kept in the plugin's [`Status`](super::status::Status) for
/// the editor (GUI thread; the lock is only ever taken there).
#[derive(Default)]
pub struct KeyboardSender {
    producer: Mutex<Option<rtrb::Producer<[u8; 3]>>>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for KeyboardSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyboardSender").field("dropped", &self.dropped()).finish_non_exhaustive()
    }
}

impl KeyboardSender {
    /// Sends a MIDI channel message (GUI thread). Returns false, and counts it,
    /// when no plugin takes notes or the ring is full.
    pub fn send(&self, bytes: [u8; 3]) -> bool {
        let mut producer = self.producer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let sent = producer.as_mut().is_some_and(|p| p.push(bytes).is_ok());
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Notes that could not be sent.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Makes a new ring and returns its receiving end (the plugin keeps it for
    /// its audio thread); a ring made before is let go.
    pub(crate) fn connect(&self) -> rtrb::Consumer<[u8; 3]> {
        let (producer, consumer) = rtrb::RingBuffer::new(KEYBOARD_CAPACITY);
        *self.producer.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(producer);
        consumer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_cross_in_order_and_a_full_ring_drops_and_counts() {
        let sender = KeyboardSender::default();
        assert!(!sender.send([0x90, 60, 100]), "nothing connected");
        assert_eq!(sender.dropped(), 1);
        let mut receiver = sender.connect();
        assert!(sender.send([0x90, 60, 100]));
        assert!(sender.send([0x80, 60, 0]));
        assert_eq!(receiver.pop(), Ok([0x90, 60, 100]));
        assert_eq!(receiver.pop(), Ok([0x80, 60, 0]));
        assert!(receiver.pop().is_err());
        for _ in 0..KEYBOARD_CAPACITY {
            assert!(sender.send([0x90, 1, 1]));
        }
        assert!(!sender.send([0x90, 2, 1]));
        assert_eq!(sender.dropped(), 2);
    }
}
