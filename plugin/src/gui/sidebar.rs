//! The left panel (GUI thread): the factory library, the node (which processor
//! to construct, `processorOptions` and channel options) and the shown tab's
//! file on disk (open, link, unlink).

use egui::{RichText, Ui};
use serde_json::{Map, Value};

use super::session::Session;
use crate::engine::NodeOptions;
use crate::library::FACTORY;
use crate::plugin::status::Status;

/// The panel's own state: text fields that are applied once they parse.
#[derive(Debug, Default)]
pub(super) struct Sidebar {
    picked: Option<&'static str>,
    processor_options: Option<String>,
    output_channels: Option<String>,
    options_error: Option<String>,
    path: String,
    /// The import-root field, and the tab and folder it was filled from.
    root: Option<(usize, String, String)>,
    file_error: Option<String>,
}

impl Sidebar {
    /// Forgets the text fields (the session's options were replaced).
    pub(super) fn reset(&mut self) {
        self.processor_options = None;
        self.output_channels = None;
        self.options_error = None;
    }

    /// Shows the panel. Returns whether options were edited (applied like code)
    /// and whether the session must be applied now (processor picked, file
    /// opened or linked).
    pub(super) fn show(&mut self, ui: &mut Ui, session: &mut Session, status: &Status) -> (bool, bool) {
        let (mut edited, mut apply) = (false, false);
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            egui::CollapsingHeader::new("Library").default_open(true).show(ui, |ui| self.library(ui, session, status));
            egui::CollapsingHeader::new("Node").default_open(true).show(ui, |ui| {
                let (e, a) = self.node(ui, session, status);
                (edited, apply) = (edited | e, apply | a);
            });
            egui::CollapsingHeader::new("File").default_open(true).show(ui, |ui| apply |= self.file(ui, session));
        });
        (edited, apply)
    }

    fn library(&mut self, ui: &mut Ui, session: &mut Session, status: &Status) {
        for entry in FACTORY {
            let selected = self.picked == Some(entry.file);
            if ui.selectable_label(selected, entry.file).on_hover_text(first_comment(entry.source)).clicked() {
                self.picked = Some(entry.file);
            }
        }
        if let Some(file) = self.picked {
            let warning = if session.dirty() { " (replaces unapplied edits)" } else { "" };
            if ui.button(format!("Load {file}{warning}")).clicked() && session.load_factory(file, status) {
                self.reset();
            }
        }
    }

    fn node(&mut self, ui: &mut Ui, session: &mut Session, status: &Status) -> (bool, bool) {
        let (mut changed, mut picked) = (false, false);
        let registered = status.registered();
        let shown = session.processor.clone().unwrap_or_else(|| "(first registered)".into());
        ui.label("processor");
        egui::ComboBox::from_id_salt("worklet-processor").selected_text(shown).show_ui(ui, |ui| {
            picked |= ui.selectable_value(&mut session.processor, None, "(first registered)").changed();
            for name in registered {
                picked |= ui.selectable_value(&mut session.processor, Some(name.clone()), name).changed();
            }
        });
        let mut options = session.options.as_object().cloned().unwrap_or_default();
        ui.label("processorOptions (JSON)");
        let text = self.processor_options.get_or_insert_with(|| {
            options
                .get("processorOptions")
                .map_or_else(String::new, |v| serde_json::to_string_pretty(v).unwrap_or_default())
        });
        let edited = ui.add(egui::TextEdit::multiline(text).code_editor().desired_rows(3)).changed();
        let mut counts = [("numberOfInputs", 1), ("numberOfOutputs", 1), ("channelCount", 2)]
            .map(|(key, default)| (key, options.get(key).and_then(Value::as_u64).unwrap_or(default)));
        let mut counts_edited = false;
        egui::Grid::new("worklet-channels").num_columns(2).show(ui, |ui| {
            for (key, value) in &mut counts {
                ui.label(*key);
                counts_edited |= ui.add(egui::DragValue::new(value).range(0..=32)).changed();
                ui.end_row();
            }
            ui.label("outputChannelCount");
            let channels = self.output_channels.get_or_insert_with(|| {
                options.get("outputChannelCount").map_or_else(String::new, |v| {
                    v.as_array()
                        .map_or_else(String::new, |a| a.iter().map(Value::to_string).collect::<Vec<_>>().join(", "))
                })
            });
            counts_edited |=
                ui.add(egui::TextEdit::singleline(channels).hint_text("e.g. 2").desired_width(80.0)).changed();
            ui.end_row();
        });
        if edited || counts_edited {
            match self.compose(&mut options, &counts) {
                Ok(()) => {
                    session.options = Value::Object(options);
                    self.options_error = None;
                    changed = true;
                }
                Err(error) => self.options_error = Some(error),
            }
        }
        if let Some(error) = &self.options_error {
            ui.label(RichText::new(error).color(super::code::ERROR_MARK));
        }
        (changed, picked)
    }

    /// Writes the fields into `options` if they parse and make valid node options.
    fn compose(&self, options: &mut Map<String, Value>, counts: &[(&str, u64); 3]) -> Result<(), String> {
        let text = self.processor_options.as_deref().unwrap_or_default().trim();
        if text.is_empty() {
            options.remove("processorOptions");
        } else {
            let value: Value = serde_json::from_str(text).map_err(|e| format!("processorOptions: {e}"))?;
            options.insert("processorOptions".into(), value);
        }
        for (key, value) in counts {
            options.insert((*key).into(), Value::from(*value));
        }
        let channels = self.output_channels.as_deref().unwrap_or_default();
        if channels.trim().is_empty() {
            options.remove("outputChannelCount");
        } else {
            let list: Result<Vec<Value>, _> =
                channels.split(',').map(|c| c.trim().parse::<u32>().map(Value::from)).collect();
            let list = list.map_err(|_| "outputChannelCount: a list of channel counts, e.g. 2 or 1, 2".to_owned())?;
            options.insert("outputChannelCount".into(), Value::Array(list));
        }
        NodeOptions::from_json(&Value::Object(options.clone())).map_err(|e| format!("{}: {}", e.name, e.message))?;
        Ok(())
    }

    fn file(&mut self, ui: &mut Ui, session: &mut Session) -> bool {
        let module = &session.modules[session.active];
        match &module.path {
            Some(path) => ui.label(RichText::new(format!("{} follows {path}", module.name)).small()),
            None => ui.label(RichText::new(format!("{} is kept in the project only", module.name)).small()),
        };
        ui.add(egui::TextEdit::singleline(&mut self.path).hint_text("/path/to/processor.js"));
        let mut changed = false;
        ui.horizontal(|ui| {
            let open = ui.button("Open").on_hover_text("Copy the file into this tab");
            let link = ui.button("Link").on_hover_text("Follow the file: saving it in any editor reloads");
            if open.clicked() || link.clicked() {
                match session.open_file(self.path.trim(), link.clicked()) {
                    Ok(()) => {
                        self.file_error = None;
                        changed = true;
                    }
                    Err(error) => self.file_error = Some(error),
                }
            }
            if session.modules[session.active].path.is_some() && ui.button("Unlink").clicked() {
                session.unlink();
                changed = true;
            }
        });
        if let Some(current) = session.modules[session.active].import_root() {
            let current = current.display().to_string();
            let stale = self.root.as_ref().is_none_or(|(tab, from, _)| *tab != session.active || *from != current);
            if stale {
                self.root = Some((session.active, current.clone(), current));
            }
            let Some((_, _, root)) = self.root.as_mut() else { return changed };
            ui.label(RichText::new("Imports may read module files under").small());
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(root).desired_width(170.0));
                if ui.button("Set").on_hover_text("A folder that holds the linked file").clicked() {
                    match session.set_import_root(root.trim()) {
                        Ok(()) => {
                            self.file_error = None;
                            changed = true;
                        }
                        Err(error) => self.file_error = Some(error),
                    }
                }
            });
        } else {
            self.root = None;
        }
        if let Some(error) = &self.file_error {
            ui.label(RichText::new(error).color(super::code::ERROR_MARK));
        }
        changed
    }
}

/// The first comment line of a processor, as its description.
fn first_comment(source: &str) -> String {
    source.lines().find_map(|l| l.trim().strip_prefix("//").map(str::trim)).unwrap_or_default().to_owned()
}
