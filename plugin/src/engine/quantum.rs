//! Render-quantum audio buffers on both sides of the JS boundary (realm's thread).
//!
//! [`AudioBuses`] is the Rust side: bus → channel → 128 samples. [`JsBuses`] is the
//! script side: the frozen `inputs` / `outputs` arrays of `Float32Array(128)` that
//! `process()` receives. They are created once per node and reused every quantum;
//! Rust copies samples straight into and out of their `ArrayBuffer`s.

use boa_engine::object::builtins::{JsArrayBuffer, JsFloat32Array};
use boa_engine::{JsResult, JsValue};

use super::options::ChannelInterpretation;
use super::realm::Realm;

/// Frames in one render quantum (`renderQuantumSize`).
pub const RENDER_QUANTUM: usize = 128;

/// One channel of one quantum.
pub type Channel = [f32; RENDER_QUANTUM];

/// Rust-side audio for one quantum: `buses[bus][channel][frame]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioBuses {
    /// The buses; each holds its channels.
    pub buses: Vec<Vec<Channel>>,
}

impl AudioBuses {
    /// Silent buses with these channel counts.
    pub fn silent(channel_counts: &[u32]) -> Self {
        Self { buses: channel_counts.iter().map(|&n| vec![[0.0; RENDER_QUANTUM]; n as usize]).collect() }
    }

    /// Sets every sample to zero.
    pub fn clear(&mut self) {
        for channel in self.buses.iter_mut().flatten() {
            channel.fill(0.0);
        }
    }

    /// The channel counts of each bus.
    pub fn channel_counts(&self) -> Vec<u32> {
        self.buses.iter().map(|bus| bus.len() as u32).collect()
    }
}

/// Up- or down-mixes `source` channels into `dest` (Web Audio mixing rules for
/// mono and stereo speakers; discrete copying otherwise).
pub fn mix_channels(source: &[Channel], dest: &mut [Channel], interpretation: ChannelInterpretation) {
    match (interpretation, source.len(), dest.len()) {
        (_, s, d) if s == d => dest.copy_from_slice(source),
        (ChannelInterpretation::Speakers, 1, 2) => {
            dest[0] = source[0];
            dest[1] = source[0];
        }
        (ChannelInterpretation::Speakers, 2, 1) => {
            for (frame, out) in dest[0].iter_mut().enumerate() {
                *out = 0.5 * (source[0][frame] + source[1][frame]);
            }
        }
        _ => {
            for (index, out) in dest.iter_mut().enumerate() {
                *out = source.get(index).copied().unwrap_or([0.0; RENDER_QUANTUM]);
            }
        }
    }
}

/// The NaN and infinite samples of one quantum's outputs, which were replaced by
/// silence so that they never reach the host.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NonFinite {
    /// How many samples were replaced.
    pub count: u64,
    /// The first of them (in bus, channel, frame order).
    pub first: Option<NonFiniteSample>,
}

/// Where a non-finite sample was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFiniteSample {
    /// `outputs[bus]`.
    pub bus: u32,
    /// `outputs[bus][channel]`.
    pub channel: u32,
    /// The frame inside the quantum.
    pub frame: u32,
    /// The value: NaN, `Infinity` or `-Infinity`.
    pub value: f32,
}

/// The script-side `inputs` or `outputs` argument and the buffers behind it.
pub(crate) struct JsBuses {
    value: JsValue,
    buffers: Vec<Vec<JsArrayBuffer>>,
}

impl JsBuses {
    /// Frozen `[[Float32Array(128), ...], ...]` with these channel counts.
    pub(crate) fn new(realm: &mut Realm, channel_counts: &[u32]) -> JsResult<Self> {
        let mut buses = Vec::with_capacity(channel_counts.len());
        let mut buffers = Vec::with_capacity(channel_counts.len());
        for &count in channel_counts {
            let mut arrays = Vec::with_capacity(count as usize);
            let mut bus_buffers = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let (array, buffer) = float32_array(realm, RENDER_QUANTUM)?;
                arrays.push(array);
                bus_buffers.push(buffer);
            }
            buses.push(realm.frozen_array(arrays)?);
            buffers.push(bus_buffers);
        }
        Ok(Self { value: realm.frozen_array(buses)?, buffers })
    }

    /// The array handed to `process()`.
    pub(crate) fn value(&self) -> &JsValue {
        &self.value
    }

    /// Copies `audio` into the arrays (channels beyond either side are skipped).
    pub(crate) fn write(&self, audio: &AudioBuses) {
        for (buffers, bus) in self.buffers.iter().zip(&audio.buses) {
            for (buffer, channel) in buffers.iter().zip(bus) {
                write_f32(buffer, channel);
            }
        }
    }

    /// Zero-fills every array.
    pub(crate) fn zero(&self) {
        for buffer in self.buffers.iter().flatten() {
            if let Some(mut bytes) = buffer.data_mut() {
                bytes.fill(0);
            }
        }
    }

    /// Copies the arrays into `audio` (a detached buffer reads as silence) and
    /// replaces every NaN or infinite sample by silence, counting them.
    pub(crate) fn read(&self, audio: &mut AudioBuses) -> NonFinite {
        let mut found = NonFinite::default();
        for (bus_index, (buffers, bus)) in self.buffers.iter().zip(&mut audio.buses).enumerate() {
            for (channel_index, (buffer, channel)) in buffers.iter().zip(bus).enumerate() {
                let (count, first) = read_finite_f32(buffer, channel);
                if let Some((frame, value)) = first.filter(|_| found.count == 0) {
                    let (bus, channel, frame) = (bus_index as u32, channel_index as u32, frame as u32);
                    found.first = Some(NonFiniteSample { bus, channel, frame, value });
                }
                found.count += count;
            }
        }
        found
    }
}

/// A `Float32Array` of `length` over its own `ArrayBuffer`.
pub(crate) fn float32_array(realm: &mut Realm, length: usize) -> JsResult<(JsValue, JsArrayBuffer)> {
    let context = realm.context();
    let buffer = JsArrayBuffer::new(length * 4, context)?;
    let array = JsFloat32Array::from_array_buffer(buffer.clone(), context)?;
    Ok((array.into(), buffer))
}

/// Writes samples into an `ArrayBuffer` (native byte order, as typed arrays use).
pub(crate) fn write_f32(buffer: &JsArrayBuffer, samples: &[f32]) {
    if let Some(mut bytes) = buffer.data_mut() {
        for (chunk, sample) in bytes.chunks_exact_mut(4).zip(samples) {
            chunk.copy_from_slice(&sample.to_ne_bytes());
        }
    }
}

/// Reads samples from an `ArrayBuffer`; a detached or short buffer reads as zeros,
/// and NaN or infinite samples as zero. Returns how many samples were not finite
/// and the first of them (frame, value).
pub(crate) fn read_finite_f32(buffer: &JsArrayBuffer, samples: &mut [f32]) -> (u64, Option<(usize, f32)>) {
    let (mut count, mut first) = (0, None);
    match buffer.data() {
        Some(bytes) if bytes.len() >= samples.len() * 4 => {
            for (frame, (sample, chunk)) in samples.iter_mut().zip(bytes.chunks_exact(4)).enumerate() {
                let value = f32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                if value.is_finite() {
                    *sample = value;
                } else {
                    first = first.or(Some((frame, value)));
                    count += 1;
                    *sample = 0.0;
                }
            }
        }
        _ => samples.fill(0.0),
    }
    (count, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(offset: f32) -> Channel {
        std::array::from_fn(|i| i as f32 + offset)
    }

    #[test]
    fn speakers_mix_mono_up_and_stereo_down() {
        let mut stereo = [[0.0; RENDER_QUANTUM]; 2];
        mix_channels(&[ramp(0.0)], &mut stereo, ChannelInterpretation::Speakers);
        assert_eq!(stereo[0], ramp(0.0));
        assert_eq!(stereo[1], ramp(0.0));
        let mut mono = [[0.0; RENDER_QUANTUM]; 1];
        mix_channels(&[ramp(0.0), ramp(2.0)], &mut mono, ChannelInterpretation::Speakers);
        assert!((mono[0][10] - 11.0).abs() < 1e-6);
    }

    #[test]
    fn discrete_mix_copies_by_index_and_silences_the_rest() {
        let mut three = [[9.0; RENDER_QUANTUM]; 3];
        mix_channels(&[ramp(0.0), ramp(1.0)], &mut three, ChannelInterpretation::Discrete);
        assert_eq!(three[1], ramp(1.0));
        assert!(three[2].iter().all(|&s| s == 0.0));
    }
}
