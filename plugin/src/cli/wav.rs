//! WAV input and output for the CLI (caller's thread).

use std::path::Path;

/// Audio read from a WAV file.
#[derive(Debug, Clone)]
pub struct WavAudio {
    /// The file's sample rate.
    pub sample_rate: u32,
    /// Samples per channel, as floats in [-1, 1].
    pub channels: Vec<Vec<f32>>,
}

/// Reads any PCM (8–32-bit integer) or 32-bit float WAV file.
pub fn read(path: &Path) -> Result<WavAudio, String> {
    let mut reader = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    let count = usize::from(spec.channels);
    if count == 0 {
        return Err(format!("{}: the file has no channels", path.display()));
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|s| s as f32 * scale)).collect::<Result<_, _>>()
        }
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut channels = vec![Vec::with_capacity(samples.len() / count); count];
    for frame in samples.chunks_exact(count) {
        for (channel, &sample) in channels.iter_mut().zip(frame) {
            channel.push(sample);
        }
    }
    Ok(WavAudio { sample_rate: spec.sample_rate, channels })
}

/// Writes channels as a 32-bit float WAV file.
pub fn write(path: &Path, sample_rate: u32, channels: &[Vec<f32>]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: u16::try_from(channels.len()).map_err(|_| "too many channels for WAV".to_owned())?,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let fail = |e: hound::Error| format!("{}: {e}", path.display());
    let mut writer = hound::WavWriter::create(path, spec).map_err(fail)?;
    let frames = channels.first().map_or(0, Vec::len);
    for frame in 0..frames {
        for channel in channels {
            writer.write_sample(channel[frame]).map_err(fail)?;
        }
    }
    writer.finalize().map_err(fail)
}
