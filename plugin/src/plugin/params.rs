//! The 64 host parameter slots and what they are mapped to.
//!
//! Hosts do not accept new parameters at run time, so Worklet exposes a fixed bank
//! of normalized slots (ids `slot_1` … `slot_64`). The processor's descriptors are
//! mapped onto slots by name ([`SlotTable`]); a slot's value text names the
//! descriptor and shows its value, and an unmapped slot says so. The table is
//! written by the control thread when a generation is ready and read lock-free on
//! the audio thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use atomic_float::AtomicF32;
use nice_plug::prelude::*;

use crate::engine::ParamDescriptor;
use crate::render::{PARAM_SLOTS, SlotRange};

/// What every slot is mapped to. Shared by the control, GUI and audio threads.
#[derive(Debug)]
pub struct SlotTable {
    mapped: [AtomicBool; PARAM_SLOTS],
    min: [AtomicF32; PARAM_SLOTS],
    max: [AtomicF32; PARAM_SLOTS],
    log: [AtomicBool; PARAM_SLOTS],
    default: [AtomicF32; PARAM_SLOTS],
    /// The host or the user moved the slot since it was mapped: its value is sent.
    touched: [AtomicBool; PARAM_SLOTS],
    /// Bumped whenever the mapping changes; the audio thread re-reads baselines.
    epoch: AtomicU64,
    /// Descriptor name of each slot, for value text (never read on the audio thread).
    names: RwLock<Vec<Option<String>>>,
}

impl Default for SlotTable {
    fn default() -> Self {
        Self {
            mapped: std::array::from_fn(|_| AtomicBool::new(false)),
            min: std::array::from_fn(|_| AtomicF32::new(0.0)),
            max: std::array::from_fn(|_| AtomicF32::new(1.0)),
            log: std::array::from_fn(|_| AtomicBool::new(false)),
            default: std::array::from_fn(|_| AtomicF32::new(0.0)),
            touched: std::array::from_fn(|_| AtomicBool::new(false)),
            epoch: AtomicU64::new(0),
            names: RwLock::new(vec![None; PARAM_SLOTS]),
        }
    }
}

impl SlotTable {
    /// Maps slots to descriptors (control thread); `touched` slots send their values.
    pub fn set(&self, mapping: &[(usize, ParamDescriptor)], touched: &[usize]) {
        let mut names = self.names.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in 0..PARAM_SLOTS {
            self.mapped[slot].store(false, Ordering::Relaxed);
            names[slot] = None;
        }
        for (slot, descriptor) in mapping.iter().filter(|(s, _)| *s < PARAM_SLOTS) {
            let range = SlotRange::of(descriptor);
            self.min[*slot].store(range.min, Ordering::Relaxed);
            self.max[*slot].store(range.max, Ordering::Relaxed);
            self.log[*slot].store(range.log, Ordering::Relaxed);
            self.default[*slot].store(range.default, Ordering::Relaxed);
            // A centred slot is exact from the start (its centre is the default);
            // an edge-default slot takes effect once it is moved.
            self.touched[*slot].store(range.centred() || touched.contains(slot), Ordering::Relaxed);
            self.mapped[*slot].store(true, Ordering::Relaxed);
            names[*slot] = Some(descriptor.name.clone());
        }
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// The current mapping epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Whether a descriptor is mapped onto the slot (audio thread: one atomic).
    pub fn mapped(&self, slot: usize) -> bool {
        self.mapped.get(slot).is_some_and(|m| m.load(Ordering::Acquire))
    }

    /// The range of a mapped slot, for value text (never read on the audio thread:
    /// each generation maps audio-thread values with its own ranges).
    pub fn range(&self, slot: usize) -> Option<SlotRange> {
        self.mapped[slot].load(Ordering::Relaxed).then(|| SlotRange {
            min: self.min[slot].load(Ordering::Relaxed),
            max: self.max[slot].load(Ordering::Relaxed),
            default: self.default[slot].load(Ordering::Relaxed),
            log: self.log[slot].load(Ordering::Relaxed),
        })
    }

    /// Whether the slot's value is sent (it was moved since it was mapped).
    pub fn touched(&self, slot: usize) -> bool {
        self.touched[slot].load(Ordering::Relaxed)
    }

    /// Marks a slot as moved.
    pub fn touch(&self, slot: usize) {
        self.touched[slot].store(true, Ordering::Relaxed);
    }

    /// Slots moved since they were mapped.
    pub fn touched_slots(&self) -> Vec<usize> {
        (0..PARAM_SLOTS).filter(|&s| self.touched(s) && self.mapped[s].load(Ordering::Relaxed)).collect()
    }

    /// The descriptor name of a slot.
    pub fn name(&self, slot: usize) -> Option<String> {
        self.names.try_read().ok().and_then(|names| names.get(slot).cloned().flatten())
    }

    /// The value text of `normalized` on this slot: `name: value`, or that the
    /// slot is unmapped.
    pub fn text(&self, slot: usize, normalized: f32) -> String {
        match (self.name(slot), self.range(slot)) {
            (Some(name), Some(range)) => format!("{name}: {}", format_value(range.value(normalized))),
            _ => "(unmapped)".to_owned(),
        }
    }

    /// Parses `value` or `name: value` in descriptor units into a normalized value.
    pub fn parse(&self, slot: usize, text: &str) -> Option<f32> {
        let range = self.range(slot)?;
        let number = text.rsplit(':').next()?.trim().parse::<f32>().ok()?;
        Some(range.normalized(number))
    }
}

/// A value with up to 4 decimals (fewer for large values), trailing zeros dropped.
fn format_value(value: f32) -> String {
    let magnitude = value.abs();
    let text = if magnitude >= 1000.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    };
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') { format!("{trimmed}0") } else { trimmed.to_owned() }
}

/// One slot: a normalized, automatable parameter.
#[derive(Params)]
pub struct SlotParam {
    /// The value, 0..1, mapped onto the descriptor's range.
    #[id = "slot"]
    pub value: FloatParam,
}

/// The plugin's parameters and persisted state.
#[derive(Params)]
pub struct WorkletParams {
    /// The 64 slots, `slot_1` … `slot_64`.
    #[nested(array, group = "Slot")]
    pub slots: [SlotParam; PARAM_SLOTS],
    /// The saved state as JSON (see `SavedState`); parsed by the plugin so that a
    /// corrupt state gives a clear error instead of being skipped silently.
    #[persist = "worklet-state"]
    pub state: super::state_field::StateField,
    /// The editor's view state (window size, font, tab, panel choices).
    #[persist = "worklet-view"]
    pub view: super::view::SharedView,
    /// What the slots are mapped to (not saved here; rebuilt from the state).
    pub table: Arc<SlotTable>,
}

impl Default for WorkletParams {
    fn default() -> Self {
        let table = Arc::new(SlotTable::default());
        let slots = std::array::from_fn(|slot| {
            let (text_table, parse_table) = (table.clone(), table.clone());
            SlotParam {
                value: FloatParam::new(format!("Slot {}", slot + 1), 0.5, FloatRange::Linear { min: 0.0, max: 1.0 })
                    .with_value_to_string(Arc::new(move |normalized| text_table.text(slot, normalized)))
                    .with_string_to_value(Arc::new(move |text| parse_table.parse(slot, text))),
            }
        });
        Self { slots, state: Default::default(), view: Default::default(), table }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::slot_range::tests::descriptor;

    #[test]
    fn value_text_names_the_descriptor_or_says_unmapped() {
        let table = SlotTable::default();
        assert_eq!(table.text(3, 0.5), "(unmapped)");
        table.set(&[(3, ParamDescriptor { default_value: 1.0, ..descriptor("gain", 0.0, 4.0) })], &[]);
        assert_eq!(table.text(3, 0.5), "gain: 1.0");
        assert_eq!(table.text(3, 0.75), "gain: 2.5");
        assert!((table.parse(3, "gain: 2.5").unwrap() - 0.75).abs() < 1e-6);
        assert!((table.parse(3, "0.5").unwrap() - 0.25).abs() < 1e-6);
        assert_eq!(table.text(4, 0.5), "(unmapped)");
    }
}
