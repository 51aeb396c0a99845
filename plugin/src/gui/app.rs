//! The editor's window (GUI thread): lays out the panels and handles the
//! shortcuts: Ctrl+Enter or Ctrl+S applies, Ctrl+F finds, Ctrl+= / Ctrl+-
//! change the font size.

use std::sync::Arc;
use std::time::Duration;

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui, vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{NiceEguiApp, baseview};

use super::code::{self, CodeView};
use super::console::ConsolePanel;
use super::keyboard::Keyboard;
use super::meters::{Meters, state_label};
use super::session::Session;
use super::sidebar::Sidebar;
use crate::plugin::params::WorkletParams;
use crate::plugin::state::SavedState;
use crate::plugin::status::Status;
use crate::plugin::view::{MIN_SIZE, ViewState};

/// How often the window redraws for meters and the console.
const REFRESH: Duration = Duration::from_millis(33);
const APPLY: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const BIGGER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Equals);
const SMALLER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Minus);

/// The editor of one instance, alive while its window is open.
pub(super) struct EditorApp {
    params: Arc<WorkletParams>,
    status: Arc<Status>,
    gui: Option<GuiContext>,
    session: Session,
    view: ViewState,
    /// The view state last written to the persisted field.
    stored: ViewState,
    code: CodeView,
    console: ConsolePanel,
    sidebar: Sidebar,
    meters: Meters,
    keyboard: Keyboard,
    new_module: String,
}

impl EditorApp {
    /// Opens on the sources the control thread holds (or the saved state).
    pub(super) fn new(params: Arc<WorkletParams>, status: Arc<Status>) -> Self {
        let view = params.view.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let (revision, external) = status.external();
        let sources = external.unwrap_or_else(|| {
            let saved = params.state.text();
            SavedState::parse(&saved).unwrap_or_default().sources()
        });
        let mut session = Session::new(sources, revision);
        session.active = view.active_module.min(session.modules.len() - 1);
        Self {
            params,
            status,
            gui: None,
            session,
            stored: view.clone(),
            view,
            code: CodeView::focused(),
            console: ConsolePanel::default(),
            sidebar: Sidebar::default(),
            meters: Meters::default(),
            keyboard: Keyboard::default(),
            new_module: String::new(),
        }
    }

    fn apply(&mut self) {
        if !self.session.apply(&self.status) {
            self.status.log(crate::plugin::console::ConsoleLine::new(
                crate::plugin::console::LineKind::Error,
                "the control thread is not keeping up; apply again",
            ));
        }
    }

    fn shortcuts(&mut self, ui: &mut Ui) {
        let (apply, bigger, smaller) = ui.input_mut(|i| {
            let apply = i.consume_shortcut(&APPLY) | i.consume_shortcut(&SAVE);
            (apply, i.consume_shortcut(&BIGGER), i.consume_shortcut(&SMALLER))
        });
        if apply {
            self.apply();
        }
        if bigger {
            self.view.font_size = (self.view.font_size + 1.0).min(32.0);
        }
        if smaller {
            self.view.font_size = (self.view.font_size - 1.0).max(8.0);
        }
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading("Worklet");
            if ui.button("Apply").on_hover_text("Ctrl+Enter or Ctrl+S").clicked() {
                self.apply();
            }
            let good = self.status.good();
            let revert = ui.add_enabled(good.is_some(), egui::Button::new("Revert to last good"));
            if revert.on_hover_text("Put back the sources that last built, and apply them").clicked() {
                self.session.revert(&self.status);
                self.sidebar.reset();
            }
            ui.checkbox(&mut self.view.auto_apply, "Auto-apply").on_hover_text("Apply after a pause in typing");
            ui.add(egui::DragValue::new(&mut self.view.font_size).range(8.0..=32.0).speed(0.2).suffix(" pt"));
            ui.separator();
            if let Some(error) = self.status.error() {
                let short: String = error.chars().take(140).collect();
                ui.label(RichText::new(format!("Error: {short}")).color(code::ERROR_MARK));
            } else if let Some(processor) = self.status.processor() {
                let state = self.status.telemetry().map(|t| t.state());
                let (colour, words) = state.map_or((egui::Color32::GRAY, "idle"), state_label);
                ui.label(RichText::new(format!("'{processor}' {words}")).color(colour));
            }
            if self.session.dirty() {
                ui.label(RichText::new("edited").italics().weak());
            }
        });
    }

    fn tabs(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let mut remove = None;
            for (index, module) in self.session.modules.iter().enumerate() {
                let linked = if module.path.is_some() { " (linked)" } else { "" };
                if ui.selectable_label(index == self.session.active, format!("{}{linked}", module.name)).clicked() {
                    self.session.active = index;
                }
                if self.session.modules.len() > 1 && ui.small_button("×").on_hover_text("Remove this module").clicked()
                {
                    remove = Some(index);
                }
            }
            if let Some(index) = remove {
                self.session.remove_module(index);
            }
            ui.separator();
            ui.add(egui::TextEdit::singleline(&mut self.new_module).hint_text("dsp.js").desired_width(90.0));
            if ui.small_button("+ module").clicked() && self.session.add_module(&self.new_module) {
                self.new_module.clear();
            }
        });
    }

    fn store_view(&mut self) {
        self.view.active_module = self.session.active;
        if self.view != self.stored {
            self.stored = self.view.clone();
            *self.params.view.write().unwrap_or_else(std::sync::PoisonError::into_inner) = self.stored.clone();
        }
    }
}

impl Drop for EditorApp {
    /// Ends the notes the keyboard holds and stops the MIDI monitor.
    fn drop(&mut self) {
        self.keyboard.release_all(&self.status.keyboard);
        self.console.stop_monitor(&self.status);
    }
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        if self.session.sync(&self.status) {
            self.sidebar.reset();
        }
        self.shortcuts(ui);
        if self.view.auto_apply && self.session.pause_elapsed() {
            self.apply();
        }
        let status = self.status.clone();
        let telemetry = status.telemetry();
        let min = vec2(MIN_SIZE.0 as f32, MIN_SIZE.1 as f32);
        ResizableWindow::new("worklet-window").min_size(min).show(ui, |ui| {
            egui::Panel::top("worklet-top").show(ui, |ui| self.top_bar(ui));
            egui::Panel::left("worklet-side").resizable(true).default_size(230.0).show(ui, |ui| {
                let (edited, apply) = self.sidebar.show(ui, &mut self.session, &status);
                if edited {
                    self.session.edited();
                }
                if apply {
                    self.apply();
                }
            });
            egui::Panel::right("worklet-right").resizable(true).default_size(260.0).show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let setter = self.gui.as_ref().map(GuiContext::param_setter);
                    super::params::show(ui, &self.params, setter.as_ref());
                    ui.separator();
                    let rate = telemetry.as_ref().map_or(48_000.0, |t| t.sample_rate() as f32);
                    self.meters.show(ui, telemetry.as_deref(), rate);
                });
            });
            egui::Panel::bottom("worklet-console").resizable(true).default_size(200.0).show(ui, |ui| {
                self.console.show(ui, &status, &mut self.view.post_to_global, &mut self.view.plots);
            });
            egui::Panel::bottom("worklet-keyboard").resizable(false).show(ui, |ui| {
                self.keyboard.show(ui, &status.keyboard);
            });
            egui::CentralPanel::default().show(ui, |ui| {
                self.tabs(ui);
                let error = status.script_error();
                let module = &mut self.session.modules[self.session.active];
                let error = code::error_in(error.as_ref(), module);
                if code::show(ui, module, error, self.view.font_size, &mut self.code) {
                    self.session.edited();
                }
            });
        });
        self.store_view();
        ui.ctx().request_repaint_after(REFRESH);
    }

    fn resized(&mut self, new_size: baseview::WindowSize) {
        self.view.size = (new_size.logical.width.round() as u32, new_size.logical.height.round() as u32);
        self.store_view();
    }
}
