//! Generated test inputs for `worklet render --input-signal` (caller's thread).

use std::f64::consts::TAU;
use std::str::FromStr;

/// What feeds the node's first input when no WAV file is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputSignal {
    /// `sin(2π·f·t)` at full scale on every channel.
    Sine(f64),
    /// Deterministic white noise, uniform in [-1, 1), a different sequence per channel.
    Noise,
    /// 1.0 at frame 0, then silence.
    Impulse,
    /// All zeros (connected, but silent).
    Silence,
    /// A constant value.
    Dc(f32),
    /// Nothing connected: the input has zero channels.
    None,
}

impl FromStr for InputSignal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, arg) = text.split_once(':').map_or((text, None), |(k, a)| (k, Some(a)));
        let number = |what: &str| -> Result<f64, String> {
            let arg = arg.ok_or_else(|| format!("'{kind}' needs a value: {kind}:{what}"))?;
            arg.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("'{arg}' is not a finite number"))
        };
        let no_arg = |signal: Self| match arg {
            Some(_) => Err(format!("'{kind}' takes no value")),
            None => Ok(signal),
        };
        match kind {
            "sine" => Ok(Self::Sine(number("FREQ")?)),
            "dc" => Ok(Self::Dc(number("VALUE")? as f32)),
            "noise" => no_arg(Self::Noise),
            "impulse" => no_arg(Self::Impulse),
            "silence" => no_arg(Self::Silence),
            "none" => no_arg(Self::None),
            _ => {
                Err(format!("unknown input signal '{text}' (use sine:FREQ, noise, impulse, silence, dc:VALUE or none)"))
            }
        }
    }
}

impl InputSignal {
    /// `channels` channels of `frames` samples at `sample_rate`, or `None` when
    /// nothing is connected.
    pub fn generate(self, channels: u32, frames: u64, sample_rate: f64) -> Option<Vec<Vec<f32>>> {
        let frames = frames as usize;
        let channel = |index: u32| -> Vec<f32> {
            match self {
                Self::Sine(freq) => (0..frames).map(|n| (TAU * freq * n as f64 / sample_rate).sin() as f32).collect(),
                Self::Noise => {
                    let mut state =
                        0x9E37_79B9_7F4A_7C15u64 ^ (u64::from(index) + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    (0..frames).map(|_| next_noise(&mut state)).collect()
                }
                Self::Impulse => (0..frames).map(|n| if n == 0 { 1.0 } else { 0.0 }).collect(),
                Self::Silence => vec![0.0; frames],
                Self::Dc(value) => vec![value; frames],
                Self::None => Vec::new(),
            }
        };
        (self != Self::None).then(|| (0..channels).map(channel).collect())
    }
}

/// xorshift64* mapped to [-1, 1).
fn next_noise(state: &mut u64) -> f32 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
    (bits as f32 / (1u64 << 23) as f32) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!("sine:440".parse(), Ok(InputSignal::Sine(440.0)));
        assert_eq!("dc:-0.5".parse(), Ok(InputSignal::Dc(-0.5)));
        assert_eq!("none".parse(), Ok(InputSignal::None));
        assert!("sine".parse::<InputSignal>().is_err());
        assert!("impulse:3".parse::<InputSignal>().is_err());
        assert!("square:3".parse::<InputSignal>().is_err());
    }

    #[test]
    fn signals_have_the_promised_shape() {
        let sine = InputSignal::Sine(12000.0).generate(2, 5, 48000.0).unwrap();
        assert_eq!(sine.len(), 2);
        assert!((sine[0][1] - 1.0).abs() < 1e-6, "quarter period of 12 kHz at 48 kHz peaks");
        let noise = InputSignal::Noise.generate(2, 10_000, 48000.0).unwrap();
        assert_ne!(noise[0], noise[1]);
        assert!(noise[0].iter().all(|s| (-1.0..1.0).contains(s)));
        let mean = noise[0].iter().sum::<f32>() / 10_000.0;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert_eq!(InputSignal::Impulse.generate(1, 3, 1.0).unwrap(), vec![vec![1.0, 0.0, 0.0]]);
        assert!(InputSignal::None.generate(2, 3, 1.0).is_none());
    }
}
