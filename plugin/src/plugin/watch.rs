//! Follows the files that modules are linked to (control thread). Saving a
//! linked file in any editor changes its modification time or size; the new
//! text then replaces the module's copy and the plugin reloads. A file that
//! disappears is reported once and the saved copy keeps playing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::state::SavedModule;

/// How often linked files are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(200);

/// What a look at the linked files found.
#[derive(Debug, PartialEq, Eq)]
pub enum FileChange {
    /// Module `index`'s file has new text.
    Changed {
        /// The module.
        index: usize,
        /// The file's text.
        text: String,
    },
    /// Module `index`'s file cannot be read (reported once until it is back).
    Unreadable {
        /// The module.
        index: usize,
        /// The path and the reason.
        error: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Stamp(Option<SystemTime>, u64),
    Unreadable,
}

/// Modification stamps of the linked files.
#[derive(Debug, Default)]
pub struct Watcher {
    seen: HashMap<PathBuf, Seen>,
    last: Option<Instant>,
}

impl Watcher {
    /// Looks at the linked files if [`WATCH_INTERVAL`] has passed.
    pub fn poll(&mut self, modules: &[SavedModule]) -> Vec<FileChange> {
        if self.last.is_some_and(|last| last.elapsed() < WATCH_INTERVAL) {
            return Vec::new();
        }
        self.last = Some(Instant::now());
        self.check(modules)
    }

    /// Looks at every linked file now. A file seen for the first time counts as
    /// changed when its text differs from the module's copy.
    pub fn check(&mut self, modules: &[SavedModule]) -> Vec<FileChange> {
        let mut changes = Vec::new();
        self.seen.retain(|path, _| modules.iter().any(|m| m.path.as_deref().map(PathBuf::from).as_ref() == Some(path)));
        for (index, module) in modules.iter().enumerate() {
            let Some(path) = module.path.as_deref().map(PathBuf::from) else { continue };
            let now = match std::fs::metadata(&path) {
                Ok(meta) => Seen::Stamp(meta.modified().ok(), meta.len()),
                Err(_) => Seen::Unreadable,
            };
            if self.seen.get(&path) == Some(&now) {
                continue;
            }
            self.seen.insert(path.clone(), now);
            match std::fs::read_to_string(&path) {
                Ok(text) if text != module.text => changes.push(FileChange::Changed { index, text }),
                Ok(_) => {}
                Err(error) => {
                    self.seen.insert(path.clone(), Seen::Unreadable);
                    changes.push(FileChange::Unreadable { index, error: format!("{}: {error}", path.display()) });
                }
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linked(path: &std::path::Path, text: &str) -> SavedModule {
        SavedModule { path: Some(path.display().to_string()), ..SavedModule::new("main.js", text) }
    }

    #[test]
    fn a_saved_file_is_picked_up_once_and_a_missing_one_reported_once() {
        let dir = std::env::temp_dir().join(format!("worklet-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("main.js");
        std::fs::write(&path, "one").unwrap();
        let mut watcher = Watcher::default();
        let mut modules = vec![linked(&path, "one")];
        assert_eq!(watcher.check(&modules), []);
        std::fs::write(&path, "two, longer").unwrap();
        assert_eq!(watcher.check(&modules), [FileChange::Changed { index: 0, text: "two, longer".into() }]);
        modules[0].text = "two, longer".into();
        assert_eq!(watcher.check(&modules), [], "an unchanged stamp is not read again");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(watcher.check(&modules)[..], [FileChange::Unreadable { index: 0, .. }]));
        assert_eq!(watcher.check(&modules), [], "reported once");
        std::fs::write(&path, "three").unwrap();
        assert_eq!(watcher.check(&modules), [FileChange::Changed { index: 0, text: "three".into() }]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
