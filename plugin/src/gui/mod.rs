//! The editor (egui, GUI thread): the browser's main thread and devtools in one.
//!
//! It edits the project's modules (syntax highlighting, line numbers, undo,
//! find, one tab per module), applies them with Ctrl+Enter or Ctrl+S (or after a
//! typing pause) as a hot swap, marks the last error at its line, follows files
//! on disk, loads factory processors, edits the node's options, shows the
//! console and posts to `node.port` and `audioWorklet.port`, moves parameter
//! slots (recording host automation), and shows meters and telemetry.
//!
//! It builds on the plugin's control side ([`crate::plugin::status`]): requests
//! go into a bounded queue the control thread drains, and everything it shows
//! is read from atomics or copied out under short locks. It never waits on the
//! render or audio threads.

mod app;
mod code;
mod console;
mod event_text;
pub mod highlight;
mod keyboard;
mod meters;
mod params;
pub mod session;
mod sidebar;

use std::error::Error;
use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::NativeSize;
use nice_plug::editor::dpi::{LogicalSize, Size};
use nice_plug::editor::{HostMethods, SpawnedEditor};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditorHandle, EguiEditorState, EguiNiceSettings, RepaintNotifier, create_egui_editor};

use self::app::EditorApp;
use crate::plugin::params::WorkletParams;
use crate::plugin::status::Status;
use crate::plugin::view::{MIN_SIZE, ViewState};

/// The editor the plugin hands to the host. Each time the host opens it, a
/// window of the saved size is made; resizing updates the saved view state.
pub struct WorkletEditor {
    params: Arc<WorkletParams>,
    status: Arc<Status>,
    repaint: RepaintNotifier,
}

impl WorkletEditor {
    /// The editor of one plugin instance.
    pub fn new(params: Arc<WorkletParams>, status: Arc<Status>) -> Self {
        Self { params, status, repaint: RepaintNotifier::new() }
    }

    fn view(&self) -> ViewState {
        self.params.view.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn settings() -> EguiNiceSettings {
        let min = LogicalSize::new(MIN_SIZE.0 as f32, MIN_SIZE.1 as f32);
        EguiNiceSettings::new().with_tile("Worklet").with_resize_hint(ResizeHint::RESIZABLE.with_min_logical_size(min))
    }
}

impl Editor for WorkletEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let (width, height) = self.view().window_size();
        let state = EguiEditorState::from_size(LogicalSize::new(width, height), 1.0);
        let app = EditorApp::new(self.params.clone(), self.status.clone());
        let editor = create_egui_editor(state, self.repaint.clone(), Self::settings(), app)
            .ok_or("the editor could not be created")?;
        editor.spawn(parent, wait_for_parent, fallback_scale_factor, gui_context, host)
    }

    fn size(&self) -> NativeSize<u32> {
        let (width, height) = self.view().window_size();
        NativeSize::from_size(Size::Logical(LogicalSize::new(f64::from(width), f64::from(height))), 1.0)
    }

    fn resize_hint(&self) -> ResizeHint {
        Self::settings().resize_hint
    }
}
