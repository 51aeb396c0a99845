//! The console panel (GUI thread): messages from `node.port` and
//! `audioWorklet.port`, `console.*` output, processor errors, plots of float
//! arrays, and an input line that posts a JSON value to either port.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use egui::{Color32, Key, RichText, Sense, Stroke, Ui, pos2, vec2};
use serde_json::Value;

use crate::plugin::console::{ConsoleLine, LineKind};
use crate::plugin::status::{Request, Status};
use crate::port::{GLOBAL_PORT, NODE_PORT, wire};

/// Lines the panel keeps (as many as the control thread keeps).
const KEPT: usize = crate::plugin::status::CONSOLE_LINES;
/// Height of a message plot.
const PLOT_HEIGHT: f32 = 56.0;

/// The console panel's state.
#[derive(Debug, Default)]
pub(super) struct ConsolePanel {
    lines: VecDeque<ConsoleLine>,
    seen: u64,
    input: String,
    input_error: Option<String>,
    /// The MIDI monitor is on: events each way are shown as lines.
    monitor: bool,
    /// Events of the monitor read so far.
    midi_seen: u64,
    midi_scratch: Vec<crate::render::Seen>,
}

/// Parses what the user typed into a message: JSON in the wire format
/// (`{"$Float32Array": [1, 2]}` sends a typed array;
/// `{"$WebAssembly.Module": "@/path/dsp.wasm"}` a module read from that file, a
/// relative path being relative to the home folder).
pub(super) fn parse_input(text: &str) -> Result<Value, String> {
    let mut value: Value = serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).unwrap_or_default();
    wire::read_module_files(&mut value, std::path::Path::new(&home)).map_err(|e| format!("cannot read {e}"))?;
    wire::validate(&value).map_err(|e| e.to_string())?;
    Ok(value)
}

impl ConsolePanel {
    /// Takes the lines the control thread logged since the last frame.
    fn pull(&mut self, status: &Status) {
        if status.console_count.load(Ordering::Acquire) == self.seen {
            return;
        }
        let (lines, count) = status.console_since(self.seen);
        self.lines.extend(lines);
        while self.lines.len() > KEPT {
            self.lines.pop_front();
        }
        self.seen = count;
    }

    /// Takes the events the MIDI monitor recorded since the last frame.
    fn pull_midi(&mut self, telemetry: &crate::render::Telemetry) {
        let monitor = telemetry.monitor();
        if monitor.enabled() != self.monitor {
            monitor.set_enabled(self.monitor);
        }
        if !self.monitor {
            return;
        }
        let missed = monitor.read_since(&mut self.midi_seen, &mut self.midi_scratch);
        if missed > 0 {
            let text = format!("{missed} MIDI events not shown (the monitor fell behind)");
            self.lines.push_back(ConsoleLine::new(LineKind::Note, text));
        }
        for seen in self.midi_scratch.drain(..) {
            let text = super::event_text::describe(&seen);
            self.lines.push_back(ConsoleLine::new(LineKind::Midi { out: seen.out }, text));
        }
        while self.lines.len() > KEPT {
            self.lines.pop_front();
        }
    }

    /// Stops the MIDI monitor (the editor closes).
    pub(super) fn stop_monitor(&mut self, status: &Status) {
        self.monitor = false;
        if let Some(telemetry) = status.telemetry() {
            telemetry.monitor().set_enabled(false);
        }
    }

    /// Shows the panel; `post_to_global` chooses the input's port; `plots` draws
    /// float arrays.
    pub(super) fn show(&mut self, ui: &mut Ui, status: &Status, post_to_global: &mut bool, plots: &mut bool) {
        self.pull(status);
        if let Some(telemetry) = status.telemetry() {
            self.pull_midi(&telemetry);
        }
        ui.horizontal(|ui| {
            ui.strong("Console");
            ui.label(RichText::new(format!("{} lines", self.lines.len())).weak());
            if ui.small_button("Clear").clicked() {
                self.lines.clear();
            }
            ui.checkbox(plots, "Plot float arrays");
            ui.checkbox(&mut self.monitor, "Show MIDI")
                .on_hover_text("Show the notes, controllers and expressions the processor gets and sends");
        });
        self.input_row(ui, status, post_to_global);
        egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
            for line in &self.lines {
                ui.label(RichText::new(line.to_string()).monospace().color(colour(&line.kind)));
                if let Some(samples) = line.plot.as_deref().filter(|_| *plots) {
                    plot(ui, samples);
                }
            }
        });
    }

    fn input_row(&mut self, ui: &mut Ui, status: &Status, post_to_global: &mut bool) {
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("worklet-post-target")
                .selected_text(if *post_to_global { "audioWorklet.port" } else { "node.port" })
                .show_ui(ui, |ui| {
                    ui.selectable_value(post_to_global, false, "node.port");
                    ui.selectable_value(post_to_global, true, "audioWorklet.port");
                });
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.input)
                    .id_salt("worklet-post-input")
                    .hint_text("JSON to post, e.g. \"ping\"")
                    .code_editor()
                    .desired_width(ui.available_width() - 60.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button("Post").clicked() || entered {
                match parse_input(&self.input) {
                    Ok(data) => {
                        let port = if *post_to_global { GLOBAL_PORT } else { NODE_PORT };
                        self.input_error =
                            (!status.request(Request::Post { port, data })).then(|| "too many requests queued".into());
                        if self.input_error.is_none() {
                            self.input.clear();
                        }
                    }
                    Err(error) => self.input_error = Some(error),
                }
                if entered {
                    field.request_focus();
                }
            }
        });
        if let Some(error) = &self.input_error {
            ui.label(RichText::new(error).color(super::code::ERROR_MARK));
        }
    }
}

fn colour(kind: &LineKind) -> Color32 {
    match kind {
        LineKind::Received(_) => Color32::from_rgb(156, 220, 254),
        LineKind::Sent(_) => Color32::from_rgb(150, 150, 150),
        LineKind::Console(level) if level == "warn" => Color32::from_rgb(229, 192, 123),
        LineKind::Console(level) if level == "error" => super::code::ERROR_MARK,
        LineKind::Console(_) => Color32::from_rgb(212, 212, 212),
        LineKind::Error => super::code::ERROR_MARK,
        LineKind::Note => Color32::from_rgb(181, 206, 168),
        LineKind::Midi { out: false } => Color32::from_rgb(197, 134, 192),
        LineKind::Midi { out: true } => Color32::from_rgb(220, 170, 215),
    }
}

/// A small line plot of `samples`, scaled to their peak (at least ±1e-6).
fn plot(ui: &mut Ui, samples: &[f32]) {
    let width = ui.available_width().min(480.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, PLOT_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    painter.line_segment(
        [pos2(rect.left(), rect.center().y), pos2(rect.right(), rect.center().y)],
        (1.0, Color32::from_gray(60)),
    );
    let peak = samples.iter().filter(|x| x.is_finite()).fold(1e-6_f32, |p, x| p.max(x.abs()));
    let n = samples.len().max(2) - 1;
    let points: Vec<egui::Pos2> = samples
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let y = if x.is_finite() { x / peak } else { 0.0 };
            pos2(rect.left() + rect.width() * i as f32 / n as f32, rect.center().y - y * (rect.height() / 2.0 - 2.0))
        })
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(1.2, Color32::from_rgb(78, 201, 176))));
    painter.text(
        rect.right_top() + vec2(-4.0, 2.0),
        egui::Align2::RIGHT_TOP,
        format!("±{peak:.3}"),
        egui::FontId::monospace(10.0),
        Color32::from_gray(140),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_wire_json() {
        assert_eq!(parse_input(" \"ping\" ").unwrap(), Value::from("ping"));
        assert!(parse_input("{\"$Float32Array\": [1, 2]}").is_ok());
        assert!(parse_input("ping").unwrap_err().starts_with("not JSON"));
        assert!(parse_input("{\"$nope\": 1}").unwrap_err().contains("malformed"));
        let wasm = std::env::temp_dir().join(format!("worklet-console-{}.wasm", std::process::id()));
        std::fs::write(&wasm, b"\0asm\x01\0\0\0").unwrap();
        let typed = format!("{{\"$WebAssembly.Module\": \"@{}\"}}", wasm.display());
        assert_eq!(parse_input(&typed).unwrap(), serde_json::json!({"$WebAssembly.Module": "AGFzbQEAAAA="}));
        std::fs::remove_file(&wasm).unwrap();
        assert!(parse_input("{\"$WebAssembly.Module\": \"@/nonexistent/x.wasm\"}").unwrap_err().contains("x.wasm"));
    }

    #[test]
    fn new_lines_are_pulled_once_in_order() {
        let status = Status::default();
        let mut panel = ConsolePanel::default();
        status.log(ConsoleLine::new(LineKind::Note, "one"));
        status.log(ConsoleLine::new(LineKind::Note, "two"));
        panel.pull(&status);
        status.log(ConsoleLine::new(LineKind::Note, "three"));
        panel.pull(&status);
        panel.pull(&status);
        let texts: Vec<&str> = panel.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
    }
}
