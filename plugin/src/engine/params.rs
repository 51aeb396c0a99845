//! AudioParam descriptors and the per-quantum `parameters` argument (realm's thread).
//!
//! Each descriptor gets two `Float32Array`s: one of length 1 (the value is constant
//! over the quantum, or the parameter is k-rate) and one of length 128 (an a-rate
//! value that changes inside the quantum). `parameters` is a frozen object, so
//! which array a name points to is fixed per object: the frozen objects are cached
//! by the pattern of lengths and reused.

use std::collections::HashMap;

use boa_engine::object::builtins::JsArrayBuffer;
use boa_engine::{JsObject, JsResult, JsString, JsValue};
use serde::{Deserialize, Serialize};

use super::quantum::{RENDER_QUANTUM, float32_array, write_f32};
use super::realm::Realm;

/// `"a-rate"` or `"k-rate"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutomationRate {
    /// One value per frame when the value changes inside a quantum.
    #[serde(rename = "a-rate")]
    ARate,
    /// One value per quantum.
    #[serde(rename = "k-rate")]
    KRate,
}

/// A normalized `AudioParamDescriptor`, as `registerProcessor` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamDescriptor {
    /// The parameter's name (the key in `parameters`).
    pub name: String,
    /// Value when nothing sets it.
    pub default_value: f32,
    /// Lower end of the nominal range.
    pub min_value: f32,
    /// Upper end of the nominal range.
    pub max_value: f32,
    /// a-rate or k-rate.
    pub automation_rate: AutomationRate,
}

impl ParamDescriptor {
    /// Clamps a value to the nominal range, as the computed value of an AudioParam is.
    pub fn clamp(&self, value: f32) -> f32 {
        if value.is_nan() { self.default_value } else { value.clamp(self.min_value, self.max_value) }
    }
}

/// The values of every parameter for one quantum, in descriptor order.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamFrame {
    /// 128 values per parameter; only `[0]` is meaningful when `constant`.
    pub values: Vec<[f32; RENDER_QUANTUM]>,
    /// Whether the parameter's value is the same over the whole quantum.
    pub constant: Vec<bool>,
}

impl ParamFrame {
    /// A frame holding each parameter at a constant value.
    pub fn constant(values: &[f32]) -> Self {
        Self { values: values.iter().map(|&v| [v; RENDER_QUANTUM]).collect(), constant: vec![true; values.len()] }
    }

    /// Sets parameter `index` for this quantum from 128 values, collapsing to a
    /// single value when they are all equal or the parameter is k-rate.
    pub fn set(&mut self, index: usize, values: &[f32; RENDER_QUANTUM], rate: AutomationRate) {
        let first = values[0];
        let constant = rate == AutomationRate::KRate || values.iter().all(|&v| v.to_bits() == first.to_bits());
        self.constant[index] = constant;
        if constant {
            self.values[index][0] = first;
        } else {
            self.values[index] = *values;
        }
    }
}

struct ParamArrays {
    name: JsString,
    single: (JsValue, JsArrayBuffer),
    full: (JsValue, JsArrayBuffer),
}

/// The script-side `parameters` objects of one node.
pub(crate) struct ParamBank {
    arrays: Vec<ParamArrays>,
    cache: HashMap<u64, JsObject>,
}

impl ParamBank {
    pub(crate) fn new(realm: &mut Realm, descriptors: &[ParamDescriptor]) -> JsResult<Self> {
        let mut arrays = Vec::with_capacity(descriptors.len());
        for descriptor in descriptors {
            arrays.push(ParamArrays {
                name: JsString::from(descriptor.name.as_str()),
                single: float32_array(realm, 1)?,
                full: float32_array(realm, RENDER_QUANTUM)?,
            });
        }
        Ok(Self { arrays, cache: HashMap::new() })
    }

    /// Writes this quantum's values and returns the frozen `parameters` object.
    pub(crate) fn prepare(&mut self, realm: &mut Realm, frame: &ParamFrame) -> JsResult<JsObject> {
        let mut mask = 0u64;
        for (index, (arrays, values)) in self.arrays.iter().zip(&frame.values).enumerate() {
            if frame.constant[index] {
                write_f32(&arrays.single.1, &values[..1]);
            } else {
                write_f32(&arrays.full.1, values);
                if index < 64 {
                    mask |= 1 << index;
                }
            }
        }
        let cacheable = self.arrays.len() <= 64;
        if cacheable && let Some(object) = self.cache.get(&mask) {
            return Ok(object.clone());
        }
        let entries: Vec<(JsString, JsValue)> = self
            .arrays
            .iter()
            .enumerate()
            .map(|(index, arrays)| {
                let array = if frame.constant[index] { &arrays.single.0 } else { &arrays.full.0 };
                (arrays.name.clone(), array.clone())
            })
            .collect();
        let object = realm.parameter_object(&entries)?;
        if cacheable {
            self.cache.insert(mask, object.clone());
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_collapse_to_one() {
        let mut frame = ParamFrame::constant(&[0.0]);
        frame.set(0, &[0.5; RENDER_QUANTUM], AutomationRate::ARate);
        assert!(frame.constant[0]);
        let mut step = [0.5; RENDER_QUANTUM];
        step[64] = 1.0;
        frame.set(0, &step, AutomationRate::ARate);
        assert!(!frame.constant[0]);
        frame.set(0, &step, AutomationRate::KRate);
        assert!(frame.constant[0]);
        assert!((frame.values[0][0] - 0.5).abs() < f32::EPSILON);
    }

    #[test]
    fn clamp_uses_the_nominal_range() {
        let d = ParamDescriptor {
            name: "g".into(),
            default_value: 0.5,
            min_value: 0.0,
            max_value: 1.0,
            automation_rate: AutomationRate::ARate,
        };
        assert!((d.clamp(2.0) - 1.0).abs() < f32::EPSILON);
        assert!((d.clamp(f32::NAN) - 0.5).abs() < f32::EPSILON);
    }
}
