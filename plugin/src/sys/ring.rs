//! A wait-free single-producer, single-consumer ring of plain values inside a
//! [`Region`], so its two ends can live in two threads or two processes. The
//! producer runs on one thread (the host's audio thread, or the render thread for
//! output), the consumer on one other; neither ever allocates, locks or waits.
//!
//! Layout at the ring's offset: the write position (a `u64`, written only by the
//! producer) on a line of its own, the read position (written only by the
//! consumer) on the next, then the slots. Positions count values since the start
//! and never wrap in practice (2^64 samples is millions of years of audio).
//!
//! Each end keeps its own position locally and only publishes it; the peer's
//! position is read with `Acquire` and clamped to the capacity, so a peer that
//! writes nonsense (a crashed or hostile engine process) can make the values
//! wrong but can never make this side read or write outside the ring.

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::shared_memory::{LINE, Region};

/// Values that may cross a ring.
///
/// # Safety
/// Every bit pattern (all zeros included) must be a valid value of the type,
/// and it must hold no pointers: its bytes are shared with another process,
/// which may write anything.
pub unsafe trait Plain: Copy + Send + 'static {}

// SAFETY: any 32 bits are an `f32` (NaN payloads included); no pointers.
unsafe impl Plain for f32 {}
// SAFETY: any 64 bits are a `u64`; no pointers.
unsafe impl Plain for u64 {}
// SAFETY: any 128 bits are two `u64`s; no pointers.
unsafe impl Plain for [u64; 2] {}

/// Bytes a ring of `capacity` values of `T` takes in a region (a whole number of lines).
pub const fn bytes<T: Plain>(capacity: usize) -> usize {
    2 * LINE + (capacity * size_of::<T>()).next_multiple_of(LINE)
}

/// The part both ends share.
struct Ends<T: Plain> {
    region: Arc<Region>,
    write: usize,
    read: usize,
    slots: NonNull<T>,
    capacity: usize,
    _values: PhantomData<T>,
}

// SAFETY: an end is owned by one thread at a time (`&mut self` for every
// operation that touches the slots); the slot pointer stays valid because the
// end holds the region, and moving the end to another thread moves ownership of
// its half of the protocol with it.
unsafe impl<T: Plain> Send for Ends<T> {}

impl<T: Plain> Ends<T> {
    fn new(region: Arc<Region>, offset: usize, capacity: usize) -> Self {
        assert!(capacity > 0, "a ring holds at least one value");
        assert!(offset.is_multiple_of(LINE), "a ring starts on a line");
        let data = offset + 2 * LINE;
        let slots = region.at(data, capacity * size_of::<T>(), align_of::<T>()).cast::<T>();
        // `at` checked the whole ring lies inside the region.
        region.at(offset, bytes::<T>(capacity), LINE);
        let slots = NonNull::new(slots).expect("a region's memory is never null");
        Self { region, write: offset, read: offset + LINE, slots, capacity, _values: PhantomData }
    }

    fn write_position(&self) -> &AtomicU64 {
        self.region.atomic_u64(self.write)
    }

    fn read_position(&self) -> &AtomicU64 {
        self.region.atomic_u64(self.read)
    }

    /// The two runs of slots `start..start + len` (modulo the capacity) cover.
    fn runs(&self, start: u64, len: usize) -> (usize, usize, usize) {
        let at = (start % self.capacity as u64) as usize;
        let first = len.min(self.capacity - at);
        (at, first, len - first)
    }
}

/// The writing end.
pub struct Producer<T: Plain> {
    ends: Ends<T>,
    /// Values written so far (this side's own count, never read back from memory).
    position: u64,
}

/// The reading end.
pub struct Consumer<T: Plain> {
    ends: Ends<T>,
    position: u64,
}

/// Both ends of the ring at `offset` in `region` (for two threads of one process).
pub fn pair<T: Plain>(region: &Arc<Region>, offset: usize, capacity: usize) -> (Producer<T>, Consumer<T>) {
    (producer(region, offset, capacity), consumer(region, offset, capacity))
}

/// The writing end of the ring at `offset`; it carries on from the position in memory.
pub fn producer<T: Plain>(region: &Arc<Region>, offset: usize, capacity: usize) -> Producer<T> {
    let ends = Ends::new(region.clone(), offset, capacity);
    let position = ends.write_position().load(Ordering::Acquire);
    Producer { ends, position }
}

/// The reading end of the ring at `offset`; it carries on from the position in memory.
pub fn consumer<T: Plain>(region: &Arc<Region>, offset: usize, capacity: usize) -> Consumer<T> {
    let ends = Ends::new(region.clone(), offset, capacity);
    let position = ends.read_position().load(Ordering::Acquire);
    Consumer { ends, position }
}

/// Slots handed out for writing; nothing is visible to the consumer until
/// [`WriteChunk::commit_all`].
pub struct WriteChunk<'a, T: Plain> {
    producer: &'a mut Producer<T>,
    first: &'a mut [T],
    second: &'a mut [T],
}

/// Values handed out for reading; their slots stay the consumer's until
/// [`ReadChunk::commit_all`].
pub struct ReadChunk<'a, T: Plain> {
    consumer: &'a mut Consumer<T>,
    first: &'a [T],
    second: &'a [T],
}

impl<T: Plain> Producer<T> {
    /// How many values the ring holds.
    pub fn capacity(&self) -> usize {
        self.ends.capacity
    }

    /// Free slots now.
    pub fn slots(&self) -> usize {
        let read = self.ends.read_position().load(Ordering::Acquire);
        let used = self.position.wrapping_sub(read).min(self.ends.capacity as u64);
        self.ends.capacity - used as usize
    }

    /// `len` zeroed slots to write, or `None` if fewer are free.
    pub fn write_chunk(&mut self, len: usize) -> Option<WriteChunk<'_, T>> {
        if len > self.slots() {
            return None;
        }
        let (at, first, second) = self.ends.runs(self.position, len);
        let base = self.ends.slots.as_ptr();
        // SAFETY: `at + first <= capacity` and `second <= at` (`runs`), so both
        // runs lie inside the ring's slots (checked in `Ends::new`) and do not
        // overlap. They are free slots: the consumer's published position is at
        // least `position + len - capacity`, and a consumer that follows the
        // protocol does not touch free slots until this chunk is committed; one
        // that does not can only change plain values (`Plain`). The slices
        // borrow `self` mutably, so no second chunk exists at the same time.
        // Zeroing is valid because all-zero bits are a valid `T` (`Plain`).
        let (first, second) = unsafe {
            let first = std::slice::from_raw_parts_mut(base.add(at), first);
            let second = std::slice::from_raw_parts_mut(base, second);
            std::ptr::write_bytes(first.as_mut_ptr(), 0, first.len());
            std::ptr::write_bytes(second.as_mut_ptr(), 0, second.len());
            (first, second)
        };
        Some(WriteChunk { producer: self, first, second })
    }

    /// Writes one value, or hands it back if the ring is full.
    pub fn push(&mut self, value: T) -> Result<(), T> {
        match self.write_chunk(1) {
            Some(mut chunk) => {
                chunk.as_mut_slices().0[0] = value;
                chunk.commit_all();
                Ok(())
            }
            None => Err(value),
        }
    }
}

impl<T: Plain> WriteChunk<'_, T> {
    /// The slots, in order: up to the ring's end, then from its start.
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        (self.first, self.second)
    }

    /// Makes every slot of the chunk visible to the consumer.
    pub fn commit_all(self) {
        let len = (self.first.len() + self.second.len()) as u64;
        self.producer.position = self.producer.position.wrapping_add(len);
        self.producer.ends.write_position().store(self.producer.position, Ordering::Release);
    }
}

impl<T: Plain> Consumer<T> {
    /// How many values the ring holds.
    pub fn capacity(&self) -> usize {
        self.ends.capacity
    }

    /// Values waiting now.
    pub fn slots(&self) -> usize {
        let write = self.ends.write_position().load(Ordering::Acquire);
        write.wrapping_sub(self.position).min(self.ends.capacity as u64) as usize
    }

    /// The next `len` values, or `None` if fewer are waiting.
    pub fn read_chunk(&mut self, len: usize) -> Option<ReadChunk<'_, T>> {
        if len > self.slots() {
            return None;
        }
        let (at, first, second) = self.ends.runs(self.position, len);
        let base = self.ends.slots.as_ptr();
        // SAFETY: both runs lie inside the ring's slots (as in `write_chunk`).
        // They hold committed values: the producer published a position at least
        // `position + len` with `Release`, read here with `Acquire`, so its
        // writes are visible, and it does not write them again until this side
        // publishes a later read position. The slices borrow `self` mutably.
        let (first, second) =
            unsafe { (std::slice::from_raw_parts(base.add(at), first), std::slice::from_raw_parts(base, second)) };
        Some(ReadChunk { consumer: self, first, second })
    }

    /// Takes one value, if one is waiting.
    pub fn pop(&mut self) -> Option<T> {
        let chunk = self.read_chunk(1)?;
        let value = chunk.as_slices().0[0];
        chunk.commit_all();
        Some(value)
    }
}

impl<T: Plain> ReadChunk<'_, T> {
    /// The values, in order: up to the ring's end, then from its start.
    pub fn as_slices(&self) -> (&[T], &[T]) {
        (self.first, self.second)
    }

    /// Frees the chunk's slots for the producer.
    pub fn commit_all(self) {
        let len = (self.first.len() + self.second.len()) as u64;
        self.consumer.position = self.consumer.position.wrapping_add(len);
        self.consumer.ends.read_position().store(self.consumer.position, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(capacity: usize) -> (Arc<Region>, Producer<f32>, Consumer<f32>) {
        let region = Arc::new(Region::heap(LINE + bytes::<f32>(capacity)));
        let (producer, consumer) = pair(&region, LINE, capacity);
        (region, producer, consumer)
    }

    fn read(consumer: &mut Consumer<f32>, len: usize) -> Vec<f32> {
        let chunk = consumer.read_chunk(len).expect("values are waiting");
        let (first, second) = chunk.as_slices();
        let values = [first, second].concat();
        chunk.commit_all();
        values
    }

    #[test]
    fn values_come_out_in_order_across_the_wrap() {
        let (_region, mut producer, mut consumer) = ring(5);
        let mut next = 0.0;
        let mut expected = 0.0;
        for len in [3, 4, 2, 5, 1, 5] {
            let mut chunk = producer.write_chunk(len).expect("room for the chunk");
            let (first, second) = chunk.as_mut_slices();
            assert_eq!(first.len() + second.len(), len);
            for value in first.iter_mut().chain(second.iter_mut()) {
                assert_eq!(*value, 0.0, "slots are handed out zeroed");
                *value = next;
                next += 1.0;
            }
            chunk.commit_all();
            assert_eq!(consumer.slots(), len);
            for value in read(&mut consumer, len) {
                assert_eq!(value, expected);
                expected += 1.0;
            }
        }
    }

    #[test]
    fn a_full_ring_refuses_and_an_empty_one_gives_nothing() {
        let (_region, mut producer, mut consumer) = ring(4);
        assert_eq!(producer.slots(), 4);
        assert!(consumer.read_chunk(1).is_none() && consumer.pop().is_none());
        for i in 0..4 {
            producer.push(i as f32).unwrap();
        }
        assert_eq!(producer.push(9.0), Err(9.0), "a full ring hands the value back");
        assert!(producer.write_chunk(1).is_none());
        assert_eq!(consumer.pop(), Some(0.0));
        assert_eq!(producer.slots(), 1);
        assert!(consumer.read_chunk(4).is_none(), "three are waiting, not four");
        assert_eq!(read(&mut consumer, 3), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn nothing_is_visible_before_the_commit() {
        let (_region, mut producer, consumer) = ring(8);
        let mut chunk = producer.write_chunk(3).unwrap();
        chunk.as_mut_slices().0.fill(1.0);
        assert_eq!(consumer.slots(), 0);
        chunk.commit_all();
        assert_eq!(consumer.slots(), 3);
    }

    /// A peer that writes garbage positions cannot push either end outside the ring.
    #[test]
    fn corrupt_positions_from_the_peer_stay_inside_the_ring() {
        let (region, mut producer, mut consumer) = ring(6);
        producer.push(1.0).unwrap();
        // The "consumer" claims to be far ahead of the producer, the "producer" far behind.
        region.atomic_u64(LINE + LINE).store(1000, Ordering::Release);
        assert_eq!(producer.slots(), 0, "a read position ahead of the writes counts as full");
        assert!(producer.write_chunk(1).is_none());
        region.atomic_u64(LINE).store(u64::MAX / 3, Ordering::Release);
        assert_eq!(consumer.slots(), 6, "at most a ring's worth is ever waiting");
        assert_eq!(read(&mut consumer, 6).len(), 6);
    }

    #[test]
    fn ends_carry_on_from_the_positions_in_memory() {
        let (region, mut producer, mut consumer) = ring(4);
        for i in 0..3 {
            producer.push(i as f32).unwrap();
        }
        assert_eq!(consumer.pop(), Some(0.0));
        drop((producer, consumer));
        let (mut producer, mut consumer) = pair::<f32>(&region, LINE, 4);
        producer.push(3.0).unwrap();
        assert_eq!(read(&mut consumer, 3), [1.0, 2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "outside a region")]
    fn a_ring_that_does_not_fit_its_region_is_refused() {
        let region = Arc::new(Region::heap(bytes::<f32>(64)));
        let _ = producer::<f32>(&region, 0, 65);
    }

    #[test]
    fn two_threads_pass_a_million_values_in_order() {
        let (_region, mut producer, mut consumer) = ring(1000);
        const TOTAL: u64 = 1_000_000;
        let writer = std::thread::spawn(move || {
            let mut next = 0u64;
            while next < TOTAL {
                let len = producer.slots().min(37).min((TOTAL - next) as usize);
                let Some(mut chunk) = producer.write_chunk(len) else { continue };
                let (first, second) = chunk.as_mut_slices();
                for value in first.iter_mut().chain(second.iter_mut()) {
                    *value = (next % 16_777_216) as f32;
                    next += 1;
                }
                chunk.commit_all();
            }
        });
        let mut expected = 0u64;
        while expected < TOTAL {
            let len = consumer.slots().min(53);
            for value in read(&mut consumer, len) {
                assert_eq!(value, (expected % 16_777_216) as f32, "value {expected}");
                expected += 1;
            }
        }
        writer.join().unwrap();
    }

    const CHILD: &str = "WORKLET_RING_CHILD";
    const ECHOED: u64 = 2_000_000;

    /// Two rings in one mapped region: values out to the child, echoed back.
    fn echo_region_len() -> usize {
        2 * bytes::<u64>(512)
    }

    /// The parent writes a counting sequence into one ring of a mapped region;
    /// another process reads it, checks it and echoes it back through a second
    /// ring; the parent checks the echo. Both ends of both rings run flat out, in
    /// chunks of changing size, so every wrap and every race is crossed many times.
    #[test]
    fn two_processes_echo_two_million_values_through_a_mapped_region() {
        let (region, path) = Region::create(echo_region_len()).unwrap();
        let region = Arc::new(region);
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "sys::ring::tests::echo_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut out = producer::<u64>(&region, 0, 512);
        let mut back = consumer::<u64>(&region, bytes::<u64>(512), 512);
        let (mut sent, mut received) = (0u64, 0u64);
        let started = std::time::Instant::now();
        while received < ECHOED {
            let len = out.slots().min(1 + (sent % 97) as usize).min((ECHOED - sent) as usize);
            if let Some(mut chunk) = out.write_chunk(len) {
                let (first, second) = chunk.as_mut_slices();
                for value in first.iter_mut().chain(second.iter_mut()) {
                    *value = sent.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    sent += 1;
                }
                chunk.commit_all();
            }
            let len = back.slots();
            if let Some(chunk) = back.read_chunk(len) {
                let (first, second) = chunk.as_slices();
                for &value in first.iter().chain(second) {
                    assert_eq!(value, received.wrapping_mul(0x9e37_79b9_7f4a_7c15), "echo {received}");
                    received += 1;
                }
                chunk.commit_all();
            }
            if let Some(status) = child.try_wait().unwrap() {
                assert!(received == ECHOED || status.success(), "the child failed: {status}");
            }
            assert!(started.elapsed().as_secs() < 120, "the echo stalled at {received}");
        }
        assert!(child.wait().unwrap().success(), "the child checked every value");
        assert!(!path.exists(), "the child removed the region's file");
    }

    /// The other process of the echo test (run by it, not on its own).
    #[test]
    #[ignore = "run by two_processes_echo_two_million_values_through_a_mapped_region"]
    fn echo_child() {
        let Some(path) = std::env::var_os(CHILD) else { return };
        let region = Arc::new(Region::open(std::path::Path::new(&path), echo_region_len()).unwrap());
        let mut input = consumer::<u64>(&region, 0, 512);
        let mut output = producer::<u64>(&region, bytes::<u64>(512), 512);
        let mut echoed = 0u64;
        let started = std::time::Instant::now();
        while echoed < ECHOED {
            assert!(started.elapsed().as_secs() < 120, "the parent stopped at {echoed}");
            let len = input.slots().min(output.slots()).min(1 + (echoed % 89) as usize);
            let Some(chunk) = input.read_chunk(len) else { continue };
            let (first, second) = chunk.as_slices();
            let mut out = output.write_chunk(len).expect("room was checked");
            let (a, b) = out.as_mut_slices();
            for (target, &value) in a.iter_mut().chain(b.iter_mut()).zip(first.iter().chain(second)) {
                assert_eq!(value, echoed.wrapping_mul(0x9e37_79b9_7f4a_7c15), "value {echoed}");
                *target = value;
                echoed += 1;
            }
            out.commit_all();
            chunk.commit_all();
        }
    }
}
