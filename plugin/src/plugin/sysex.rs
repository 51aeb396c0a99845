//! SysEx as nice-plug carries it between the host and the plugin (audio
//! thread): a fixed buffer per message, since nice-plug's events are plain
//! values. Messages up to [`MAX_SYSEX`] bytes cross; a longer one arrives
//! marked as too long, so it is counted as dropped rather than lost silently.

use nice_plug::midi::sysex::SysExMessage;

/// The longest SysEx message (`F0` and `F7` included) that crosses between the
/// host and the plugin. It covers the messages played live (MIDI Tuning
/// Standard changes and bulk dumps, device controls, most single-patch
/// dumps); every event nice-plug queues is this large, so it is kept modest.
pub(crate) const MAX_SYSEX: usize = 1024;

/// One SysEx message, `F0 … F7`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sysex {
    /// The message's full length (more than [`MAX_SYSEX`]: too long, not kept).
    len: usize,
    bytes: [u8; MAX_SYSEX],
}

impl Sysex {
    /// The message from `bytes`; `None` unless it is `F0 … F7` of at most
    /// [`MAX_SYSEX`] bytes.
    pub(crate) fn new(bytes: &[u8]) -> Option<Self> {
        Self::from_buffer(bytes).filter(|message| message.bytes().is_some())
    }

    /// The message's bytes; `None` when it was too long to keep.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        self.bytes.get(..self.len)
    }
}

impl SysExMessage for Sysex {
    type Buffer = [u8; MAX_SYSEX];

    /// Every message that starts with `F0` and ends with `F7`, and a message's
    /// body alone (data bytes only), as some VST3 hosts send it: the
    /// `F0` and `F7` are put back. nice-plug also offers other system messages
    /// here: they are not SysEx.
    fn from_buffer(buffer: &[u8]) -> Option<Self> {
        let complete = matches!((buffer.first(), buffer.last()), (Some(0xf0), Some(0xf7))) && buffer.len() >= 2;
        let body_only = !buffer.is_empty() && buffer.iter().all(|&byte| byte < 0x80);
        if !complete && !body_only {
            return None;
        }
        let len = if complete { buffer.len() } else { buffer.len() + 2 };
        let mut bytes = [0; MAX_SYSEX];
        if len <= MAX_SYSEX {
            let at = usize::from(!complete);
            bytes[at..at + buffer.len()].copy_from_slice(buffer);
            if !complete {
                (bytes[0], bytes[len - 1]) = (0xf0, 0xf7);
            }
        }
        Some(Self { len, bytes })
    }

    fn as_buffer(&self) -> (Self::Buffer, usize) {
        (self.bytes, self.len.min(MAX_SYSEX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_sysex_up_to_the_limit_is_kept() {
        let gm_on = [0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7];
        let message = Sysex::from_buffer(&gm_on).unwrap();
        assert_eq!(message.bytes(), Some(&gm_on[..]));
        let (buffer, len) = message.as_buffer();
        assert_eq!(&buffer[..len], &gm_on);
        assert!(Sysex::from_buffer(&[0xf8]).is_none());
        assert!(Sysex::from_buffer(&[0xf0, 0x01]).is_none());
        assert!(Sysex::from_buffer(&[0xf7]).is_none());
        assert!(Sysex::from_buffer(&[]).is_none());
        assert!(Sysex::from_buffer(&[0x01, 0x90]).is_none());
        // The body alone gets its F0 and F7 back.
        assert_eq!(Sysex::from_buffer(&gm_on[1..5]).unwrap(), message);
        let mut long = vec![0x01; MAX_SYSEX + 1];
        (long[0], long[MAX_SYSEX]) = (0xf0, 0xf7);
        let too_long = Sysex::from_buffer(&long).unwrap();
        assert_eq!(too_long.bytes(), None);
        assert!(Sysex::new(&long).is_none());
        let body = vec![0x01; MAX_SYSEX - 1];
        assert!(Sysex::new(&body).is_none(), "with F0 and F7 one byte too long");
        assert_eq!(Sysex::new(&body[1..]).unwrap().bytes().map(<[u8]>::len), Some(MAX_SYSEX));
        let mut longest = long[1..].to_vec();
        longest[0] = 0xf0;
        assert_eq!(Sysex::new(&longest).unwrap().bytes().map(<[u8]>::len), Some(MAX_SYSEX));
    }
}
