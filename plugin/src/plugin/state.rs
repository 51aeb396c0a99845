//! The plugin's saved state (in the DAW project), its versioned JSON form, and
//! the factory default. Runs on whichever thread the host loads state on.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::render::{ModuleSource, Recipe};

/// Version of the saved-state format this build writes.
pub const STATE_VERSION: u32 = 1;

/// The processor a new instance plays: the factory gain (unity), so audio passes
/// through untouched until the user picks or writes something else.
pub const DEFAULT_MODULE: (&str, &str) = ("gain.js", crate::library::FACTORY[0].source);

/// One module as saved: its text, and the file it is linked to, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedModule {
    /// Module name (a relative path such as `main.js`).
    pub name: String,
    /// Its source text (kept even when linked, so a project opens without the file).
    pub text: String,
    /// A file on disk the module follows, if linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The folder a linked module's imports may read module files from (default:
    /// the linked file's own folder). Its relative imports resolve against the
    /// linked file's folder, as a browser resolves them against the file's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

impl SavedModule {
    /// A module kept in the project only.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), text: text.into(), path: None, root: None }
    }

    /// The folder its relative imports resolve against, if it follows a file.
    pub fn folder(&self) -> Option<PathBuf> {
        let path = Path::new(self.path.as_deref()?);
        Some(path.parent().unwrap_or(Path::new("/")).to_path_buf())
    }

    /// The folder its imports may read, if it follows a file.
    pub fn import_root(&self) -> Option<PathBuf> {
        self.root.as_deref().map(PathBuf::from).or_else(|| self.folder())
    }
}

/// Everything the plugin restores when a project is reopened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState {
    /// Format version.
    pub version: u32,
    /// Modules, evaluated in order.
    pub modules: Vec<SavedModule>,
    /// The processor to construct; `None` for the first registered.
    #[serde(default)]
    pub processor: Option<String>,
    /// `AudioWorkletNodeOptions` (wire format).
    #[serde(default)]
    pub options: Value,
    /// Host slot of each parameter name ever mapped (kept when a name disappears,
    /// so it gets its slot back if it returns).
    #[serde(default)]
    pub slots: Vec<(String, usize)>,
    /// Slots the host or the user has moved since they were mapped.
    #[serde(default)]
    pub touched: Vec<usize>,
}

/// What the editor edits and applies: the modules, the processor to construct
/// and its options. (Slot mappings stay with the control thread.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sources {
    /// Modules, evaluated in order.
    pub modules: Vec<SavedModule>,
    /// The processor to construct; `None` for the first registered.
    pub processor: Option<String>,
    /// `AudioWorkletNodeOptions` (wire format).
    pub options: Value,
}

impl Default for SavedState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            modules: vec![SavedModule::new(DEFAULT_MODULE.0, DEFAULT_MODULE.1)],
            processor: None,
            options: Value::Null,
            slots: Vec::new(),
            touched: Vec::new(),
        }
    }
}

impl SavedState {
    /// Parses saved JSON; an empty string is a new instance.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let state: Self = serde_json::from_str(text).map_err(|e| format!("the saved state is not valid: {e}"))?;
        if state.version > STATE_VERSION {
            return Err(format!(
                "the saved state has format version {}, newer than this Worklet understands ({STATE_VERSION})",
                state.version
            ));
        }
        if state.modules.is_empty() {
            return Err("the saved state has no modules".into());
        }
        if let Some(&(_, slot)) = state.slots.iter().find(|(_, slot)| *slot >= crate::render::PARAM_SLOTS) {
            return Err(format!("the saved state maps a parameter to slot {slot}, beyond the 64 slots"));
        }
        Ok(state)
    }

    /// The JSON saved in the project.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the state is plain data")
    }

    /// The editable part of the state.
    pub fn sources(&self) -> Sources {
        Sources { modules: self.modules.clone(), processor: self.processor.clone(), options: self.options.clone() }
    }

    /// Replaces the editable part; slot mappings are kept.
    pub fn set_sources(&mut self, sources: Sources) {
        self.modules = sources.modules;
        self.processor = sources.processor;
        self.options = sources.options;
    }

    /// The recipe that builds this state's processor.
    pub fn recipe(&self) -> Recipe {
        let mut module_roots: Vec<PathBuf> = Vec::new();
        for root in self.modules.iter().filter_map(SavedModule::import_root) {
            if !module_roots.contains(&root) {
                module_roots.push(root);
            }
        }
        Recipe {
            modules: self
                .modules
                .iter()
                .map(|m| ModuleSource { name: m.name.clone(), text: m.text.clone(), folder: m.folder() })
                .collect(),
            module_roots,
            processor: self.processor.clone(),
            options: self.options.clone(),
            slots: Some(self.slots.clone()),
        }
    }

    /// Takes the slot map a generation built (see [`crate::render::assign_slots`]);
    /// a slot given to a new name is no longer touched.
    pub fn adopt_slots(&mut self, map: &[(String, usize)]) {
        let reassigned: Vec<usize> = map.iter().filter(|entry| !self.slots.contains(entry)).map(|&(_, s)| s).collect();
        self.slots = map.to_vec();
        self.touched.retain(|t| !reassigned.contains(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_state_round_trips() {
        let state = SavedState::default();
        assert_eq!(SavedState::parse(&state.to_json()).unwrap(), state);
        assert_eq!(SavedState::parse("").unwrap(), state);
    }

    #[test]
    fn corrupt_or_foreign_state_is_an_error() {
        assert!(SavedState::parse("{").is_err());
        assert!(SavedState::parse(r#"{"version": 1, "modules": []}"#).is_err());
        assert!(
            SavedState::parse(r#"{"version": 99, "modules": [{"name": "a.js", "text": ""}]}"#)
                .unwrap_err()
                .contains("newer")
        );
        assert!(
            SavedState::parse(r#"{"version": 1, "modules": [{"name": "a.js", "text": ""}], "slots": [["x", 64]]}"#)
                .is_err()
        );
        assert!(
            SavedState::parse(r#"{"version": 1, "modules": [{"name": "a.js", "text": ""}], "surprise": 1}"#).is_err()
        );
    }

    #[test]
    fn adopting_a_map_untouches_reassigned_slots() {
        let mut state = SavedState {
            slots: vec![("gain".into(), 0), ("old".into(), 1)],
            touched: vec![0, 1],
            ..SavedState::default()
        };
        state.adopt_slots(&[("gain".into(), 0), ("new".into(), 1)]);
        assert_eq!(state.slots, [("gain".into(), 0), ("new".into(), 1)]);
        assert_eq!(state.touched, [0], "slot 1 now carries another parameter");
    }

    #[test]
    fn a_linked_module_imports_beside_its_file_inside_its_root() {
        let linked =
            SavedModule { path: Some("/home/me/project/synth/main.js".into()), ..SavedModule::new("main.js", "") };
        let wider = SavedModule { root: Some("/home/me/project".into()), ..linked.clone() };
        let state =
            SavedState { modules: vec![SavedModule::new("tab.js", ""), linked, wider], ..SavedState::default() };
        let recipe = state.recipe();
        assert_eq!(recipe.modules[0].folder, None, "an unlinked module resolves against its name");
        assert_eq!(recipe.modules[1].folder, Some(PathBuf::from("/home/me/project/synth")));
        assert_eq!(
            recipe.module_roots,
            [PathBuf::from("/home/me/project/synth"), PathBuf::from("/home/me/project")],
            "each linked file's folder, or the wider folder the user chose"
        );
        assert!(SavedState::default().recipe().module_roots.is_empty(), "nothing is read from disk by default");
    }
}
