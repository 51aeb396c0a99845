//! What the editor is editing (GUI thread): the module buffers, the processor
//! and node options to apply, and how they relate to what the control thread
//! holds. It talks to the control thread only through [`Status`] requests, so
//! nothing here waits.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::plugin::state::{SavedModule, Sources};
use crate::plugin::status::{Request, Status};

/// Typing pause after which auto-apply applies.
pub const AUTO_APPLY_PAUSE: Duration = Duration::from_millis(700);

/// The editor's copy of the sources.
#[derive(Debug, Clone)]
pub struct Session {
    /// The modules, one tab each.
    pub modules: Vec<SavedModule>,
    /// The tab shown.
    pub active: usize,
    /// The processor to construct (`None`: the first registered).
    pub processor: Option<String>,
    /// `AudioWorkletNodeOptions` (wire format).
    pub options: Value,
    /// What was last applied (or received from the control thread).
    applied: Sources,
    /// The control thread's revision last taken.
    revision: u64,
    /// When the text last changed without being applied.
    edited: Option<Instant>,
}

impl Session {
    /// A session showing `sources`, as of `revision`.
    pub fn new(sources: Sources, revision: u64) -> Self {
        Self {
            modules: sources.modules.clone(),
            active: 0,
            processor: sources.processor.clone(),
            options: sources.options.clone(),
            applied: sources,
            revision,
            edited: None,
        }
    }

    /// The sources as edited.
    pub fn sources(&self) -> Sources {
        Sources { modules: self.modules.clone(), processor: self.processor.clone(), options: self.options.clone() }
    }

    /// Whether there are edits not applied yet.
    pub fn dirty(&self) -> bool {
        self.modules != self.applied.modules
            || self.processor != self.applied.processor
            || self.options != self.applied.options
    }

    /// Notes that the text changed now (for auto-apply).
    pub fn edited(&mut self) {
        self.edited = Some(Instant::now());
    }

    /// Whether auto-apply should apply now: edits, and a typing pause.
    pub fn pause_elapsed(&self) -> bool {
        self.dirty() && self.edited.is_some_and(|at| at.elapsed() >= AUTO_APPLY_PAUSE)
    }

    /// Sends the edited sources to be built (hot swap). Returns false if the
    /// request queue is full.
    pub fn apply(&mut self, status: &Status) -> bool {
        self.edited = None;
        let sources = self.sources();
        let sent = status.request(Request::Apply(sources.clone()));
        if sent {
            self.applied = sources;
        }
        sent
    }

    /// Takes sources the control thread changed outside the editor (a project
    /// loaded by the host, a linked file saved elsewhere). Returns whether it did.
    /// A control thread restarted on what the editor last applied (the host
    /// re-activating the plugin) leaves unapplied edits alone.
    pub fn sync(&mut self, status: &Status) -> bool {
        let (revision, external) = status.external();
        if revision == self.revision {
            return false;
        }
        self.revision = revision;
        let Some(sources) = external.filter(|sources| *sources != self.applied) else { return false };
        let active = self.modules.get(self.active).map(|m| m.name.clone());
        *self = Self { revision, ..Self::new(sources, revision) };
        self.active = active.and_then(|name| self.modules.iter().position(|m| m.name == name)).unwrap_or(0);
        true
    }

    /// Puts back the sources of the last generation that built, and applies them.
    pub fn revert(&mut self, status: &Status) -> bool {
        let Some(good) = status.good() else { return false };
        let active = self.active;
        self.modules = good.modules;
        self.processor = good.processor;
        self.options = good.options;
        self.active = active.min(self.modules.len() - 1);
        self.apply(status)
    }

    /// Replaces the project with a factory processor and applies it.
    pub fn load_factory(&mut self, file: &str, status: &Status) -> bool {
        let Some(entry) = crate::library::find(file) else { return false };
        self.modules = vec![SavedModule::new(entry.file, entry.source)];
        self.active = 0;
        self.processor = None;
        self.options = crate::library::node_options(entry.file);
        self.apply(status)
    }

    /// Reads a `.js` file into the shown tab (`link`: and follows it on disk).
    pub fn open_file(&mut self, path: &str, link: bool) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let absolute = std::fs::canonicalize(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string());
        let module = &mut self.modules[self.active];
        module.text = text;
        module.path = link.then_some(absolute);
        module.root = None;
        self.edited();
        Ok(())
    }

    /// Stops following the shown tab's file (its text stays).
    pub fn unlink(&mut self) {
        self.modules[self.active].path = None;
        self.modules[self.active].root = None;
    }

    /// Lets the shown tab's imports read module files anywhere under `folder`,
    /// which must hold the file the tab follows.
    pub fn set_import_root(&mut self, folder: &str) -> Result<(), String> {
        let module = &mut self.modules[self.active];
        let Some(file) = module.path.as_deref() else { return Err(format!("{} follows no file", module.name)) };
        let root = std::fs::canonicalize(folder).map_err(|e| format!("{folder}: {e}"))?;
        if !root.is_dir() {
            return Err(format!("{folder} is not a folder"));
        }
        if !std::path::Path::new(file).starts_with(&root) {
            return Err(format!("{} does not hold {file}", root.display()));
        }
        module.root = Some(root.display().to_string());
        self.edited();
        Ok(())
    }

    /// Adds an empty module tab named `name` (a `.js` path); false if the name is
    /// empty or taken.
    pub fn add_module(&mut self, name: &str) -> bool {
        let name = name.trim();
        if name.is_empty() || self.modules.iter().any(|m| m.name == name) {
            return false;
        }
        self.modules.push(SavedModule::new(name, String::new()));
        self.active = self.modules.len() - 1;
        true
    }

    /// Removes module tab `index` (never the last one).
    pub fn remove_module(&mut self, index: usize) {
        if self.modules.len() > 1 && index < self.modules.len() {
            self.modules.remove(index);
            self.active = self.active.min(self.modules.len() - 1);
            self.edited();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::state::SavedState;

    fn session() -> (Session, Status) {
        (Session::new(SavedState::default().sources(), 0), Status::default())
    }

    #[test]
    fn applying_sends_the_edit_and_clears_dirty() {
        let (mut session, status) = session();
        assert!(!session.dirty());
        session.modules[0].text.push_str("\n// edited");
        session.edited();
        assert!(session.dirty());
        assert!(!session.pause_elapsed(), "no pause yet");
        assert!(session.apply(&status));
        assert!(!session.dirty());
        match &status.take_requests()[..] {
            [Request::Apply(sources)] => assert!(sources.modules[0].text.ends_with("// edited")),
            other => panic!("unexpected requests {other:?}"),
        }
    }

    #[test]
    fn external_changes_replace_the_buffers_and_keep_the_tab() {
        let (mut session, status) = session();
        assert!(session.add_module("dsp.js"));
        assert!(!session.add_module("dsp.js"), "names are unique");
        let mut sources = session.sources();
        sources.modules[1].text = "export const k = 2;".into();
        status.set_external(sources);
        assert!(session.sync(&status));
        assert_eq!(session.active, 1);
        assert_eq!(session.modules[1].text, "export const k = 2;");
        assert!(!session.dirty());
        assert!(!session.sync(&status), "taken once");

        session.modules[0].text.push_str("// not applied yet");
        status.set_external(session.applied.clone());
        assert!(!session.sync(&status), "a restart on the applied sources keeps edits");
        assert!(session.modules[0].text.ends_with("// not applied yet"));
    }

    #[test]
    fn revert_restores_the_last_good_sources() {
        let (mut session, status) = session();
        assert!(!session.revert(&status), "nothing built yet");
        let good = session.sources();
        *status.good.lock().unwrap() = Some(good.clone());
        session.modules[0].text = "syntax error (".into();
        session.apply(&status);
        assert!(session.revert(&status));
        assert_eq!(session.sources(), good);
        assert_eq!(status.take_requests().len(), 2);
    }

    #[test]
    fn factory_files_and_disk_files_load_into_the_session() {
        let (mut session, status) = session();
        assert!(session.load_factory("biquad.js", &status));
        assert_eq!(session.modules[0].name, "biquad.js");
        assert_eq!(session.options, Value::Null);
        // A processor built for other node options comes with them.
        assert!(session.load_factory("ducker.js", &status));
        assert_eq!(session.options["numberOfInputs"], 2);
        assert!(!session.load_factory("missing.js", &status));
        let path = std::env::temp_dir().join(format!("worklet-session-{}.js", std::process::id()));
        std::fs::write(&path, "// on disk").unwrap();
        session.open_file(path.to_str().unwrap(), true).unwrap();
        assert_eq!(session.modules[0].text, "// on disk");
        assert!(session.modules[0].path.as_deref().is_some_and(|p| p.ends_with(".js")));
        session.unlink();
        assert_eq!(session.modules[0].path, None);
        assert!(session.open_file("/no/such/file.js", false).unwrap_err().contains("cannot read"));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn the_import_root_must_hold_the_linked_file() {
        let (mut session, _) = session();
        let dir = std::env::temp_dir().join(format!("worklet-session-root-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("project/synth")).unwrap();
        let file = dir.join("project/synth/main.js");
        std::fs::write(&file, "// linked").unwrap();
        assert!(session.set_import_root(dir.to_str().unwrap()).unwrap_err().contains("follows no file"));
        session.open_file(file.to_str().unwrap(), true).unwrap();
        let project = dir.join("project").canonicalize().unwrap();
        session.set_import_root(project.to_str().unwrap()).unwrap();
        assert_eq!(session.modules[0].import_root(), Some(project.clone()));
        assert!(session.set_import_root(dir.join("project/synth/main.js").to_str().unwrap()).is_err(), "not a folder");
        let elsewhere =
            std::env::temp_dir().canonicalize().unwrap().join(format!("worklet-other-{}", std::process::id()));
        std::fs::create_dir_all(&elsewhere).unwrap();
        assert!(session.set_import_root(elsewhere.to_str().unwrap()).unwrap_err().contains("does not hold"));
        session.unlink();
        assert_eq!(session.modules[0].import_root(), None);
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(elsewhere).unwrap();
    }
}
