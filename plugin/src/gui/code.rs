//! The code editor widget (GUI thread): a monospace text edit with syntax
//! highlighting, line numbers, the last error marked at its line, find, and
//! egui's undo/redo (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y).

use std::sync::Arc;

use egui::text::{CCursor, CCursorRange, LayoutJob};
use egui::{Align, Color32, FontId, Galley, Id, Key, Modifiers, Rect, RichText, TextFormat, Ui, Vec2, pos2, vec2};

use super::highlight::{Token, tokens};
use crate::engine::ScriptError;
use crate::plugin::state::SavedModule;

/// Background of the line with the error.
pub(super) const ERROR_LINE: Color32 = Color32::from_rgb(110, 28, 28);
/// The marker in the gutter of the error line.
pub(super) const ERROR_MARK: Color32 = Color32::from_rgb(235, 64, 52);
const MATCH: Color32 = Color32::from_rgb(92, 82, 28);

/// Editor state that outlives a frame: find, and where to scroll.
#[derive(Debug, Default)]
pub(super) struct CodeView {
    /// The find bar is open.
    pub(super) find_open: bool,
    /// The text to find.
    pub(super) find: String,
    /// Select this char range and scroll to it on the next frame.
    select: Option<(usize, usize)>,
    focus_find: bool,
    /// Give the text keyboard focus on the next frame.
    pub(super) focus_text: bool,
}

impl CodeView {
    /// A view whose text takes the keyboard focus on the first frame.
    pub(super) fn focused() -> Self {
        Self { focus_text: true, ..Self::default() }
    }

    /// Selects line `line` (1-based), column `col`, on the next frame.
    pub(super) fn jump_to(&mut self, text: &str, line: u32, col: u32) {
        let start = char_index_of(text, line, col.max(1));
        self.select = Some((start, start));
        self.focus_text = true;
    }
}

/// The error of `module`, if the last one happened in it.
pub(super) fn error_in<'e>(error: Option<&'e ScriptError>, module: &SavedModule) -> Option<&'e ScriptError> {
    error.filter(|e| e.lineno > 0 && (e.filename == module.name || e.filename.ends_with(&format!("/{}", module.name))))
}

/// Shows the editor for `module`; returns whether the text changed.
pub(super) fn show(
    ui: &mut Ui,
    module: &mut SavedModule,
    error: Option<&ScriptError>,
    font_size: f32,
    view: &mut CodeView,
) -> bool {
    if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
        view.find_open = true;
        view.focus_find = true;
    }
    let id = Id::unique(("worklet-code", &module.name));
    if view.find_open {
        find_bar(ui, &module.text, id, view);
    }
    if let Some(error) = error {
        error_bar(ui, error, &module.text, view);
    }
    let font = FontId::monospace(font_size);
    let error_line = error.map(|e| e.lineno);
    let find = view.find.clone();
    let mut layouter = |ui: &Ui, text: &dyn egui::TextBuffer, _wrap: f32| -> Arc<Galley> {
        let job = layout(text.as_str(), &font, error_line, view.find_open.then_some(find.as_str()));
        ui.fonts_mut(|f| f.layout_job(job))
    };
    let gutter = gutter_width(ui, &module.text, font_size);
    let mut changed = false;
    egui::ScrollArea::both().id_salt(id).auto_shrink([false, false]).show(ui, |ui| {
        ui.horizontal_top(|ui| {
            ui.add_space(gutter);
            let output = egui::TextEdit::multiline(&mut module.text)
                .id(id)
                .code_editor()
                .lock_focus(true)
                .desired_width(f32::INFINITY)
                .desired_rows(30)
                .frame(egui::Frame::NONE)
                .layouter(&mut layouter)
                .show(ui);
            changed = output.response.changed();
            if view.focus_text {
                output.response.request_focus();
                view.focus_text = false;
            }
            if let Some((start, end)) = view.select.take() {
                let mut state = output.state.clone();
                state.cursor.set_char_range(Some(CCursorRange::two(CCursor::new(start), CCursor::new(end))));
                state.store(ui.ctx(), id);
                let cursor = output.galley.pos_from_cursor(CCursor::new(start));
                let rect = cursor.translate(output.galley_pos.to_vec2()).expand2(vec2(40.0, 60.0));
                ui.scroll_to_rect(rect, Some(Align::Center));
            }
            paint_gutter(ui, &output.galley, output.galley_pos, gutter, font_size, error_line);
        });
    });
    changed
}

fn find_bar(ui: &mut Ui, text: &str, id: Id, view: &mut CodeView) {
    ui.horizontal(|ui| {
        ui.label("Find");
        let field = ui.add(egui::TextEdit::singleline(&mut view.find).desired_width(220.0));
        if std::mem::take(&mut view.focus_find) {
            field.request_focus();
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        let count = if view.find.is_empty() { 0 } else { text.matches(view.find.as_str()).count() };
        ui.label(RichText::new(format!("{count} found")).weak());
        if (ui.button("Next").clicked() || entered) && count > 0 {
            let from = egui::TextEdit::load_state(ui.ctx(), id)
                .and_then(|s| s.cursor.char_range())
                .map_or(0, |r| r.primary.index.max(r.secondary.index).into());
            if let Some(start) = next_match(text, &view.find, from) {
                view.select = Some((start, start + view.find.chars().count()));
            }
            if entered {
                view.focus_find = true;
            }
        }
        if ui.button("Close").clicked() || ui.input(|i| i.key_pressed(Key::Escape)) {
            view.find_open = false;
            view.focus_text = true;
        }
    });
}

/// Char index of the next occurrence of `needle` at or after char `from`, wrapping.
pub(super) fn next_match(text: &str, needle: &str, from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let byte_from = text.char_indices().nth(from).map_or(text.len(), |(b, _)| b);
    let found = text[byte_from..].find(needle).map(|b| b + byte_from).or_else(|| text.find(needle))?;
    Some(text[..found].chars().count())
}

/// Char index of `line`:`col` (1-based), clamped to the text.
pub(super) fn char_index_of(text: &str, line: u32, col: u32) -> usize {
    let mut index = 0;
    for (n, content) in text.split('\n').enumerate() {
        let length = content.chars().count();
        if n + 1 == line as usize {
            return index + (col as usize).saturating_sub(1).min(length);
        }
        index += length + 1;
    }
    text.chars().count()
}

fn error_bar(ui: &mut Ui, error: &ScriptError, text: &str, view: &mut CodeView) {
    egui::Frame::NONE.fill(ERROR_LINE).inner_margin(6.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let label = RichText::new(error.to_string()).color(Color32::WHITE).monospace();
        if ui.add(egui::Label::new(label).sense(egui::Sense::click())).on_hover_text("Go to the line").clicked() {
            view.jump_to(text, error.lineno, error.colno);
        }
    });
}

fn gutter_width(ui: &Ui, text: &str, font_size: f32) -> f32 {
    let digits = (text.lines().count().max(1).ilog10() + 1).max(3) as f32;
    let glyph = ui.fonts_mut(|f| f.glyph_width(&FontId::monospace(font_size), '0'));
    glyph * digits + 18.0
}

/// Line numbers beside each line's first row; the error line's in red with a mark.
fn paint_gutter(ui: &Ui, galley: &Galley, origin: egui::Pos2, gutter: f32, font_size: f32, error: Option<u32>) {
    let painter = ui.painter();
    let font = FontId::monospace(font_size);
    let weak = ui.visuals().weak_text_color();
    let mut line = 1u32;
    let mut starts_line = true;
    for row in &galley.rows {
        if starts_line {
            let y = origin.y + row.pos.y;
            let right = origin.x - 8.0;
            let is_error = error == Some(line);
            let color = if is_error { ERROR_MARK } else { weak };
            painter.text(pos2(right, y), egui::Align2::RIGHT_TOP, line.to_string(), font.clone(), color);
            if is_error {
                let height = row.rect().height();
                let mark = Rect::from_min_size(pos2(origin.x - gutter, y), Vec2::new(4.0, height));
                painter.rect_filled(mark, 0.0, ERROR_MARK);
            }
            line += 1;
        }
        starts_line = row.ends_with_newline;
    }
}

/// The coloured layout of `text`: tokens, the error line's background and the
/// find matches.
pub(super) fn layout(text: &str, font: &FontId, error_line: Option<u32>, find: Option<&str>) -> LayoutJob {
    let mut job = LayoutJob::default();
    job.wrap.max_width = f32::INFINITY;
    let error_range = error_line.and_then(|line| line_range(text, line));
    let matches: Vec<(usize, usize)> = match find.filter(|f| !f.is_empty()) {
        Some(needle) => text.match_indices(needle).map(|(b, m)| (b, b + m.len())).collect(),
        None => Vec::new(),
    };
    for (range, token) in tokens(text) {
        // Split each token where the background changes.
        let mut cuts = vec![range.start, range.end];
        for &(a, b) in matches.iter().chain(error_range.as_ref()) {
            cuts.extend([a, b].into_iter().filter(|&c| c > range.start && c < range.end));
        }
        cuts.sort_unstable();
        cuts.dedup();
        for pair in cuts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let background = if matches.iter().any(|&(s, e)| s <= a && b <= e) {
                MATCH
            } else if error_range.is_some_and(|(s, e)| s <= a && b <= e) {
                ERROR_LINE
            } else {
                Color32::TRANSPARENT
            };
            let format = TextFormat { font_id: font.clone(), color: colour(token), background, ..Default::default() };
            job.append(&text[a..b], 0.0, format);
        }
    }
    job
}

/// Byte range of line `line` (1-based), newline included.
fn line_range(text: &str, line: u32) -> Option<(usize, usize)> {
    let mut start = 0;
    for (n, content) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line as usize {
            return Some((start, start + content.len()));
        }
        start += content.len();
    }
    None
}

fn colour(token: Token) -> Color32 {
    match token {
        Token::Comment => Color32::from_rgb(106, 153, 85),
        Token::Str => Color32::from_rgb(206, 145, 120),
        Token::Number => Color32::from_rgb(181, 206, 168),
        Token::Keyword => Color32::from_rgb(197, 134, 192),
        Token::Builtin => Color32::from_rgb(78, 201, 176),
        Token::Plain => Color32::from_rgb(212, 212, 212),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_to_char_indices() {
        let text = "ab\ncdé\nf";
        assert_eq!(char_index_of(text, 1, 1), 0);
        assert_eq!(char_index_of(text, 2, 3), 5);
        assert_eq!(char_index_of(text, 2, 99), 6, "clamped to the line");
        assert_eq!(char_index_of(text, 9, 1), 8, "clamped to the text");
        assert_eq!(next_match(text, "é", 0), Some(5));
        assert_eq!(next_match("x y x", "x", 1), Some(4));
        assert_eq!(next_match("x y x", "x", 5), Some(0), "wraps around");
        assert_eq!(next_match("x", "", 0), None);
    }

    #[test]
    fn the_error_line_and_matches_get_backgrounds() {
        let text = "let a = 1;\nlet b = (;\nlet c = 3;\n";
        let job = layout(text, &FontId::monospace(12.0), Some(2), Some("c"));
        let on = |background: Color32| -> String {
            job.sections
                .iter()
                .filter(|s| s.format.background == background)
                .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
                .collect()
        };
        assert_eq!(on(ERROR_LINE), "let b = (;\n");
        assert_eq!(on(MATCH), "c");
        assert_eq!(job.text, text);
        let module = SavedModule::new("main.js", text);
        let error = ScriptError::new("SyntaxError", "x").or_at("main.js", 2, 10);
        assert!(error_in(Some(&error), &module).is_some());
        let other = SavedModule { name: "dsp.js".into(), ..module };
        assert!(error_in(Some(&error), &other).is_none());
    }
}
