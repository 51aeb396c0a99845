//! How a host slot's normalized 0..1 value maps onto a descriptor's range. Any
//! thread: the plugin shows value text with it, and each generation's host link
//! maps the host's normalized values with its own descriptors' ranges, so an old
//! generation still fading out never receives values meant for a new one's ranges.

use crate::engine::ParamDescriptor;

/// Values beyond this are treated as unbounded when mapping a slot's range.
const UNBOUNDED: f32 = 1e6;

/// How one slot's normalized 0..1 value maps onto a descriptor's range.
///
/// When the default lies inside the range, the slot's default position (0.5)
/// is the descriptor's default: [0, 0.5] covers [min, default] and [0.5, 1]
/// covers [default, max]. A default at an end of the range maps the whole
/// range evenly instead (no dead half). Positive ranges spanning 100× or more
/// (frequencies) are logarithmic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotRange {
    /// Lowest value (the descriptor's `minValue`, at most 1e6 in size).
    pub min: f32,
    /// Highest value.
    pub max: f32,
    /// The descriptor's default value.
    pub default: f32,
    /// Logarithmic segments.
    pub log: bool,
}

impl SlotRange {
    /// The range a descriptor maps onto.
    pub fn of(descriptor: &ParamDescriptor) -> Self {
        let min = descriptor.min_value.max(-UNBOUNDED);
        let max = descriptor.max_value.min(UNBOUNDED).max(min);
        let default = descriptor.default_value.clamp(min, max);
        Self { min, max, default, log: min > 0.0 && max / min >= 100.0 }
    }

    /// Whether the default is inside the range (the slot centre is the default).
    pub fn centred(&self) -> bool {
        let margin = (self.max - self.min) * 1e-6;
        self.default > self.min + margin && self.default < self.max - margin
    }

    fn segment(&self, from: f32, to: f32, t: f32) -> f32 {
        if self.log { from * (to / from).powf(t) } else { from + t * (to - from) }
    }

    fn position(&self, from: f32, to: f32, v: f32) -> f32 {
        if to <= from {
            0.0
        } else if self.log {
            (v / from).ln() / (to / from).ln()
        } else {
            (v - from) / (to - from)
        }
    }

    /// Normalized → descriptor units.
    pub fn value(&self, normalized: f32) -> f32 {
        let n = normalized.clamp(0.0, 1.0);
        if !self.centred() {
            self.segment(self.min, self.max, n)
        } else if n <= 0.5 {
            self.segment(self.min, self.default, n * 2.0)
        } else {
            self.segment(self.default, self.max, n * 2.0 - 1.0)
        }
    }

    /// Descriptor units → normalized.
    pub fn normalized(&self, value: f32) -> f32 {
        let v = value.clamp(self.min, self.max);
        if !self.centred() {
            self.position(self.min, self.max, v)
        } else if v <= self.default {
            self.position(self.min, self.default, v) * 0.5
        } else {
            0.5 + self.position(self.default, self.max, v) * 0.5
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::AutomationRate;

    /// An a-rate descriptor with default `min` (for the slot tests here and in
    /// the plugin's parameter table).
    pub(crate) fn descriptor(name: &str, min: f32, max: f32) -> ParamDescriptor {
        ParamDescriptor {
            name: name.into(),
            default_value: min,
            min_value: min,
            max_value: max,
            automation_rate: AutomationRate::ARate,
        }
    }

    #[test]
    fn ranges_map_both_ways() {
        let edge = SlotRange::of(&descriptor("mix", 0.0, 4.0));
        assert!(!edge.log && !edge.centred());
        assert!((edge.value(0.25) - 1.0).abs() < 1e-6);
        assert!((edge.normalized(3.0) - 0.75).abs() < 1e-6);
        let gain = SlotRange::of(&ParamDescriptor { default_value: 1.0, ..descriptor("gain", 0.0, 4.0) });
        assert!(gain.centred());
        assert!((gain.value(0.5) - 1.0).abs() < 1e-6, "the slot centre is the default");
        assert!((gain.value(0.25) - 0.5).abs() < 1e-6 && (gain.value(0.75) - 2.5).abs() < 1e-6);
        assert!((gain.normalized(2.5) - 0.75).abs() < 1e-6);
        let log = SlotRange::of(&ParamDescriptor { default_value: 1000.0, ..descriptor("frequency", 10.0, 22000.0) });
        assert!(log.log);
        assert!((log.value(0.5) - 1000.0).abs() < 0.01);
        assert!((log.value(0.25) - 100.0).abs() < 0.01);
        assert!((log.value(log.normalized(5000.0)) - 5000.0).abs() < 0.1);
        let unbounded = SlotRange::of(&descriptor("x", -3.4e38, 3.4e38));
        assert_eq!((unbounded.min, unbounded.max), (-1e6, 1e6));
    }
}
