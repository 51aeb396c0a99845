//! The editor's view state, saved with the project (any thread; written by the
//! GUI thread): window size, font size, the tab shown, panel choices. It is part
//! of the plugin's persisted fields; the editor reads and updates it.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// Smallest window the editor lays out properly.
pub const MIN_SIZE: (u32, u32) = (720, 480);

/// What the editor looked like when it was last closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// Window size in logical pixels.
    pub size: (u32, u32),
    /// Code font size in points.
    pub font_size: f32,
    /// The module tab shown.
    pub active_module: usize,
    /// Apply after a typing pause.
    pub auto_apply: bool,
    /// The console's input posts to `audioWorklet.port` instead of `node.port`.
    pub post_to_global: bool,
    /// Draw messages that carry a Float32Array as plots.
    pub plots: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            size: (1100, 720),
            font_size: 13.0,
            active_module: 0,
            auto_apply: false,
            post_to_global: false,
            plots: true,
        }
    }
}

/// The view state shared by the plugin's persisted fields and the editor.
pub type SharedView = Arc<RwLock<ViewState>>;

impl ViewState {
    /// The size clamped to [`MIN_SIZE`] (a corrupt or hand-edited state stays usable).
    pub fn window_size(&self) -> (u32, u32) {
        (self.size.0.clamp(MIN_SIZE.0, 8192), self.size.1.clamp(MIN_SIZE.1, 8192))
    }
}

#[cfg(test)]
mod tests {
    use nice_plug::prelude::Params;

    use super::*;
    use crate::plugin::params::WorkletParams;

    #[test]
    fn the_view_is_saved_with_the_project_and_tolerates_odd_input() {
        let params = WorkletParams::default();
        params.view.write().unwrap().size = (1300, 900);
        let fields = params.serialize_fields();
        let saved = fields.get("worklet-view").expect("the view is a persisted field");
        let restored = WorkletParams::default();
        restored.deserialize_fields(&fields);
        assert_eq!(restored.view.read().unwrap().size, (1300, 900), "{saved}");

        let partial: ViewState = serde_json::from_str(r#"{"font_size": 16.0}"#).unwrap();
        assert_eq!((partial.font_size, partial.size), (16.0, ViewState::default().size));
        let tiny = ViewState { size: (10, 99_999), ..ViewState::default() };
        assert_eq!(tiny.window_size(), (MIN_SIZE.0, 8192));
    }
}
