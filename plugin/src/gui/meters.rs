//! The meters panel (GUI thread): input and output peak meters, render load,
//! underruns, dropped messages and MIDI events, latency and the generation's state, all read
//! from the pipeline's telemetry atomics.

use egui::{Color32, RichText, Sense, Ui, pos2, vec2};

use crate::render::{GenerationState, METER_CHANNELS, Telemetry};

/// Lowest level a meter shows.
const FLOOR_DB: f32 = -60.0;
/// Fall of the shown peak per second.
const FALL_DB_PER_SECOND: f32 = 24.0;

/// Peak levels as shown (with fall-back), in dBFS.
#[derive(Debug)]
pub(super) struct Meters {
    input: [f32; METER_CHANNELS],
    output: [f32; METER_CHANNELS],
    last: Option<std::time::Instant>,
}

impl Default for Meters {
    fn default() -> Self {
        Self { input: [FLOOR_DB; METER_CHANNELS], output: [FLOOR_DB; METER_CHANNELS], last: None }
    }
}

/// dBFS of a linear peak, floored.
pub(super) fn decibels(peak: f32) -> f32 {
    if peak > 0.0 { (20.0 * peak.log10()).max(FLOOR_DB) } else { FLOOR_DB }
}

/// The colour and words for a generation state.
pub(super) fn state_label(state: GenerationState) -> (Color32, &'static str) {
    match state {
        GenerationState::Empty => (Color32::GRAY, "empty"),
        GenerationState::Running => (Color32::from_rgb(106, 190, 85), "running"),
        GenerationState::Errored => (super::code::ERROR_MARK, "errored"),
        GenerationState::Hung => (Color32::from_rgb(229, 160, 60), "hung"),
    }
}

impl Meters {
    /// Takes the peaks since the last frame and lets the shown levels fall.
    fn update(&mut self, telemetry: &Telemetry) {
        let now = std::time::Instant::now();
        let fall = self.last.map_or(0.0, |last| (now - last).as_secs_f32() * FALL_DB_PER_SECOND);
        self.last = Some(now);
        let peaks = telemetry.take_peaks();
        for (shown, peak) in self.input.iter_mut().zip(peaks.input).chain(self.output.iter_mut().zip(peaks.output)) {
            *shown = (*shown - fall).max(decibels(peak)).max(FLOOR_DB);
        }
    }

    /// Shows the meters and the telemetry.
    pub(super) fn show(&mut self, ui: &mut Ui, telemetry: Option<&Telemetry>, sample_rate: f32) {
        ui.strong("Meters");
        let Some(telemetry) = telemetry else {
            ui.label(RichText::new("Not processing (the host has not activated the plugin).").weak());
            return;
        };
        self.update(telemetry);
        ui.horizontal(|ui| {
            bars(ui, "in", &self.input);
            ui.add_space(12.0);
            bars(ui, "out", &self.output);
        });
        let (colour, words) = state_label(telemetry.state());
        egui::Grid::new("worklet-telemetry").num_columns(2).show(ui, |ui| {
            ui.label("state");
            ui.label(RichText::new(format!("{words} (generation {})", telemetry.active_generation())).color(colour));
            ui.end_row();
            ui.label("render load");
            ui.label(format!("{:.1} %", telemetry.load() * 100.0));
            ui.end_row();
            ui.label("underruns");
            ui.label(telemetry.underruns().to_string());
            ui.end_row();
            ui.label("dropped messages");
            ui.label(telemetry.dropped_messages().to_string());
            ui.end_row();
            ui.label("dropped MIDI events");
            ui.label(telemetry.dropped_events().to_string());
            ui.end_row();
            ui.label("NaN/Inf samples silenced");
            ui.label(telemetry.nonfinite_samples().to_string());
            ui.end_row();
            ui.label("latency");
            let frames = telemetry.latency_frames();
            ui.label(format!("{frames} frames ({:.1} ms)", frames as f32 / sample_rate.max(1.0) * 1e3));
            ui.end_row();
            let (transport, position) = transport_text(telemetry.transport().as_ref());
            ui.label("transport");
            ui.label(transport);
            ui.end_row();
            ui.label("position");
            ui.label(position);
            ui.end_row();
        });
    }
}

/// The host's transport in two short lines: `120.0 BPM 4/4, playing` and
/// `bar 3 beat 2.50` (the meters panel stays narrow).
pub(super) fn transport_text(transport: Option<&crate::engine::Transport>) -> (String, String) {
    let Some(t) = transport else { return ("none".to_owned(), "(the host reports no tempo)".to_owned()) };
    let per_bar = f64::from(t.numerator) * 4.0 / f64::from(t.denominator.max(1));
    let bar_start = t.bar as f64 * per_bar;
    let beat = (t.beats - bar_start) * f64::from(t.denominator) / 4.0 + 1.0;
    let state = match (t.playing, t.recording) {
        (_, true) => "recording",
        (true, false) => "playing",
        (false, false) => "stopped",
    };
    let looping = if t.looping { ", looping" } else { "" };
    (
        format!("{:.1} BPM {}/{}, {state}{looping}", t.tempo, t.numerator, t.denominator),
        format!("bar {} beat {beat:.2}", t.bar + 1),
    )
}

fn bars(ui: &mut Ui, label: &str, levels: &[f32]) {
    ui.vertical(|ui| {
        ui.label(RichText::new(label).small());
        for &db in levels {
            let (rect, _) = ui.allocate_exact_size(vec2(90.0, 8.0), Sense::hover());
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, 1.0, Color32::from_gray(30));
            let fill = (db - FLOOR_DB) / -FLOOR_DB;
            let colour = if db > -0.5 {
                super::code::ERROR_MARK
            } else if db > -6.0 {
                Color32::from_rgb(229, 192, 123)
            } else {
                Color32::from_rgb(106, 190, 85)
            };
            let bar = egui::Rect::from_min_max(rect.min, pos2(rect.left() + rect.width() * fill, rect.bottom()));
            painter.rect_filled(bar, 1.0, colour);
        }
        let shown = levels.iter().copied().fold(FLOOR_DB, f32::max);
        let text = if shown <= FLOOR_DB { "-∞ dB".to_owned() } else { format!("{shown:.1} dB") };
        ui.label(RichText::new(text).small().monospace());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_reads_in_bars_and_beats() {
        let t = crate::engine::Transport {
            playing: true,
            tempo: 120.0,
            numerator: 4,
            denominator: 4,
            beats: 9.5,
            bar: 2,
            ..Default::default()
        };
        let text = |t: Option<&crate::engine::Transport>| {
            let (a, b) = transport_text(t);
            format!("{a} | {b}")
        };
        assert_eq!(text(Some(&t)), "120.0 BPM 4/4, playing | bar 3 beat 2.50");
        let six_eight = crate::engine::Transport { numerator: 6, denominator: 8, beats: 3.0, bar: 1, ..t };
        assert_eq!(text(Some(&six_eight)), "120.0 BPM 6/8, playing | bar 2 beat 1.00");
        assert_eq!(text(None), "none | (the host reports no tempo)");
    }

    #[test]
    fn decibels_are_floored() {
        assert!((decibels(1.0)).abs() < 1e-6);
        assert!((decibels(0.5) + 6.0206).abs() < 1e-3);
        assert_eq!(decibels(0.0), FLOOR_DB);
        assert_eq!(decibels(1e-9), FLOOR_DB);
    }
}
