//! Parameter values on their way from the host and the GUI to the render thread.
//!
//! * Sample-accurate host changes travel as [`ParamEvent`]s stamped with the
//!   generation's absolute frame, on a wait-free ring (host thread → render thread).
//! * Values set outside the audio callback (GUI, tests) are written to
//!   [`SharedParams::request`] (atomics); the render thread ramps to a new request
//!   over one quantum, so a dragged slider does not zipper.
//! * The render thread publishes each slot's current value back to atomics, so a
//!   new generation starts where the old one was (values carry over).

use std::sync::atomic::Ordering;

use atomic_float::AtomicF32;

use super::config::PARAM_SLOTS;
use crate::engine::{AutomationRate, ParamDescriptor, ParamFrame, RENDER_QUANTUM};

/// A sample-accurate change passed to the host side: the host's normalized value
/// (0..1) of `slot` from frame `offset` of the current host block on. Each
/// generation maps it onto its own descriptor's range ([`super::SlotRange`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamChange {
    /// Frame offset inside the host block.
    pub offset: u32,
    /// The parameter slot.
    pub slot: u16,
    /// The normalized value, 0..1.
    pub normalized: f32,
}

/// A change stamped with the generation's absolute frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParamEvent {
    pub(crate) frame: u64,
    pub(crate) slot: u16,
    pub(crate) value: f32,
}

/// Gives every name in `names` a slot in `map`: names already mapped keep theirs;
/// new ones get the lowest free slot, then a slot of a name no longer in `names`.
/// Returns the slots that were (re)assigned.
pub fn assign_slots(map: &mut Vec<(String, usize)>, names: &[String]) -> Vec<usize> {
    let mut assigned = Vec::new();
    for name in names {
        if map.iter().any(|(n, _)| n == name) {
            continue;
        }
        let free = (0..PARAM_SLOTS).find(|s| !map.iter().any(|&(_, used)| used == *s));
        let slot = free.or_else(|| {
            let stale = map.iter().position(|(n, _)| !names.contains(n))?;
            Some(map.remove(stale).1)
        });
        if let Some(slot) = slot {
            map.push((name.clone(), slot));
            assigned.push(slot);
        }
    }
    assigned
}

/// Events a host block may carry per generation before the rest are dropped.
pub(crate) const EVENT_CAPACITY: usize = 4096;

/// Parameter values shared by every thread of a pipeline.
#[derive(Debug)]
pub struct SharedParams {
    requested: [AtomicF32; PARAM_SLOTS],
    current: [AtomicF32; PARAM_SLOTS],
}

impl Default for SharedParams {
    fn default() -> Self {
        Self {
            requested: std::array::from_fn(|_| AtomicF32::new(f32::NAN)),
            current: std::array::from_fn(|_| AtomicF32::new(f32::NAN)),
        }
    }
}

impl SharedParams {
    /// Sets `slot` from outside the audio callback (ramped over one quantum).
    pub fn request(&self, slot: usize, value: f32) {
        if let Some(atomic) = self.requested.get(slot) {
            atomic.store(value, Ordering::Relaxed);
        }
    }

    /// The value the render thread last used for `slot` (`NaN` before any).
    pub fn current(&self, slot: usize) -> f32 {
        self.current.get(slot).map_or(f32::NAN, |a| a.load(Ordering::Relaxed))
    }

    /// The value last requested for `slot` (`NaN` before any).
    pub(crate) fn requested(&self, slot: usize) -> f32 {
        self.requested.get(slot).map_or(f32::NAN, |a| a.load(Ordering::Relaxed))
    }

    /// Records `slot`'s current value as a render thread elsewhere reported it.
    pub(crate) fn set_current(&self, slot: usize, value: f32) {
        if let Some(atomic) = self.current.get(slot) {
            atomic.store(value, Ordering::Relaxed);
        }
    }
}

/// The render thread's view: builds each quantum's [`ParamFrame`].
pub(crate) struct ParamTrack {
    /// Slot of each descriptor (descriptor order); `None` for unmapped ones.
    slots: Vec<Option<usize>>,
    /// Descriptor of each slot.
    descriptor_of: [Option<usize>; PARAM_SLOTS],
    rates: Vec<AutomationRate>,
    ranges: Vec<(f32, f32)>,
    current: Vec<f32>,
    last_request: Vec<f32>,
    work: Vec<[f32; RENDER_QUANTUM]>,
    frame: ParamFrame,
    /// An event read from the ring that belongs to a later quantum.
    held: Option<ParamEvent>,
}

impl ParamTrack {
    /// Starts from the shared current values (a previous generation's), or from
    /// the node's initial values where there are none.
    pub(crate) fn new(
        descriptors: &[ParamDescriptor],
        initial: &[f32],
        slots: Vec<Option<usize>>,
        shared: &SharedParams,
    ) -> Self {
        let current: Vec<f32> = slots
            .iter()
            .zip(initial)
            .map(|(slot, &initial)| slot.map(|s| shared.current(s)).filter(|v| !v.is_nan()).unwrap_or(initial))
            .collect();
        let last_request =
            slots.iter().map(|slot| slot.map_or(f32::NAN, |s| shared.requested[s].load(Ordering::Relaxed))).collect();
        let mut descriptor_of = [None; PARAM_SLOTS];
        for (index, slot) in slots.iter().enumerate() {
            if let Some(slot) = slot.filter(|&s| s < PARAM_SLOTS) {
                descriptor_of[slot] = Some(index);
            }
        }
        Self {
            descriptor_of,
            rates: descriptors.iter().map(|d| d.automation_rate).collect(),
            ranges: descriptors.iter().map(|d| (d.min_value, d.max_value)).collect(),
            work: vec![[0.0; RENDER_QUANTUM]; slots.len()],
            frame: ParamFrame::constant(&current),
            slots,
            current,
            last_request,
            held: None,
        }
    }

    /// The parameter values for the quantum starting at `start`: a ramp to any
    /// new request, then the sample-accurate events that fall inside the quantum.
    pub(crate) fn frame(
        &mut self,
        start: u64,
        events: &mut crate::sys::ring::Consumer<[u64; 2]>,
        shared: &SharedParams,
    ) -> &ParamFrame {
        for (index, values) in self.work.iter_mut().enumerate() {
            let from = self.current[index];
            values.fill(from);
            let Some(slot) = self.slots[index] else { continue };
            let requested = shared.requested[slot].load(Ordering::Relaxed);
            if !requested.is_nan() && requested.to_bits() != self.last_request[index].to_bits() {
                self.last_request[index] = requested;
                for (i, value) in values.iter_mut().enumerate() {
                    *value = from + (requested - from) * (i + 1) as f32 / RENDER_QUANTUM as f32;
                }
                self.current[index] = requested;
            }
        }
        let end = start + RENDER_QUANTUM as u64;
        while let Some(event) = self.held.take().or_else(|| events.pop().map(ParamEvent::from_words)) {
            if event.frame >= end {
                self.held = Some(event);
                break;
            }
            let Some(index) = self.descriptor_of.get(usize::from(event.slot)).copied().flatten() else { continue };
            let offset = event.frame.saturating_sub(start) as usize;
            self.work[index][offset..].fill(event.value);
            self.current[index] = event.value;
        }
        for (index, values) in self.work.iter_mut().enumerate() {
            let (min, max) = self.ranges[index];
            for value in values.iter_mut() {
                *value = if value.is_nan() { min.max(0.0).min(max) } else { value.clamp(min, max) };
            }
            self.frame.set(index, values, self.rates[index]);
        }
        &self.frame
    }

    /// Publishes the current values for the GUI and the next generation.
    pub(crate) fn publish(&self, shared: &SharedParams) {
        for (slot, &value) in self.slots.iter().zip(&self.current) {
            if let Some(slot) = slot {
                shared.current[*slot].store(value, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_across_reordering_and_additions() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut map = Vec::new();
        assert_eq!(assign_slots(&mut map, &names(&["gain", "pan"])), [0, 1]);
        assert_eq!(map, [("gain".into(), 0), ("pan".into(), 1)]);
        assert!(assign_slots(&mut map, &names(&["pan", "gain"])).is_empty(), "reordering keeps the mapping");
        assert_eq!(assign_slots(&mut map, &names(&["drive", "pan", "gain"])), [2]);
        assert_eq!(map[2], ("drive".into(), 2));
        assign_slots(&mut map, &names(&["pan"]));
        assign_slots(&mut map, &names(&["gain", "pan"]));
        assert_eq!(map[0], ("gain".into(), 0), "a name that comes back gets its slot back");
    }

    #[test]
    fn a_full_bank_reuses_slots_of_names_that_are_gone() {
        let mut map: Vec<(String, usize)> = (0..PARAM_SLOTS).map(|s| (format!("p{s}"), s)).collect();
        let mut names: Vec<String> = (1..PARAM_SLOTS).map(|s| format!("p{s}")).collect();
        names.push("new".into());
        assert_eq!(assign_slots(&mut map, &names), [0], "p0 is gone, so its slot goes to the new name");
    }
}
