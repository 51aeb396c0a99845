//! The memory one generation's two sides share: its control words and its
//! rings (audio in and out per channel, parameter events, MIDI and the
//! transport in, MIDI out). Laid out once on the
//! control thread, on the heap for a render thread in this process or in a mapped
//! region for an engine process; each side then takes its own ends.
//!
//! Line 0 holds the words the host side writes (stop, the wake counter, waiting
//! for output), line 1 the words the render side writes (sleeping, the rendered
//! counter), so the two never share a line; the rings follow, each starting on
//! a line of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::Duration;

use super::event_ring::RING_CAPACITY;
use super::params::ParamEvent;
use crate::sys::ring::{self, Consumer, Producer};
use crate::sys::shared_memory::{LINE, Region};
use crate::sys::wait_word;

/// The shape of a generation's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Layout {
    pub(crate) input_channels: usize,
    pub(crate) output_channels: usize,
    /// Frames each audio ring holds.
    pub(crate) ring_frames: usize,
    /// Events the parameter ring holds.
    pub(crate) event_capacity: usize,
}

const STOP: usize = 0;
const WAKE: usize = 4;
const HOST_WAITING: usize = 8;
const WAIT_TARGET: usize = 12;
const SLEEPING: usize = LINE;
const RENDERED: usize = LINE + 4;
const RINGS: usize = 2 * LINE;

impl Layout {
    fn audio_bytes(&self) -> usize {
        ring::bytes::<f32>(self.ring_frames)
    }

    fn input(&self, channel: usize) -> usize {
        RINGS + channel * self.audio_bytes()
    }

    fn output(&self, channel: usize) -> usize {
        self.input(self.input_channels) + channel * self.audio_bytes()
    }

    fn events(&self) -> usize {
        self.output(self.output_channels)
    }

    fn midi(&self) -> usize {
        self.events() + ring::bytes::<[u64; 2]>(self.event_capacity)
    }

    fn midi_back(&self) -> usize {
        self.midi() + ring::bytes::<[u64; 2]>(RING_CAPACITY)
    }

    /// Bytes the whole layout takes.
    pub(crate) fn bytes(&self) -> usize {
        self.midi_back() + ring::bytes::<[u64; 2]>(RING_CAPACITY)
    }
}

/// A generation's shared memory.
#[derive(Clone)]
pub(crate) struct GenerationMemory {
    region: Arc<Region>,
    layout: Layout,
}

/// The host's ends: it writes input and events and reads output.
pub(crate) struct HostEnds {
    pub(crate) input: Vec<Producer<f32>>,
    pub(crate) output: Vec<Consumer<f32>>,
    pub(crate) events: Producer<[u64; 2]>,
    /// MIDI and the transport towards the render side.
    pub(crate) midi: Producer<[u64; 2]>,
    /// MIDI the processor sent.
    pub(crate) midi_back: Consumer<[u64; 2]>,
}

/// The render side's ends.
pub(crate) struct RenderEnds {
    pub(crate) input: Vec<Consumer<f32>>,
    pub(crate) output: Vec<Producer<f32>>,
    pub(crate) events: Consumer<[u64; 2]>,
    pub(crate) midi: Consumer<[u64; 2]>,
    pub(crate) midi_back: Producer<[u64; 2]>,
}

impl GenerationMemory {
    /// Memory on the heap, for a render thread of this process.
    pub(crate) fn heap(layout: Layout) -> Self {
        Self { region: Arc::new(Region::heap(layout.bytes())), layout }
    }

    /// Memory in a file of its own, for an engine process to map with
    /// [`GenerationMemory::open`]; returns it and the file's path.
    pub(crate) fn create(layout: Layout) -> std::io::Result<(Self, std::path::PathBuf)> {
        let (region, path) = Region::create(layout.bytes())?;
        Ok((Self { region: Arc::new(region), layout }, path))
    }

    /// Maps the memory a plugin created for this engine process (and removes its file).
    pub(crate) fn open(path: &std::path::Path, layout: Layout) -> std::io::Result<Self> {
        Ok(Self { region: Arc::new(Region::open(path, layout.bytes())?), layout })
    }

    /// The host side's ends (take them once).
    pub(crate) fn host_ends(&self) -> HostEnds {
        let l = &self.layout;
        HostEnds {
            input: (0..l.input_channels).map(|c| ring::producer(&self.region, l.input(c), l.ring_frames)).collect(),
            output: (0..l.output_channels).map(|c| ring::consumer(&self.region, l.output(c), l.ring_frames)).collect(),
            events: ring::producer(&self.region, l.events(), l.event_capacity),
            midi: ring::producer(&self.region, l.midi(), RING_CAPACITY),
            midi_back: ring::consumer(&self.region, l.midi_back(), RING_CAPACITY),
        }
    }

    /// The render side's ends (take them once).
    pub(crate) fn render_ends(&self) -> RenderEnds {
        let l = &self.layout;
        RenderEnds {
            input: (0..l.input_channels).map(|c| ring::consumer(&self.region, l.input(c), l.ring_frames)).collect(),
            output: (0..l.output_channels).map(|c| ring::producer(&self.region, l.output(c), l.ring_frames)).collect(),
            events: ring::consumer(&self.region, l.events(), l.event_capacity),
            midi: ring::consumer(&self.region, l.midi(), RING_CAPACITY),
            midi_back: ring::producer(&self.region, l.midi_back(), RING_CAPACITY),
        }
    }

    /// The control words.
    pub(crate) fn control(&self) -> Control {
        Control { region: self.region.clone() }
    }
}

/// A generation's control words: stop, sleeping and the wake counter (the host
/// wakes the render side), waiting and the rendered counter (the render side
/// wakes a host that waits for output, offline only). Cheap to clone; any thread.
#[derive(Clone)]
pub(crate) struct Control {
    region: Arc<Region>,
}

impl Control {
    fn word(&self, offset: usize) -> &AtomicU32 {
        self.region.atomic_u32(offset)
    }

    /// Tells the render side to finish, and wakes it (host side).
    pub(crate) fn stop(&self) {
        self.word(STOP).store(1, Ordering::Release);
        self.wake_now();
    }

    /// Whether the render side was told to finish.
    pub(crate) fn stopped(&self) -> bool {
        self.word(STOP).load(Ordering::Acquire) != 0
    }

    /// Wakes the render side if it announced a sleep (host side, after writing
    /// its input). Pairs with [`Control::sleep`]: each side writes its own word
    /// (the ring position here, `sleeping` there), then a sequentially
    /// consistent fence, then reads the other's, so at least one of them sees the
    /// other and no wake-up is lost. The wake itself never blocks.
    pub(crate) fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.word(SLEEPING).load(Ordering::Relaxed) != 0 {
            self.wake_now();
        }
    }

    /// Wakes the render side unconditionally.
    pub(crate) fn wake_now(&self) {
        self.word(WAKE).fetch_add(1, Ordering::Release);
        wait_word::wake(self.word(WAKE));
    }

    /// Sleeps for at most `timeout` unless `ready()` says there is work (render
    /// side). Returns early when the host wakes it.
    pub(crate) fn sleep(&self, timeout: Duration, ready: impl Fn() -> bool) {
        let seen = self.word(WAKE).load(Ordering::Acquire);
        self.word(SLEEPING).store(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !ready() && !self.stopped() {
            wait_word::wait(self.word(WAKE), seen, timeout);
        }
        self.word(SLEEPING).store(0, Ordering::Relaxed);
    }

    /// Counts a quantum written to the output rings and wakes the host side if
    /// it waits for this many (render side, after the write). The mirror image of
    /// [`Control::wake`]: one atomic add, a fence and a load when nobody waits.
    pub(crate) fn rendered(&self) {
        let count = self.word(RENDERED).fetch_add(1, Ordering::Release).wrapping_add(1);
        fence(Ordering::SeqCst);
        if self.word(HOST_WAITING).load(Ordering::Acquire) != 0
            && count.wrapping_sub(self.word(WAIT_TARGET).load(Ordering::Relaxed)) as i32 >= 0
        {
            wait_word::wake(self.word(RENDERED));
        }
    }

    /// Sleeps until the render side has counted `quanta` more quanta (at least
    /// one), `done()` says enough is rendered, or `timeout` passes (host side,
    /// offline rendering and benchmarks only: the real-time audio thread never
    /// waits). May return early; callers look again. The mirror image of
    /// [`Control::sleep`], with a target so the render side wakes the host once,
    /// not after every quantum.
    pub(crate) fn wait_rendered(&self, quanta: u32, timeout: Duration, done: impl Fn() -> bool) {
        let seen = self.word(RENDERED).load(Ordering::Acquire);
        self.word(WAIT_TARGET).store(seen.wrapping_add(quanta.max(1)), Ordering::Relaxed);
        self.word(HOST_WAITING).store(1, Ordering::Release);
        fence(Ordering::SeqCst);
        if !done() && !self.stopped() {
            // A quantum counted since `seen` makes this return at once; the
            // caller then looks again.
            wait_word::wait(self.word(RENDERED), seen, timeout);
        }
        self.word(HOST_WAITING).store(0, Ordering::Relaxed);
    }
}

impl ParamEvent {
    /// The event as two words for the ring.
    pub(crate) fn to_words(self) -> [u64; 2] {
        [self.frame, u64::from(self.slot) | u64::from(self.value.to_bits()) << 32]
    }

    /// An event read from the ring (any bits give some event; the reader checks the slot).
    pub(crate) fn from_words([frame, packed]: [u64; 2]) -> Self {
        Self { frame, slot: packed as u16, value: f32::from_bits((packed >> 32) as u32) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn layout() -> Layout {
        Layout { input_channels: 2, output_channels: 3, ring_frames: 700, event_capacity: 16 }
    }

    #[test]
    fn every_ring_has_its_own_lines_and_the_layout_fits_them_all() {
        let l = layout();
        let starts: Vec<usize> = (0..2).map(|c| l.input(c)).chain((0..3).map(|c| l.output(c))).collect();
        assert!(starts.iter().all(|s| s % LINE == 0));
        assert!(starts.windows(2).all(|w| w[1] - w[0] == ring::bytes::<f32>(700)));
        assert_eq!(l.events(), starts[4] + ring::bytes::<f32>(700));
        assert!(RINGS >= RENDERED + 4 && SLEEPING >= WAIT_TARGET + 4, "host and render words on separate lines");
        assert!(SLEEPING % LINE == 0 && RENDERED < SLEEPING + LINE, "the render side's words share one line");
        let memory = GenerationMemory::heap(l);
        let (mut host, mut render) = (memory.host_ends(), memory.render_ends());
        for (c, ring) in host.input.iter_mut().enumerate() {
            ring.push(c as f32).unwrap();
        }
        for (c, ring) in render.output.iter_mut().enumerate() {
            ring.push(10.0 + c as f32).unwrap();
        }
        host.events.push(ParamEvent { frame: 9, slot: 63, value: -0.25 }.to_words()).unwrap();
        let got: Vec<f32> = render.input.iter_mut().map(|r| r.pop().unwrap()).collect();
        assert_eq!(got, [0.0, 1.0], "each channel has its own ring");
        let got: Vec<f32> = host.output.iter_mut().map(|r| r.pop().unwrap()).collect();
        assert_eq!(got, [10.0, 11.0, 12.0]);
        let event = ParamEvent::from_words(render.events.pop().unwrap());
        assert_eq!(event, ParamEvent { frame: 9, slot: 63, value: -0.25 });
    }

    #[test]
    fn a_sleep_ends_when_the_host_wakes_or_stops_it() {
        let memory = GenerationMemory::heap(layout());
        let control = memory.control();
        let sleeper = {
            let control = control.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                control.sleep(Duration::from_secs(30), || false);
                started.elapsed()
            })
        };
        // Wake only once it announced the sleep, as the host does.
        while control.word(SLEEPING).load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        control.wake();
        assert!(sleeper.join().unwrap() < Duration::from_secs(20), "woken, not timed out");
        control.stop();
        assert!(control.stopped());
        let started = Instant::now();
        control.sleep(Duration::from_secs(30), || false);
        assert!(started.elapsed() < Duration::from_secs(20), "a stopped generation does not sleep");
    }

    #[test]
    fn a_host_waiting_for_output_wakes_when_a_quantum_is_rendered() {
        let memory = GenerationMemory::heap(layout());
        let (mut host, mut render) = (memory.host_ends(), memory.render_ends());
        let control = memory.control();
        let renderer = {
            let control = control.clone();
            std::thread::spawn(move || {
                // Render only once the host announced its wait, so the wake is what ends it.
                while control.word(HOST_WAITING).load(Ordering::Acquire) == 0 {
                    std::thread::yield_now();
                }
                render.output[0].push(1.0).unwrap();
                control.rendered();
            })
        };
        let started = Instant::now();
        while host.output[0].slots() == 0 && started.elapsed() < Duration::from_secs(20) {
            control.wait_rendered(1, Duration::from_secs(30), || host.output[0].slots() > 0);
        }
        renderer.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(20), "woken by the rendered quantum, not timed out");
        assert_eq!(host.output[0].pop(), Some(1.0));
        assert_eq!(control.word(HOST_WAITING).load(Ordering::Relaxed), 0, "the wait is withdrawn");

        // Enough already rendered: no sleep at all.
        let started = Instant::now();
        control.wait_rendered(1, Duration::from_secs(30), || true);
        assert!(started.elapsed() < Duration::from_secs(20));
        // A stopped generation renders nothing more: no sleep either.
        control.stop();
        let started = Instant::now();
        control.wait_rendered(1, Duration::from_secs(30), || false);
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
