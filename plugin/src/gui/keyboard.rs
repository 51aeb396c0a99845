//! The on-screen keyboard (GUI thread): two octaves played with the mouse
//! (higher on a key is softer) or, once it is clicked, with the computer's
//! keys, laid out like a piano's: A W S E D F T G Y H U J K O L P from C up,
//! Z and X an octave down and up. Notes go to the processor through the
//! plugin's keyboard ring ([`KeyboardSender`]).

use egui::{Color32, Key, Rect, Sense, Stroke, Ui, pos2, vec2};

use crate::plugin::keyboard::KeyboardSender;

/// White keys shown: two octaves and the C above.
const WHITE_KEYS: usize = 15;
const WHITE_WIDTH: f32 = 20.0;
const HEIGHT: f32 = 58.0;
/// Black keys cover this much of the height.
const BLACK_DEPTH: f32 = 0.6;
/// Lowest and highest base note (the leftmost C).
const LOWEST: u8 = 12;
const HIGHEST: u8 = 96;

/// The computer keys, with the semitone above the leftmost C they play.
const COMPUTER_KEYS: [(Key, u8); 16] = [
    (Key::A, 0),
    (Key::W, 1),
    (Key::S, 2),
    (Key::E, 3),
    (Key::D, 4),
    (Key::F, 5),
    (Key::T, 6),
    (Key::G, 7),
    (Key::Y, 8),
    (Key::H, 9),
    (Key::U, 10),
    (Key::J, 11),
    (Key::K, 12),
    (Key::O, 13),
    (Key::L, 14),
    (Key::P, 15),
];

/// The keyboard's state.
#[derive(Debug)]
pub(super) struct Keyboard {
    /// The leftmost key (a C).
    base: u8,
    /// The note the mouse holds.
    mouse: Option<u8>,
    /// Notes the computer keys hold, with their key.
    keys: Vec<(Key, u8)>,
}

impl Default for Keyboard {
    fn default() -> Self {
        Self { base: 48, mouse: None, keys: Vec::new() }
    }
}

/// Whether a semitone of the octave is a black key.
fn is_black(semitone: u8) -> bool {
    matches!(semitone % 12, 1 | 3 | 6 | 8 | 10)
}

/// The white keys left of a semitone (its white key's index, for a white one).
fn whites_before(semitone: u8) -> usize {
    const WHITES: [usize; 12] = [0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6];
    usize::from(semitone / 12) * 7 + WHITES[usize::from(semitone % 12)]
}

/// The rectangle of the key `semitone` above the leftmost C.
fn key_rect(area: Rect, semitone: u8) -> Rect {
    let x = area.left() + whites_before(semitone) as f32 * WHITE_WIDTH;
    if is_black(semitone) {
        let left = x - WHITE_WIDTH * 0.3;
        Rect::from_min_size(pos2(left, area.top()), vec2(WHITE_WIDTH * 0.6, area.height() * BLACK_DEPTH))
    } else {
        Rect::from_min_size(pos2(x, area.top()), vec2(WHITE_WIDTH, area.height()))
    }
}

/// The semitone (above the leftmost C) under `point`, black keys first.
fn hit(area: Rect, point: egui::Pos2) -> Option<u8> {
    let semitones = whites_before(24) as u8 + 17;
    let all = (0..semitones).filter(|&s| whites_before(s) < WHITE_KEYS);
    let (black, white): (Vec<u8>, Vec<u8>) = all.partition(|&s| is_black(s));
    black.into_iter().chain(white).find(|&s| key_rect(area, s).contains(point))
}

/// Velocity from where on the key it was pressed: lower is louder.
fn velocity(area: Rect, point: egui::Pos2) -> u8 {
    let depth = ((point.y - area.top()) / area.height()).clamp(0.0, 1.0);
    (40.0 + 87.0 * depth).round() as u8
}

impl Keyboard {
    /// Shows the keyboard and plays what is pressed.
    pub(super) fn show(&mut self, ui: &mut Ui, sender: &KeyboardSender) {
        ui.horizontal(|ui| {
            ui.strong("Keyboard");
            if ui.small_button("<").on_hover_text("An octave down (Z)").clicked() {
                self.shift(-12, sender);
            }
            ui.label(super::event_text::key_name(self.base));
            if ui.small_button(">").on_hover_text("An octave up (X)").clicked() {
                self.shift(12, sender);
            }
            ui.label(egui::RichText::new("keys A to K, Z X octave").small().weak());
        });
        let size = vec2(WHITE_KEYS as f32 * WHITE_WIDTH, HEIGHT);
        let (area, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let response = response
            .on_hover_text("Click a key (lower is louder), or click here and type A W S E D F T G Y H U J K O L P");
        if response.is_pointer_button_down_on() || response.clicked() {
            response.request_focus();
        }
        // The mouse: the key under a held button sounds.
        let pressed = ui.input(|i| i.pointer.primary_down());
        let under = response.interact_pointer_pos().filter(|_| pressed && response.is_pointer_button_down_on());
        let note = under.and_then(|p| hit(area, p).map(|s| (self.note(s), velocity(area, p))));
        if note.map(|(n, _)| n) != self.mouse {
            if let Some(old) = self.mouse.take() {
                sender.send([0x80, old, 0]);
            }
            if let Some((new, velocity)) = note {
                sender.send([0x90, new, velocity]);
                self.mouse = Some(new);
            }
        }
        // The computer's keys, while the keyboard has the focus.
        if response.has_focus() {
            self.computer_keys(ui, sender);
        } else {
            self.release_keys(sender);
        }
        self.paint(ui, area, response.has_focus());
    }

    fn computer_keys(&mut self, ui: &mut Ui, sender: &KeyboardSender) {
        let events = ui.input(|i| i.events.clone());
        for event in events {
            let egui::Event::Key { key, pressed, repeat: false, .. } = event else { continue };
            match (key, pressed) {
                (Key::Z, true) => self.shift(-12, sender),
                (Key::X, true) => self.shift(12, sender),
                _ => {}
            }
            let Some(&(_, semitone)) = COMPUTER_KEYS.iter().find(|(k, _)| *k == key) else { continue };
            let note = self.note(semitone);
            if pressed && !self.keys.iter().any(|(k, _)| *k == key) {
                sender.send([0x90, note, 100]);
                self.keys.push((key, note));
            } else if !pressed && let Some(index) = self.keys.iter().position(|(k, _)| *k == key) {
                let (_, held) = self.keys.remove(index);
                sender.send([0x80, held, 0]);
            }
        }
    }

    fn note(&self, semitone: u8) -> u8 {
        (self.base + semitone).min(127)
    }

    fn shift(&mut self, by: i16, sender: &KeyboardSender) {
        self.release_all(sender);
        self.base = (i16::from(self.base) + by).clamp(i16::from(LOWEST), i16::from(HIGHEST)) as u8;
    }

    fn release_keys(&mut self, sender: &KeyboardSender) {
        for (_, note) in self.keys.drain(..) {
            sender.send([0x80, note, 0]);
        }
    }

    /// Ends every note it holds (the editor closes, the octave changes).
    pub(super) fn release_all(&mut self, sender: &KeyboardSender) {
        self.release_keys(sender);
        if let Some(note) = self.mouse.take() {
            sender.send([0x80, note, 0]);
        }
    }

    fn sounding(&self, semitone: u8) -> bool {
        let note = self.note(semitone);
        self.mouse == Some(note) || self.keys.iter().any(|&(_, n)| n == note)
    }

    fn paint(&self, ui: &Ui, area: Rect, focused: bool) {
        let painter = ui.painter_at(area.expand(1.0));
        let lit = Color32::from_rgb(106, 190, 85);
        for semitone in (0..=36).filter(|&s| !is_black(s) && whites_before(s) < WHITE_KEYS) {
            let rect = key_rect(area, semitone).shrink2(vec2(0.5, 0.0));
            let fill = if self.sounding(semitone) { lit } else { Color32::from_gray(225) };
            painter.rect_filled(rect, 2.0, fill);
        }
        for semitone in (0..=36).filter(|&s| is_black(s) && whites_before(s) < WHITE_KEYS) {
            let fill = if self.sounding(semitone) { lit } else { Color32::from_gray(25) };
            painter.rect_filled(key_rect(area, semitone), 2.0, fill);
        }
        if focused {
            painter.rect_stroke(area, 2.0, Stroke::new(1.5, lit), egui::StrokeKind::Outside);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_laid_out_and_hit_like_a_piano() {
        let area = Rect::from_min_size(pos2(0.0, 0.0), vec2(WHITE_KEYS as f32 * WHITE_WIDTH, HEIGHT));
        // Low on the keys: white keys only.
        let low = HEIGHT - 2.0;
        assert_eq!(hit(area, pos2(5.0, low)), Some(0), "C");
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 2.5, low)), Some(4), "E");
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 3.5, low)), Some(5), "F");
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 7.5, low)), Some(12), "the next C");
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 14.5, low)), Some(24), "the top C");
        // High up, between C and D: C sharp; between E and F there is no black key.
        assert_eq!(hit(area, pos2(WHITE_WIDTH, 5.0)), Some(1));
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 3.0 - 1.0, 5.0)), Some(4));
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 3.0 + 1.0, 5.0)), Some(5));
        assert_eq!(hit(area, pos2(WHITE_WIDTH * 4.0, 5.0)), Some(6), "F sharp");
        assert_eq!(hit(area, pos2(-1.0, 5.0)), None);
        assert!(velocity(area, pos2(0.0, 0.0)) < velocity(area, pos2(0.0, HEIGHT)));
        assert_eq!(velocity(area, pos2(0.0, HEIGHT)), 127);
    }

    #[test]
    fn the_octave_stays_in_range_and_held_notes_end_when_it_moves() {
        let sender = KeyboardSender::default();
        let mut receiver = sender.connect();
        let mut keyboard = Keyboard { mouse: Some(50), keys: vec![(Key::A, 48)], ..Keyboard::default() };
        keyboard.shift(12, &sender);
        assert_eq!(keyboard.base, 60);
        assert_eq!(receiver.pop(), Ok([0x80, 48, 0]));
        assert_eq!(receiver.pop(), Ok([0x80, 50, 0]));
        for _ in 0..20 {
            keyboard.shift(12, &sender);
        }
        assert_eq!(keyboard.base, HIGHEST);
        assert_eq!(keyboard.note(30), 126);
        assert_eq!(keyboard.note(40), 127);
    }
}
