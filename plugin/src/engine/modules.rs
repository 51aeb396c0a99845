//! `addModule` and `import` for one realm (runs on the realm's thread).
//!
//! Module sources come from memory (the plugin's saved state, the editor) or from
//! disk inside the allowed root folders. Relative imports resolve against the
//! importing module's path (or, for an in-memory module that follows a file, the
//! file's folder), as a browser resolves them against the module's URL. Anything
//! that resolves outside every root, a bare specifier, a file that is not a
//! JavaScript module (`.js`, `.mjs`) or a missing file is a clear error that names
//! the import and where it was written; nothing but module files is ever read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use boa_engine::builtins::promise::PromiseState;
use boa_engine::module::{ModuleLoader, ModuleRequest, Referrer};
use boa_engine::{Context, JsError, JsNativeError, JsResult, Module};

use super::error::ScriptError;
use super::jobs::{Checkpoint, Jobs, MICROTASK_BUDGET};
use super::parse::{never_settled, parse_module};

/// The modules of one realm and the rules for finding more.
#[derive(Debug)]
pub struct ModuleSet {
    /// Canonical root folders that disk imports must stay inside.
    roots: Vec<PathBuf>,
    /// The folder an in-memory module's relative imports resolve against, when it
    /// is not the folder of its name (a module that follows a file on disk).
    folders: RefCell<HashMap<PathBuf, PathBuf>>,
    /// In-memory sources by normalized path (checked before the disk).
    sources: RefCell<HashMap<PathBuf, Rc<str>>>,
    /// Parsed modules by normalized path, so each file is evaluated once.
    cache: RefCell<HashMap<PathBuf, Module>>,
    /// Texts of loaded modules, to locate a failing `import` in its referrer.
    texts: RefCell<HashMap<PathBuf, Rc<str>>>,
    /// The located error of the last failed import, reported instead of Boa's.
    last_error: RefCell<Option<ScriptError>>,
    order: RefCell<Vec<PathBuf>>,
}

impl ModuleSet {
    /// A module set whose disk imports must stay inside one of `roots`.
    pub fn new(roots: &[PathBuf]) -> Result<Self, String> {
        let roots = roots
            .iter()
            .map(|root| root.canonicalize().map_err(|e| format!("module root '{}': {e}", root.display())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            roots,
            folders: RefCell::default(),
            sources: RefCell::default(),
            cache: RefCell::default(),
            texts: RefCell::default(),
            last_error: RefCell::default(),
            order: RefCell::default(),
        })
    }

    /// Paths of the modules loaded so far, in load order.
    pub fn loaded_paths(&self) -> Vec<PathBuf> {
        self.order.borrow().clone()
    }

    /// Loads, links and evaluates a module file (it must lie inside the root, if any).
    pub fn add_file(self: &Rc<Self>, path: &Path, context: &mut Context) -> Result<(), ScriptError> {
        let display = path.display().to_string();
        self.check_inside_root(path).map_err(|message| ScriptError::new("Error", message).or_at(&display, 0, 0))?;
        let text: Rc<str> = std::fs::read_to_string(path)
            .map_err(|e| ScriptError::new("Error", format!("cannot read module: {e}")).or_at(&display, 0, 0))?
            .into();
        self.evaluate(normalize(path), text, context)
    }

    /// Loads, links and evaluates an in-memory module named `name` (a relative path
    /// such as `main.js`; other in-memory modules can import it by that name).
    pub fn add_source(self: &Rc<Self>, name: &str, source: &str, context: &mut Context) -> Result<(), ScriptError> {
        let path = normalize(Path::new(name));
        let text: Rc<str> = source.into();
        self.sources.borrow_mut().insert(path.clone(), text.clone());
        self.evaluate(path, text, context)
    }

    /// Makes an in-memory source importable without evaluating it.
    pub fn provide_source(&self, name: &str, source: &str) {
        self.sources.borrow_mut().insert(normalize(Path::new(name)), source.into());
    }

    /// Resolves the relative imports of the in-memory module `name` against
    /// `folder` (the folder of the file it follows) instead of its name's folder.
    pub fn set_folder(&self, name: &str, folder: &Path) {
        self.folders.borrow_mut().insert(normalize(Path::new(name)), normalize(folder));
    }

    fn evaluate(self: &Rc<Self>, path: PathBuf, text: Rc<str>, context: &mut Context) -> Result<(), ScriptError> {
        let display = path.display().to_string();
        self.last_error.borrow_mut().take();
        let cached = self.cache.borrow().get(&path).cloned();
        let module = match cached {
            Some(module) => module,
            None => {
                let module = parse_module(&text, &path, context)?;
                self.remember(&path, &module, text.clone());
                module
            }
        };
        let promise = module.load_link_evaluate(context);
        let checkpoint = Jobs::checkpoint(context);
        // The evaluation promise is the engine's, not the script's: its rejection
        // is this function's error, never an unhandled rejection.
        Jobs::forget(context, &promise.clone().into());
        match checkpoint {
            Checkpoint::Drained => {}
            Checkpoint::Failed(error) => return Err(ScriptError::from_js(&error, Some(&display), context)),
            Checkpoint::Runaway => {
                return Err(ScriptError::new(
                    "RangeError",
                    format!("the module's microtasks did not drain after {MICROTASK_BUDGET} jobs (runaway guard)"),
                )
                .or_at(&display, 0, 0));
            }
        }
        match promise.state() {
            PromiseState::Fulfilled(_) => Ok(()),
            PromiseState::Rejected(reason) => {
                if let Some(error) = self.last_error.borrow_mut().take() {
                    return Err(error);
                }
                let mut error = ScriptError::from_js(&JsError::from_opaque(reason), Some(&display), context);
                self.refine_location(&mut error);
                Err(error)
            }
            PromiseState::Pending => Err(never_settled(&text, &display)),
        }
    }

    fn remember(&self, path: &Path, module: &Module, text: Rc<str>) {
        self.cache.borrow_mut().insert(path.to_owned(), module.clone());
        self.texts.borrow_mut().insert(path.to_owned(), text);
        self.order.borrow_mut().push(path.to_owned());
    }

    fn check_inside_root(&self, path: &Path) -> Result<(), String> {
        if self.roots.is_empty() {
            return Ok(());
        }
        let canonical = path.canonicalize().map_err(|e| format!("cannot read module: {e}"))?;
        if self.roots.iter().any(|root| canonical.starts_with(root)) {
            Ok(())
        } else {
            Err(format!("'{}' is outside {}", canonical.display(), self.describe_roots()))
        }
    }

    fn describe_roots(&self) -> String {
        match &self.roots[..] {
            [] => "every module folder (none is allowed for this scope)".to_owned(),
            [root] => format!("the module root '{}'", root.display()),
            roots => {
                let list: Vec<String> = roots.iter().map(|r| format!("'{}'", r.display())).collect();
                format!("the module roots {}", list.join(", "))
            }
        }
    }

    /// Resolves `specifier` imported from `referrer` to a normalized path.
    fn resolve(&self, referrer: Option<&Path>, specifier: &str) -> Result<PathBuf, String> {
        let relative = specifier.starts_with("./") || specifier.starts_with("../");
        if !relative && !Path::new(specifier).is_absolute() {
            return Err(format!(
                "bare module specifier '{specifier}' is not supported; import files with a relative path such as './{specifier}'"
            ));
        }
        let folder = referrer.and_then(|r| self.folders.borrow().get(r).cloned());
        let base = folder.as_deref().or_else(|| referrer.and_then(Path::parent)).unwrap_or(Path::new(""));
        let joined = base.join(specifier);
        let escapes_top = lexical_escape(&joined);
        let path = normalize(&joined);
        if self.sources.borrow().contains_key(&path) {
            if escapes_top {
                return Err(format!("'{specifier}' resolves above the project's top folder"));
            }
            return Ok(path);
        }
        if self.roots.is_empty() {
            return Err(format!("no module named '{}' (no module folder is allowed for this scope)", path.display()));
        }
        let is_module = path.extension().is_some_and(|e| e == "js" || e == "mjs");
        if !is_module {
            return Err(format!(
                "'{}' is not a JavaScript module file (only .js and .mjs files are imported)",
                path.display()
            ));
        }
        let canonical = path.canonicalize().map_err(|_| format!("cannot find module '{}'", path.display()))?;
        if !canonical.is_file() {
            return Err(format!("'{}' is not a file", path.display()));
        }
        if self.roots.iter().any(|root| canonical.starts_with(root)) {
            Ok(path)
        } else {
            Err(format!("'{specifier}' resolves to '{}', outside {}", canonical.display(), self.describe_roots()))
        }
    }

    fn load(&self, path: &Path, context: &mut Context) -> Result<Module, ScriptError> {
        if let Some(module) = self.cache.borrow().get(path) {
            return Ok(module.clone());
        }
        let display = path.display().to_string();
        let memory = self.sources.borrow().get(path).cloned();
        let text: Rc<str> = match memory {
            Some(text) => text,
            None => std::fs::read_to_string(path)
                .map_err(|e| ScriptError::new("Error", format!("cannot read module: {e}")).or_at(&display, 0, 0))?
                .into(),
        };
        let module = parse_module(&text, path, context)?;
        self.remember(path, &module, text);
        Ok(module)
    }

    /// Narrows a location that Boa could only place at the start of the enclosing
    /// function. Boa 0.22 maps positions for calls, property accesses, assignments
    /// and `throw`, but not for identifier lookups or loop back-edges; for a
    /// `ReferenceError` (`x is not defined`) and for the loop runaway guard, the
    /// first whole-word occurrence of the identifier or loop keyword after the
    /// reported position is the real one.
    pub(crate) fn refine_location(&self, error: &mut ScriptError) {
        if error.filename.is_empty() {
            return;
        }
        let needles: Vec<&str> = if error.name == "ReferenceError" {
            match error.message.strip_suffix(" is not defined") {
                Some(identifier) => vec![identifier],
                None => return,
            }
        } else if error.message.contains("iteration loops") {
            vec!["while", "for", "do"]
        } else {
            return;
        };
        let texts = self.texts.borrow();
        let Some(text) = texts.get(Path::new(&error.filename)) else { return };
        let Some(start) = offset_of(text, error.lineno.max(1), error.colno.max(1)) else { return };
        let found = needles.iter().filter_map(|needle| find_word(&text[start..], needle)).min();
        if let Some(found) = found {
            let (line, col) = line_col(text, start + found);
            error.lineno = line;
            error.colno = col;
        }
    }

    /// Where `specifier` is written in the referrer's text: `(line, col)`, 1-based.
    fn locate_import(&self, referrer: &Path, specifier: &str) -> (u32, u32) {
        let texts = self.texts.borrow();
        let Some(text) = texts.get(referrer) else { return (0, 0) };
        ['\'', '"', '`']
            .iter()
            .find_map(|quote| text.find(&format!("{quote}{specifier}{quote}")))
            .map_or((0, 0), |offset| line_col(text, offset))
    }
}

impl ModuleLoader for ModuleSet {
    async fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        request: ModuleRequest,
        context: &RefCell<&mut Context>,
    ) -> JsResult<Module> {
        let specifier = request.specifier().to_std_string_escaped();
        let referrer_path = referrer.path().map(Path::to_path_buf);
        let result = self.resolve(referrer_path.as_deref(), &specifier).map_err(|message| {
            let error = ScriptError::new("TypeError", format!("import '{specifier}': {message}"));
            match &referrer_path {
                Some(referrer) => {
                    let (line, col) = self.locate_import(referrer, &specifier);
                    error.or_at(&referrer.display().to_string(), line, col)
                }
                None => error,
            }
        });
        let loaded = result.and_then(|path| self.load(&path, &mut context.borrow_mut()));
        loaded.map_err(|error| {
            let message = error.to_string();
            self.last_error.borrow_mut().replace(error);
            JsNativeError::typ().with_message(message).into()
        })
    }
}

/// Byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: u32, col: u32) -> Option<usize> {
    let line_start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line as usize - 2).map(|(i, _)| i + 1)? };
    let rest = &text[line_start..];
    let column = rest.char_indices().nth(col.saturating_sub(1) as usize).map_or(rest.len(), |(i, _)| i);
    Some(line_start + column)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}

/// Offset of the first occurrence of `word` not inside a longer identifier.
fn find_word(haystack: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    haystack.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = haystack[..i].chars().next_back().is_none_or(|c| !is_ident(c));
        let after = haystack[i + word.len()..].chars().next().is_none_or(|c| !is_ident(c));
        before && after
    })
}

/// Removes `.` and resolves `..` lexically (`a/./b/../c` becomes `a/c`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a relative path climbs above where it starts (`../x`, `a/../../x`).
fn lexical_escape(path: &Path) -> bool {
    let mut depth = 0i32;
    for component in path.components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(normalize(Path::new("a/./b/../c.js")), PathBuf::from("a/c.js"));
        assert_eq!(normalize(Path::new("../x.js")), PathBuf::from("../x.js"));
    }

    #[test]
    fn escaping_paths_are_detected() {
        assert!(lexical_escape(Path::new("../x.js")));
        assert!(lexical_escape(Path::new("a/../../x.js")));
        assert!(!lexical_escape(Path::new("a/../x.js")));
    }

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "ab\nçd ef\n";
        let offset = offset_of(text, 2, 4).unwrap();
        assert_eq!(&text[offset..offset + 2], "ef");
        assert_eq!(line_col(text, offset), (2, 4));
    }

    #[test]
    fn words_match_whole_identifiers_only() {
        assert_eq!(find_word("forEach(x); for (;;)", "for"), Some(12));
        assert_eq!(find_word("$x x_ x", "x"), Some(6));
        assert_eq!(find_word("xx", "x"), None);
    }

    #[test]
    fn bare_specifiers_are_rejected_with_advice() {
        let set = ModuleSet::new(&[]).unwrap();
        let error = set.resolve(Some(Path::new("main.js")), "dsp.js").unwrap_err();
        assert!(error.contains("'./dsp.js'"), "{error}");
    }
}
